// Command flowd reads VPC Flow Logs from CloudWatch Logs and serves them as Prometheus metrics.
//
//	flowd run --config.file=flowd.yaml   the daemon (--config.env=NAME: the config from a variable)
//	flowd demo                           a simulated VPC, a local CloudWatch Logs emulator, the real pipeline
//	flowd analyze FILE...                offline summary of flow log files
//	flowd check-config FILE...           validate configs and print the effective ones
//	flowd version
//	flowd healthcheck                    exit 0 if a running flowd is healthy (container health checks)
package main

import (
	"io"
	"os"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flowd-dev/flowd/internal/analyze"
)

// version and revision are set at build time:
// go build -ldflags "-X main.version=1.0.0 -X main.revision=$(git rev-parse HEAD)" ./cmd/flowd
var (
	version  = "dev"
	revision = ""
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// command is a subcommand: its flags are registered on its clause; exec runs it.
type command interface {
	exec() int
}

// commandFunc is a command that is one function.
type commandFunc func() int

func (f commandFunc) exec() int { return f() }

func run(args []string, stdout, stderr io.Writer) int {
	// An argument starting with @ is a file name (analyze @x.log), never a file of arguments:
	// package analyze switches kingpin's @file expansion off once, in its init.
	a := kingpin.New("flowd", "VPC Flow Logs from CloudWatch Logs as Prometheus metrics.")
	a.UsageWriter(stdout).ErrorWriter(stderr).HelpFlag.Short('h')
	a.Version(versionLine())
	// Help (every form), --version and the help command print, then call Terminate (with 1 for
	// help on an unknown command); the parse then goes on, so nothing may run after that.
	terminated, failed := false, false
	a.Terminate(func(code int) { terminated, failed = true, failed || code != 0 })
	common := addCommonFlags(a)
	commands := map[string]command{
		"run":          newRunCommand(a.Command("run", "Run the daemon.").Default(), common, stderr),
		"demo":         newDemoCommand(a.Command("demo", "Run a simulated VPC and a local CloudWatch Logs emulator with the real pipeline: metrics in seconds, no AWS account."), common, stdout, stderr),
		"analyze":      commandFunc(analyze.Register(a.Command("analyze", analyze.Help), os.Stdin, stdout, stderr)),
		"check-config": newCheckConfigCommand(a.Command("check-config", "Validate config files and print the effective config (secrets masked)."), stdout, stderr),
		"version":      newVersionCommand(a.Command("version", "Print the version."), stdout),
		"healthcheck":  newHealthcheckCommand(a.Command("healthcheck", "Exit 0 if a running flowd answers its health endpoint (for container health checks)."), stdout),
	}
	selected, err := a.Parse(upgradeAnalyzeArgs(a, args, stderr))
	switch {
	case failed:
		return 2
	case terminated:
		return 0
	case err != nil:
		a.Errorf("%v", err)
		return 2
	}
	return commands[selected].exec()
}
