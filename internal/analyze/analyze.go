package analyze

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
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
	// LogFormats are the flow log formats of inputs without an S3 header line; none is the
	// default (version 2) format. Any spelling parse.Compile accepts. With several, each line
	// is read in the one whose field count it has, as the daemon does (parse.Matcher), so
	// their field counts must differ.
	LogFormats []string
	// Warnings receives one line per warning about a format (a misspelled field, a format that
	// cannot count flows), from --log-format or an S3 header; nil discards them. The report
	// lists them too.
	Warnings io.Writer
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
		Warnings:          os.Stderr,
	}
}

// bucketWidth is the window resolution of analyze: the top lists cover one window, so coarse
// buckets keep the ring small (the per-bucket port counts are dense, see internal/aggregate).
const bucketWidth = 6 * time.Hour

// batchSize is how many records a worker parses before it hands them to the counting goroutine.
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
	specs := opts.LogFormats
	if len(specs) == 0 {
		specs = []string{parse.DefaultFormat}
	}
	formats := make([]*parse.Format, len(specs))
	for i, spec := range specs {
		f, err := parse.Compile(spec)
		if err != nil {
			return &UsageError{fmt.Errorf("--log-format %q: %w", spec, err)}
		}
		formats[i] = f
	}
	matcher, err := parse.NewMatcher(formats...)
	if err != nil {
		return &UsageError{fmt.Errorf("--log-format: %w: formats are told apart by their field count, so each needs a different number of fields", err)}
	}
	if opts.Window < bucketWidth || opts.Window%bucketWidth != 0 {
		return &UsageError{fmt.Errorf("--window %s: must be a positive multiple of %s", opts.Window, bucketWidth)}
	}
	cfg := aggregate.DefaultConfig()
	cfg.BucketWidth = bucketWidth
	cfg.Windows = []time.Duration{opts.Window}
	cfg.AllowedLateness = 0
	cfg.MaxPorts, cfg.MaxInterfaces, cfg.TopK = opts.MaxPorts, opts.MaxInterfaces, opts.TopK
	cfg.HeavyHitterCapacity = max(16*opts.TopK, 128) // offline: a larger sketch for better top lists
	cfg.ScanPortThreshold = opts.ScanPortThreshold
	agg, err := aggregate.New(cfg, wallClock{})
	if err != nil {
		return &UsageError{err}
	}
	files := opts.Files
	if len(files) == 0 {
		files = []string{"-"}
	}
	a := &analysis{opts: opts, agg: agg, files: make([]FileInfo, len(files)), warned: map[string]bool{}}
	for _, f := range formats {
		a.warn("--log-format", f)
	}
	if err := a.run(ctx, files, matcher, stdin); err != nil {
		return err
	}
	if s := agg.Snapshot(); s.HasEvents {
		agg.Advance(s.Newest.Add(bucketWidth)) // close the newest bucket: every record counts
	}
	rep := a.report(agg.Snapshot())
	if opts.Output == OutputJSON {
		err = writeJSON(stdout, rep)
	} else {
		err = writeTable(stdout, rep)
	}
	return cmp.Or(err, a.failures())
}

// analysis is the state of one Run.
type analysis struct {
	opts  Options
	agg   *aggregate.Aggregator
	files []FileInfo // Name, Format, Header and Lines are the reader's; counts come from tallies

	// Format warnings, each once (by format and warning), in the order found; the reader's.
	warnings []string
	warned   map[string]bool

	// Filled by run from the tallies.
	records   uint64
	malformed uint64
	reasons   map[string]uint64
	examples  []MalformedLine
	failed    []error // the inputs that could not be read (see inputFailed)
}

// warn records the warnings of format f, found in where (an input name or "--log-format"),
// once per format and warning, and writes new ones to opts.Warnings.
func (a *analysis) warn(where string, f *parse.Format) {
	for _, w := range f.Warnings() {
		msg := fmt.Sprintf("log format %q: %s", f.String(), w)
		if a.warned[msg] {
			continue
		}
		a.warned[msg] = true
		a.warnings = append(a.warnings, where+": "+msg)
		if a.opts.Warnings != nil {
			fmt.Fprintf(a.opts.Warnings, "flowd analyze: warning: %s: %s\n", where, msg)
		}
	}
}

// chunk is a run of complete lines of one input, handed to a worker, with the formats its
// lines are read in: format alone, or, when it is nil, the one of matcher that fits each line.
type chunk struct {
	file    int
	format  *parse.Format
	matcher *parse.Matcher
	text    string
	first   int // number of the first line of text
}

