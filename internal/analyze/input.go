package analyze

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/flowd-dev/flowd/internal/parse"
)

// chunkSize is how much input is read, converted and parsed at a time. The lines of a chunk are
// parsed in place: the chunk is turned into one string (one copy per chunk, no copy or
// allocation per line, and no unsafe), the records refer into it until their batch is added.
const chunkSize = 1 << 20

// openInput returns r, decompressed when it starts with the gzip magic number. S3 delivers
// gzip files, possibly of several members; gzip.Reader reads them all. A gzip stream that breaks
// (a truncated file) fails with a *GzipError that says how far into the file it got.
func openInput(r io.Reader) (io.Reader, error) {
	raw := &countingReader{r: r}
	br := bufio.NewReaderSize(raw, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return &gzipInput{zr: zr, raw: raw}, nil
	}
	return br, nil
}

// countingReader counts the bytes read from r.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// gzipInput is a gzip stream whose errors carry the offset in the compressed file.
type gzipInput struct {
	zr  *gzip.Reader
	raw *countingReader
}

func (g *gzipInput) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &GzipError{FileOffset: g.raw.n, Err: err}
	}
	return n, err
}

// GzipError is a gzip stream that broke: FileOffset is how many bytes of the file had been read
// when it did (for a truncated file, its size).
type GzipError struct {
	FileOffset int64
	Err        error
}

// Error implements error.
func (e *GzipError) Error() string {
	return fmt.Sprintf("gzip: %v at byte %d of the file", e.Err, e.FileOffset)
}

// Unwrap returns the cause.
func (e *GzipError) Unwrap() error { return e.Err }

// PositionError is a read that failed partway through an input. Lines is the number of complete
// lines read (and counted) before the failure, Offset the bytes read (after decompression) up
// to it; a partial last line is not counted.
type PositionError struct {
	Lines  int
	Offset int64
	Err    error
}

// Error implements error.
func (e *PositionError) Error() string {
	var ge *GzipError
	if errors.As(e.Err, &ge) {
		return fmt.Sprintf("after line %d (byte %d decompressed): %v", e.Lines, e.Offset, e.Err)
	}
	return fmt.Sprintf("after line %d (byte %d): %v", e.Lines, e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *PositionError) Unwrap() error { return e.Err }

// InputsError is the outcome of a run in which some inputs failed: each is reported in Errs
// (an *InputError) and in its FileInfo, and the summary of the rest was printed.
type InputsError struct {
	Errs   []error
	Inputs int // how many inputs there were
}

// Error implements error.
func (e *InputsError) Error() string {
	return fmt.Sprintf("%d of %d inputs failed: %v", len(e.Errs), e.Inputs, errors.Join(e.Errs...))
}

// Unwrap returns the failures.
func (e *InputsError) Unwrap() []error { return e.Errs }

// inputFailed records that input i failed with err and reports whether the run goes on with the
// next input: it does after an *InputError (a missing, unreadable or broken file), which the
// summary then reports; other errors (cancellation) end the run.
func (a *analysis) inputFailed(i int, err error) bool {
	var ie *InputError
	if !errors.As(err, &ie) {
		return false
	}
	a.files[i].Error = ie.Err.Error()
	a.failed = append(a.failed, err)
	return true
}

// failures is the *InputsError of the run, or nil if every input was read.
func (a *analysis) failures() error {
	if len(a.failed) == 0 {
		return nil
	}
	return &InputsError{Errs: a.failed, Inputs: len(a.files)}
}

// readChunks reads r in chunks of complete lines. emit gets each chunk as one string (one copy
// per chunk, no copy or allocation per line, no unsafe) with the number of its first line; the
// string is immutable, so the records parsed from it may outlive the next read. Lines longer than
// the read buffer are reported to tooLong with their number and never emitted. It returns the
// number of lines read. A read that fails (a truncated gzip stream ends in io.ErrUnexpectedEOF)
// still emits the complete lines before it and returns a *PositionError.
func readChunks(r io.Reader, emit func(text string, first int), tooLong func(no int)) (int, error) {
	buf := make([]byte, chunkSize)
	n, no := 0, 0
	var total int64
	skipping := false // inside a line longer than the buffer: drop until its end
	for {
		m, err := fill(r, buf[n:])
		n += m
		total += int64(m)
		eof := errors.Is(err, io.EOF)
		failed := err != nil && !eof
		data := buf[:n]
		end := bytes.LastIndexByte(data, '\n') + 1 // the complete lines
		if eof {
			end = n
		}
		if end == 0 && !eof && !failed { // no line ends in a full buffer: the line is too long
			if !skipping {
				no++
				tooLong(no)
				skipping = true
			}
			n = 0
			continue
		}
		complete := data[:end]
		if skipping && end > 0 { // the tail of a line already reported
			i := bytes.IndexByte(complete, '\n')
			if i < 0 {
				i = len(complete) - 1
			}
			complete = complete[i+1:]
			skipping = false
		}
		if len(complete) > 0 {
			lines := bytes.Count(complete, []byte{'\n'})
			if complete[len(complete)-1] != '\n' {
				lines++ // the last line of the input, without a newline
			}
			emit(string(complete), no+1)
			no += lines
		}
		if failed {
			return no, &PositionError{Lines: no, Offset: total, Err: err}
		}
		n = copy(buf, data[end:])
		if eof {
			return no, nil
		}
	}
}

// nextLine cuts the first line off text, without its "\n" or "\r\n".
func nextLine(text string) (line, rest string) {
	i := strings.IndexByte(text, '\n')
	if i < 0 {
		line, rest = text, ""
	} else {
		line, rest = text[:i], text[i+1:]
	}
	return strings.TrimSuffix(line, "\r"), rest
}

// fill reads into b until it is full or r fails; unlike io.ReadFull it returns io.EOF itself,
// so that a reader's own io.ErrUnexpectedEOF (a truncated gzip member) stays an error.
func fill(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// headerFormat returns the format an S3 header line declares, or nil if line is not a header.
// A header is all field names (lowercase letters, digits, '-' and '_', starting with a letter),
// at least one of them a field flowd knows; a record line has values (addresses, numbers,
// ACCEPT, OK) that are not all such names.
func headerFormat(line string) *parse.Format {
	toks := strings.Fields(line)
	known := false
	for _, t := range toks {
		if !isFieldName(t) {
			return nil
		}
		if _, ok := parse.FieldByName(strings.ReplaceAll(t, "_", "-")); ok {
			known = true
		}
	}
	if !known {
		return nil
	}
	f, err := parse.Compile(line)
	if err != nil {
		return nil
	}
	return f
}

func isFieldName(t string) bool {
	if t == "" || t[0] < 'a' || t[0] > 'z' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	// An interface or resource id ("eni-0a1b2c3d4e5f67890") looks like a name too; field names
	// have no part of 8 or more characters with a digit in it.
	for _, part := range strings.Split(t, "-") {
		if len(part) >= 8 && strings.ContainsAny(part, "0123456789") {
			return false
		}
	}
	return true
}
