package analyze

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flowd-dev/flowd/internal/parse"
)

// defaultSpec is the canonical spelling of the default format.
var defaultSpec = parse.MustCompile(parse.DefaultFormat).String()

// Exit codes of the command. A signal ends it with 128 + the signal's number (130 for SIGINT,
// 143 for SIGTERM), as a shell reports it.
const (
	ExitOK    = 0 // the summary was printed, malformed lines included
	ExitError = 1 // an input could not be read (the summary of the others was printed)
	ExitUsage = 2 // bad flags or format string
)

// Help is the one-line description of the command.
const Help = "Summarise flow log files or standard input offline: totals, top ports, rejects by interface, top talkers, scan candidates."

// Clause is where the command's flags and arguments go: a kingpin command (flowd's CLI) or a
// kingpin application (Main).
type Clause interface {
	Flag(name, help string) *kingpin.FlagClause
	Arg(name, help string) *kingpin.ArgClause
}

// Register adds the flags and arguments of `flowd analyze` to c and returns the function that
// runs the command with what was parsed (call it after the parse) and returns its exit code.
// The command stops at once on SIGINT or SIGTERM, even while blocked reading a pipe or FIFO.
func Register(c Clause, stdin io.Reader, stdout, stderr io.Writer) func() int {
	opts := DefaultOptions()
	opts.Warnings = stderr
	deprecated := false
	c.Flag("record-format", "Flow log format of inputs without an S3 header line: the flow log's log_format (${version} ${account-id} ...) or bare field names. Repeat for inputs in several formats. Default: the version 2 default format.").
		PlaceHolder("FORMAT").SetValue(&appendValue{dst: &opts.LogFormats})
	c.Flag("log-format", "Deprecated spelling of --record-format.").Hidden().
		SetValue(&appendValue{dst: &opts.LogFormats, set: func() { deprecated = true }})
	c.Flag("output", "Output: table or json.").Default(opts.Output).StringVar(&opts.Output)
	c.Flag("max-ports", "Distinct (protocol, service port) keys before folding into other.").Default(strconv.Itoa(opts.MaxPorts)).IntVar(&opts.MaxPorts)
	c.Flag("max-interfaces", "Distinct interface ids before folding into other.").Default(strconv.Itoa(opts.MaxInterfaces)).IntVar(&opts.MaxInterfaces)
	c.Flag("top", "Entries in each top list.").Default(strconv.Itoa(opts.TopK)).IntVar(&opts.TopK)
	c.Flag("window", "Reach of the top lists back from the newest record (a multiple of 6h).").Default(opts.Window.String()).DurationVar(&opts.Window)
	c.Flag("scan-ports", "Distinct rejected destination ports that make a source a scan candidate.").Default(strconv.Itoa(opts.ScanPortThreshold)).IntVar(&opts.ScanPortThreshold)
	c.Flag("max-line-bytes", "Longest line read; longer lines are counted as malformed.").Default(strconv.Itoa(opts.MaxLineBytes)).IntVar(&opts.MaxLineBytes)
	c.Arg("file", "Flow log files, plain or gzip (an S3 header line sets the format); none, or -, reads standard input.").StringsVar(&opts.Files)
	return func() int {
		if deprecated {
			fmt.Fprintln(stderr, "flowd analyze: --log-format is deprecated, use --record-format (--log.format is the format of flowd's own log)")
		}
		for i, f := range opts.Files {
			if f == "" { // kingpin hands a lone "-" over as ""
				opts.Files[i] = "-"
			}
		}
		return runMain(opts, stdin, stdout, stderr)
	}
}

// kingpin's @file expansion is a package global: it is switched off once, here, because an
// argument @x.log is an input to analyze, not a file of arguments, and because Main runs
// concurrently in tests (a write per call would race).
func init() { kingpin.EnableFileExpansion = false }

// Main is `flowd analyze` on its own: it parses args (the arguments after the subcommand
// name), runs the analysis and returns the exit code. flowd's CLI uses Register instead; Main
// serves tests and scripts that call the package directly. Usage goes to stderr.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := kingpin.New("flowd analyze", Help)
	app.UsageWriter(stderr).ErrorWriter(stderr).HelpFlag.Short('h')
	helped := false
	app.Terminate(func(int) { helped = true })
	exec := Register(app, stdin, stdout, stderr)
	_, err := app.Parse(UpgradeArgs(args, stderr))
	switch {
	case helped:
		return ExitOK
	case err != nil:
		fmt.Fprintf(stderr, "flowd analyze: %v\n", err)
		return ExitUsage
	}
	return exec()
}

// UpgradeArgs rewrites the single-dash long flags of the old command line (standard flag
// package: -output json, -log-format=...) into kingpin's double-dash form, with a deprecation
// warning for each. args are the arguments after the subcommand name; "--" ends the flags.
func UpgradeArgs(args []string, stderr io.Writer) []string {
	var out []string
	for i, arg := range args {
		if arg == "--" {
			return append(out, args[i:]...)
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(arg, "-"), "=")
		if len(arg) > 2 && arg[0] == '-' && arg[1] != '-' && legacyFlag(name) {
			fmt.Fprintf(stderr, "flowd analyze: -%s is deprecated, use --%s\n", name, name)
			arg = "-" + arg
		}
		out = append(out, arg)
	}
	return out
}

// legacyFlag reports whether name was a flag of the old command line.
func legacyFlag(name string) bool {
	switch name {
	case "log-format", "output", "max-ports", "max-interfaces", "top", "window", "scan-ports", "max-line-bytes", "help":
		return true
	}
	return false
}

// appendValue is a repeatable string flag that appends to dst; set, if any, is told of each use.
type appendValue struct {
	dst *[]string
	set func()
}

func (v *appendValue) Set(s string) error {
	*v.dst = append(*v.dst, s)
	if v.set != nil {
		v.set()
	}
	return nil
}

func (v *appendValue) String() string { return strings.Join(*v.dst, ", ") }

// IsCumulative tells kingpin the flag may be repeated.
func (v *appendValue) IsCumulative() bool { return true }

// runMain runs the analysis until it ends or a signal stops it, reports errors on stderr and
// returns the exit code.
func runMain(opts Options, stdin io.Reader, stdout, stderr io.Writer) int {
	if opts.MaxLineBytes < 1 {
		fmt.Fprintf(stderr, "flowd analyze: --max-line-bytes %d: must be positive\n", opts.MaxLineBytes)
		return ExitUsage
	}
	// A read blocked in open(2) or read(2) (a FIFO without a writer, a silent pipe) cannot be
	// interrupted, so a signal does not wait for Run: it cancels it and returns, and the process
	// exits with the reader still blocked.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opts, stdin, stdout) }()
	var err error
	select {
	case err = <-done:
	case sig := <-sigs:
		fmt.Fprintf(stderr, "flowd analyze: stopped by %v, no summary\n", sig)
		if s, ok := sig.(syscall.Signal); ok {
			return 128 + int(s)
		}
		return ExitError
	}
	if err == nil {
		return ExitOK
	}
	var failed *InputsError
	if errors.As(err, &failed) {
		for _, e := range failed.Errs {
			fmt.Fprintf(stderr, "flowd analyze: %v\n", e)
		}
		fmt.Fprintf(stderr, "flowd analyze: %d of %d inputs failed; the summary counts what was read of them\n", len(failed.Errs), failed.Inputs)
		return ExitError
	}
	fmt.Fprintf(stderr, "flowd analyze: %v\n", err)
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitError
}
