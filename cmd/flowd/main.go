// Command flowd reads VPC Flow Logs from CloudWatch Logs and serves them as Prometheus metrics.
//
//	flowd run --config.file=flowd.yaml   the daemon
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

func run(args []string, stdout, stderr io.Writer) int {
	// analyze has flags of its own (standard flag package): hand it the raw arguments.
	if len(args) > 0 && args[0] == "analyze" {
		return analyze.Main(args[1:], os.Stdin, stdout, stderr)
	}
	a := kingpin.New("flowd", "VPC Flow Logs from CloudWatch Logs as Prometheus metrics.")
	a.UsageWriter(stderr).ErrorWriter(stderr).HelpFlag.Short('h')
	a.Terminate(nil)
	common := addCommonFlags(a)
	commands := map[string]command{
		"run":          newRunCommand(a.Command("run", "Run the daemon.").Default(), common, stderr),
		"demo":         newDemoCommand(a.Command("demo", "Run a simulated VPC and a local CloudWatch Logs emulator with the real pipeline: metrics in seconds, no AWS account."), common, stdout, stderr),
		"check-config": newCheckConfigCommand(a.Command("check-config", "Validate config files and print the effective config (secrets masked)."), stdout, stderr),
		"version":      newVersionCommand(a.Command("version", "Print the version."), stdout),
		"healthcheck":  newHealthcheckCommand(a.Command("healthcheck", "Exit 0 if a running flowd answers its health endpoint (for container health checks)."), stdout),
	}
	a.Command("analyze", "Summarise flow log files or standard input offline (flowd analyze -h for its flags).")
	selected, err := a.Parse(args)
	if err != nil {
		a.Errorf("%v", err)
		return 2
	}
	cmd, ok := commands[selected]
	if !ok {
		return 0 // --help
	}
	return cmd.exec()
}
