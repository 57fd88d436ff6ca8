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
// gzip files, possibly of several members; gzip.Reader reads them all.
func openInput(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	}
	return br, nil
}

// readChunks reads r in chunks of complete lines. emit gets each chunk as one string (one copy
// per chunk, no copy or allocation per line, no unsafe) with the number of its first line; the
// string is immutable, so the records parsed from it may outlive the next read. Lines longer than
// the read buffer are reported to tooLong with their number and never emitted. It returns the
// number of lines read.
func readChunks(r io.Reader, emit func(text string, first int), tooLong func(no int)) (int, error) {
	buf := make([]byte, chunkSize)
	n, no := 0, 0
	skipping := false // inside a line longer than the buffer: drop until its end
	for {
		m, err := fill(r, buf[n:])
		n += m
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			return no, err // a truncated gzip stream ends in io.ErrUnexpectedEOF: an error
		}
		data := buf[:n]
		end := bytes.LastIndexByte(data, '\n') + 1 // the complete lines
		if eof {
			end = n
		}
		if end == 0 && !eof { // no line ends in a full buffer: the line is too long
			if !skipping {
				no++
				tooLong(no)
				skipping = true
			}
			n = 0
			continue
		}
		complete := data[:end]
		if skipping { // the tail of a line already reported
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