// tally is what one goroutine counted; run merges them.
type tally struct {
	perFile  []FileInfo // Records and Malformed by file index
	reasons  map[string]uint64
	examples []MalformedLine // its first MaxExamples, in input order
}

func (t *tally) bad(opts *Options, file int, name string, no int, reason, msg string) {
	for len(t.perFile) <= file {
		t.perFile = append(t.perFile, FileInfo{})
	}
	t.perFile[file].Malformed++
	t.reasons[reason]++
	if len(t.examples) < opts.MaxExamples {
		t.examples = append(t.examples, MalformedLine{File: name, Line: no, Reason: reason, Error: msg})
	}
}

// run reads the inputs in order on this goroutine, parses their chunks on a pool of workers and
// counts the parsed batches on one more goroutine, the only one that touches the aggregator.
// With the aggregator behind a lock shared by the workers, they took turns at it and spun on the
// lock; here parsing and counting overlap, and the workers never wait for each other.
func (a *analysis) run(ctx context.Context, names []string, matcher *parse.Matcher, stdin io.Reader) error {
	workers := min(runtime.GOMAXPROCS(0), 4)
	chunks := make(chan chunk, 2*workers)
	// Batches go round: a worker fills a free one, the counter adds it and frees it. Two per
	// worker let a worker parse while its last batch is counted.
	full := make(chan []parse.Record, 2*workers)
	free := make(chan []parse.Record, 2*workers)
	for range 2 * workers {
		free <- make([]parse.Record, batchSize)
	}
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		for batch := range full {
			a.agg.AddBatch(batch)
			free <- batch[:cap(batch)]
		}
	}()
	tallies := make([]*tally, workers+1) // the last one is the reader's
	var wg sync.WaitGroup
	for i := range workers {
		t := &tally{reasons: map[string]uint64{}}
		tallies[i] = t
		wg.Go(func() { a.work(chunks, full, free, t) })
	}
	reader := &tally{reasons: map[string]uint64{}}
	tallies[workers] = reader
	var err error
	for i, name := range names {
		if err = ctx.Err(); err != nil {
			break
		}
		if err = a.readFile(i, name, matcher, stdin, chunks, reader); err != nil && !a.inputFailed(i, err) {
			break
		}
		err = nil
	}
	close(chunks)
	wg.Wait()
	close(full)
	<-counted
	if err != nil {
		return err
	}
	a.reasons = map[string]uint64{}
	for _, t := range tallies {
		for i, f := range t.perFile {
			a.files[i].Records += f.Records
			a.files[i].Malformed += f.Malformed
			a.records += f.Records
			a.malformed += f.Malformed
		}
		for k, v := range t.reasons {
			a.reasons[k] += v
		}
		a.examples = append(a.examples, t.examples...)
	}
	slices.SortFunc(a.examples, func(x, y MalformedLine) int {
		return cmp.Or(cmp.Compare(a.fileIndex(x.File), a.fileIndex(y.File)), cmp.Compare(x.Line, y.Line))
	})
	a.examples = a.examples[:min(len(a.examples), a.opts.MaxExamples)]
	return nil
}

// fileIndex returns the position of the input named name (names may repeat; the first wins).
func (a *analysis) fileIndex(name string) int {
	for i, f := range a.files {
		if f.Name == name {
			return i
		}
	}
	return len(a.files)
}

