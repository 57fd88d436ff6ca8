package analyze

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/flowd-dev/flowd/internal/parse"
)

// defaultSpec is the canonical spelling of the default format.
var defaultSpec = parse.MustCompile(parse.DefaultFormat).String()

// Exit codes of Main.
const (
	ExitOK    = 0 // the summary was printed, malformed lines included
	ExitError = 1 // an input could not be read
	ExitUsage = 2 // bad flags or format string
)

// Main is `flowd analyze`: it parses args (the arguments after the subcommand name) with the
// standard flag package, runs the analysis and returns the exit code. Errors go to stderr.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts := DefaultOptions()
	fs := flag.NewFlagSet("flowd analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Func("log-format", "flow log format of inputs without an S3 header line (default: the version 2 default format)", func(v string) error {
		opts.LogFormats = append(opts.LogFormats, v)
		return nil
	})
	fs.StringVar(&opts.Output, "output", opts.Output, "output: table or json")
	fs.IntVar(&opts.MaxPorts, "max-ports", opts.MaxPorts, "distinct (protocol, service port) keys before folding into other")
	fs.IntVar(&opts.MaxInterfaces, "max-interfaces", opts.MaxInterfaces, "distinct interface ids before folding into other")
	fs.IntVar(&opts.TopK, "top", opts.TopK, "entries in each top list")
	fs.DurationVar(&opts.Window, "window", opts.Window, "reach of the top lists back from the newest record (a multiple of 6h)")
	fs.IntVar(&opts.ScanPortThreshold, "scan-ports", opts.ScanPortThreshold, "distinct rejected destination ports that make a source a scan candidate")
	fs.IntVar(&opts.MaxLineBytes, "max-line-bytes", opts.MaxLineBytes, "longest line read; longer lines are counted as malformed")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: flowd analyze [flags] [FILE...]\n\nReads flow log records from FILEs (plain or gzip; an S3 header line sets the format) or standard input\nand prints totals, top ports, rejects by interface, top talkers, top rejected sources and scan candidates.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if opts.MaxLineBytes < 1 {
		fmt.Fprintf(stderr, "flowd analyze: --max-line-bytes %d: must be positive\n", opts.MaxLineBytes)
		return ExitUsage
	}
	opts.Files = fs.Args()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := Run(ctx, opts, stdin, stdout)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "flowd analyze: %v\n", err)
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitError
}
