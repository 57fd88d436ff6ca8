package analyze

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/parse"
)

// Output formats.
const (
	OutputTable = "table"
	OutputJSON  = "json"
)

// Options are the settings of one analysis. Start from DefaultOptions.
type Options struct {
	// LogFormat is the flow log format of inputs without an S3 header line; "" is the default
	// (version 2) format. Any spelling parse.Compile accepts.
	LogFormat string
	// Output is OutputTable or OutputJSON.
	Output string
	// MaxPorts, MaxInterfaces and TopK are the aggregator's caps: high by default, so that the
	// answers of an offline analysis are exact.
	MaxPorts, MaxInterfaces, TopK int
	// Window is how far back from the newest record the top lists (talkers, rejected sources,
	// scan candidates) reach; older records are still in every count, and counted as late.
	Window time.Duration
	// ScanPortThreshold is the number of distinct rejected destination ports that makes a source
	// a scan candidate.
	ScanPortThreshold int
	// MaxLineBytes is the longest line read; longer lines are counted as malformed.
	MaxLineBytes int
	// MaxExamples is how many malformed lines are reported with their line number and reason.
	MaxExamples int
	// Files are the inputs; none, or "-", is standard input.
	Files []string
}

// DefaultOptions returns the defaults of `flowd analyze`.
func DefaultOptions() Options {
	return Options{
		Output:            OutputTable,
		MaxPorts:          20_000,
		MaxInterfaces:     100_000,
		TopK:              10,
		Window:            7 * 24 * time.Hour,
		ScanPortThreshold: 20,
		MaxLineBytes:      64 << 10,
		MaxExamples:       10,
	}
}

// bucketWidth is the window resolution of analyze: the top lists cover one window, so coarse
// buckets keep the ring small (the per-bucket port counts are dense, see internal/aggregate).
const bucketWidth = 6 * time.Hour

// batchSize is how many records are parsed before they are added under one lock.
const batchSize = 1024

// UsageError is a bad option or format string: the command line must change.
type UsageError struct{ Err error }

// Error implements error.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *UsageError) Unwrap() error { return e.Err }

// InputError is an input that could not be read.
type InputError struct {
	Name string // file name, or "-" for standard input
	Err  error
}

// Error implements error.
func (e *InputError) Error() string { return fmt.Sprintf("read %s: %v", e.Name, e.Err) }

// Unwrap returns the cause.
func (e *InputError) Unwrap() error { return e.Err }

// wallClock is the real clock: analyze runs on past records, the clock only guards against
// records from the future.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// Run reads the inputs, aggregates them and writes the summary to stdout. Malformed lines are
// reported in the summary, not as an error; an unreadable input or a bad option is an error
// (*InputError, *UsageError). stderr is not written to: Main reports the error.
func Run(ctx context.Context, opts Options, stdin io.Reader, stdout io.Writer) error {
	if opts.Output != OutputTable && opts.Output != OutputJSON {
		return &UsageError{fmt.Errorf("--output %q: must be %q or %q", opts.Output, OutputTable, OutputJSON)}
	}
	spec := opts.LogFormat
	if spec == "" {
		spec = parse.DefaultFormat
	}
	format, err := parse.Compile(spec)
	if err != nil {
		return &UsageError{fmt.Errorf("--log-format: %w", err)}
	}
	if opts.Window < bucketWidth || opts.Window%bucketWidth != 0 {
		return &UsageError{fmt.Errorf("--window %s: must be a positive multiple of %s", opts.Window, bucketWidth)}
	}
	cfg := aggregate.DefaultConfig()
	cfg.BucketWidth = bucketWidth
	cfg.Windows = []time.Duration{opts.Window}
	cfg.AllowedLateness = 0
	cfg.MaxPorts, cfg.MaxInterfaces, cfg.TopK = opts.MaxPorts, opts.MaxInterfaces, opts.TopK
	cfg.HeavyHitterCapacity = max(64*opts.TopK, 1000) // offline: memory is cheap, accuracy is not
	cfg.ScanPortThreshold = opts.ScanPortThreshold
	agg, err := aggregate.New(cfg, wallClock{})
	if err != nil {
		return &UsageError{err}
	}
	a := &analysis{opts: opts, agg: agg, batch: make([]parse.Record, batchSize), reasons: map[string]uint64{}}
	files := opts.Files
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.readFile(name, format, stdin); err != nil {
			return err
		}
	}
	if s := agg.Snapshot(); s.HasEvents {
		agg.Advance(s.Newest.Add(bucketWidth)) // close the newest bucket: every record counts
	}
	rep := a.report(agg.Snapshot())
	if opts.Output == OutputJSON {
		return writeJSON(stdout, rep)
	}
	return writeTable(stdout, rep)
}

// readFile analyses one input.
func (a *analysis) readFile(name string, format *parse.Format, stdin io.Reader) error {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return &InputError{Name: name, Err: err}
		}
		defer f.Close()
		r = f
	}
	in, err := openInput(r)
	if err != nil {
		return &InputError{Name: name, Err: err}
	}
	fs := &fileState{analysis: a, info: FileInfo{Name: name, Format: format.String()}, format: format}
	if err := readLines(in, a.opts.MaxLineBytes, fs); err != nil {
		fs.flush()
		return &InputError{Name: name, Err: err}
	}
	a.files = append(a.files, fs.info)
	return nil
}

// analysis is the state of one Run.
type analysis struct {
	opts      Options
	agg       *aggregate.Aggregator
	batch     []parse.Record
	n         int // records in batch
	records   uint64
	malformed uint64
	reasons   map[string]uint64
	examples  []MalformedLine
	files     []FileInfo
}

// fileState is the lineSink of one input.
type fileState struct {
	*analysis
	info    FileInfo
	format  *parse.Format
	started bool // a non-blank line was seen (the header can only be the first)
}

func (fs *fileState) line(no int, text string) {
	fs.info.Lines++
	if !fs.started {
		if isBlank(text) {
			return
		}
		fs.started = true
		if f := headerFormat(text); f != nil {
			fs.format = f
			fs.info.Format, fs.info.Header = f.String(), true
			return
		}
	}
	if isBlank(text) {
		return
	}
	r := &fs.batch[fs.n]
	if err := fs.format.Parse(text, r); err != nil {
		reason := "unknown"
		var pe *parse.Error
		if errors.As(err, &pe) {
			reason = pe.Reason()
		}
		fs.bad(no, reason, err.Error())
		return
	}
	fs.info.Records++
	fs.records++
	fs.n++
	if fs.n == len(fs.batch) {
		fs.flush()
	}
}

func (fs *fileState) tooLong(no int) {
	fs.info.Lines++
	fs.bad(no, "line_too_long", fmt.Sprintf("line longer than %d bytes", fs.opts.MaxLineBytes))
}

func (fs *fileState) bad(no int, reason, msg string) {
	fs.info.Malformed++
	fs.malformed++
	fs.reasons[reason]++
	if len(fs.examples) < fs.opts.MaxExamples {
		fs.examples = append(fs.examples, MalformedLine{File: fs.info.Name, Line: no, Reason: reason, Error: msg})
	}
}

func (fs *fileState) flush() {
	if fs.n > 0 {
		fs.agg.AddBatch(fs.batch[:fs.n])
		fs.n = 0
	}
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