// readFile reads input i and sends its chunks. Any line may be an S3 header (concatenated S3
// objects have one each, and their formats may differ): a header sets the format of the lines
// after it, up to the next header; before the first, lines are read in the --log-format
// formats. A UTF-8 byte-order mark before a header is ignored.
func (a *analysis) readFile(i int, name string, matcher *parse.Matcher, stdin io.Reader, out chan<- chunk, t *tally) error {
	info := &a.files[i]
	info.Name = name
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return &InputError{Name: name, Err: err}
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReaderSize(r, 4096)
	if magic, _ := br.Peek(len(parquetMagic)); string(magic) == parquetMagic {
		return &InputError{Name: name, Err: errParquet}
	}
	in, err := openInput(br)
	if err != nil {
		return &InputError{Name: name, Err: err}
	}
	var current *parse.Format // the format of the latest header, nil before the first
	var used []string         // the formats this input was read in, in order
	use := func(f string) {
		if !slices.Contains(used, f) {
			used = append(used, f)
		}
	}
	send := func(text string, first int) {
		if strings.TrimSpace(text) == "" {
			return
		}
		c := chunk{file: i, format: current, text: text, first: first}
		if current == nil {
			for _, f := range matcher.Formats() {
				use(f.String())
			}
			if fs := matcher.Formats(); len(fs) == 1 {
				c.format = fs[0]
			} else {
				c.matcher = matcher
			}
		}
		out <- c
	}
	emit := func(text string, first int) {
		// Cut the chunk at header lines. Most lines start with a digit (the version) or another
		// value that mayBeHeader rejects at its first token, so the scan costs little.
		from, fromNo := 0, first
		no := first
		for pos := 0; pos < len(text); no++ {
			end := strings.IndexByte(text[pos:], '\n')
			next := len(text)
			if end >= 0 {
				next = pos + end + 1
			}
			line := strings.TrimSuffix(strings.TrimSuffix(text[pos:next], "\n"), "\r")
			if mayBeHeader(line) {
				if f := headerFormat(strings.TrimPrefix(line, bom)); f != nil {
					send(text[from:pos], fromNo)
					current = f
					info.Header = true
					use(f.String())
					a.warn(name, f)
					from, fromNo = next, no+1
				}
			}
			pos = next
		}
		send(text[from:], fromNo)
	}
	tooLong := func(no int) {
		t.bad(&a.opts, i, name, no, reasonTooLong, fmt.Sprintf("line longer than the %d-byte read buffer", chunkSize))
	}
	lines, err := readChunks(in, emit, tooLong)
	info.Lines = uint64(lines)
	if len(used) == 0 { // an empty input: it would have been read in the --log-format formats
		for _, f := range matcher.Formats() {
			use(f.String())
		}
	}
	info.Format, info.Formats = used[0], used
	if err != nil {
		return &InputError{Name: name, Err: err}
	}
	return nil
}

// parquetMagic starts (and ends) every Parquet file. Flow logs delivered to S3 may be Parquet
// (the flow log's file format option), which flowd does not read.
const parquetMagic = "PAR1"

// errParquet says what to do with a Parquet object, once, instead of a dozen rejected lines.
var errParquet = errors.New("a Parquet flow log object: flowd analyze reads plain-text and gzip flow logs " +
	"(the S3 file format \"plain-text\"); convert it first, e.g. with DuckDB: " +
	"COPY (SELECT * FROM 'in.parquet') TO 'out.log' (DELIMITER ' ', HEADER, NULLSTR '-')")

// bom is the UTF-8 byte-order mark, which some tools write before the first line of a file.
const bom = "\ufeff"

// mayBeHeader is a quick test that rejects most record lines before headerFormat looks at
// them: a header's first token is a lowercase field name (after an optional byte-order mark),
// and a header holds no "-" value.
func mayBeHeader(line string) bool {
	line = strings.TrimPrefix(line, bom)
	line = strings.TrimLeft(line, " \t")
	if line == "" || line[0] < 'a' || line[0] > 'z' {
		return false
	}
	return !strings.Contains(line, " - ") && !strings.HasSuffix(line, " -")
}

// Malformed reasons of analyze itself, beside parse's.
const (
	reasonTooLong   = "line_too_long" // over --max-line-bytes
	reasonUnmatched = "unmatched"     // no --log-format has the line's field count
)

// work parses the chunks it receives into batches taken from free and sends each full batch to
// full, for the counting goroutine.
func (a *analysis) work(chunks <-chan chunk, full chan<- []parse.Record, free <-chan []parse.Record, t *tally) {
	batch := <-free
	n := 0
	for c := range chunks {
		for len(t.perFile) <= c.file {
			t.perFile = append(t.perFile, FileInfo{})
		}
		name := a.files[c.file].Name
		text, no := c.text, c.first
		for ; text != ""; no++ {
			var line string
			line, text = nextLine(text)
			switch {
			case len(line) > a.opts.MaxLineBytes:
				t.bad(&a.opts, c.file, name, no, reasonTooLong, fmt.Sprintf("line longer than %d bytes", a.opts.MaxLineBytes))
				continue
			case isBlank(line):
				continue
			}
			line = strings.TrimPrefix(line, bom)
			format := c.format
			if format == nil {
				if format = c.matcher.Match(line); format == nil {
					t.bad(&a.opts, c.file, name, no, reasonUnmatched,
						fmt.Sprintf("%d fields: no --log-format has that many", parse.CountFields(line)))
					continue
				}
			}
			if err := format.Parse(line, &batch[n]); err != nil {
				reason := "unknown"
				var pe *parse.Error
				if errors.As(err, &pe) {
					reason = pe.Reason()
				}
				t.bad(&a.opts, c.file, name, no, reason, err.Error())
				continue
			}
			t.perFile[c.file].Records++
			// The records refer into the chunk strings, which stay valid while referenced.
			if n++; n == len(batch) {
				full <- batch
				batch, n = <-free, 0
			}
		}
	}
	full <- batch[:n]
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
