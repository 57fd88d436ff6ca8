package simulate

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/flowd-dev/flowd/internal/parse"
)

// WriterSink writes the messages of delivered batches to an io.Writer, one record per line, as
// in a flow log file. It is safe for concurrent use.
type WriterSink struct {
	mu     sync.Mutex
	w      io.Writer
	header string
	buf    []byte
}

// NewWriterSink returns a sink writing to w. A non-empty header is written once, as the first
// line (see HeaderLine for the S3 one).
func NewWriterSink(w io.Writer, header string) *WriterSink {
	return &WriterSink{w: w, header: header}
}

// HeaderLine returns the header line AWS puts at the top of flow log files in S3: the field
// names of the format, separated by spaces.
func HeaderLine(f *parse.Format) string { return strings.Join(f.Names(), " ") }

// Put writes the events' messages, each followed by a newline, in one Write.
func (s *WriterSink) Put(_ context.Context, stream string, events []Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buf[:0]
	if s.header != "" {
		b = append(append(b, s.header...), '\n')
	}
	for _, e := range events {
		b = append(append(b, e.Message...), '\n')
	}
	s.buf = b
	if len(b) == 0 {
		return nil
	}
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("simulate: write stream %s: %w", stream, err)
	}
	s.header = "" // written once, with the first successful write
	return nil
}
