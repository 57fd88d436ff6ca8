// Package subscription decodes the records a CloudWatch Logs subscription filter writes into a
// Kinesis data stream: each record's data is one gzip member holding one JSON document,
//
//	{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/vpc/flow",
//	 "logStream":"eni-0a1b2c3d-all","subscriptionFilters":["flowd"],
//	 "logEvents":[{"id":"3350…","timestamp":1502360020000,"message":"2 123456789012 eni-…"}]}
//
// (AWS: "Using CloudWatch Logs subscription filters", the Kinesis example). messageType is
// DATA_MESSAGE for log data or CONTROL_MESSAGE for the reachability checks CloudWatch Logs
// sends when a filter is created; control messages carry no log data and are reported as
// such, for the caller to skip and count.
//
// Decompression is bounded (Decoder.MaxBytes), so a small record that inflates to gigabytes (a
// gzip bomb) is refused with ErrTooLarge after MaxBytes of work, not after filling memory.
// Errors name what is wrong (*Error{Field, Reason}). The package is pure: no goroutines, no
// logging, no metrics.
package subscription

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// Message types, as CloudWatch Logs spells them.
const (
	TypeData    = "DATA_MESSAGE"
	TypeControl = "CONTROL_MESSAGE"
)

// DefaultMaxBytes bounds the decompressed size of one record. A Kinesis record holds at most
// 1 MiB of (compressed) data and CloudWatch Logs batches at most 1 MiB of log events into one
// payload before compressing (JSON framing adds a few tens of bytes per event), so 8 MiB
// leaves room for escaping while refusing bombs early.
const DefaultMaxBytes = 8 << 20

// ErrTooLarge is returned (wrapped in *Error) when a record inflates past Decoder.MaxBytes.
var ErrTooLarge = errors.New("decompressed record exceeds the size limit")

// Error says why a record could not be decoded. Field is the JSON field (or "data" for the
// gzip layer); Reason is a stable, bounded label for metrics.
type Error struct {
	Field  string
	Reason string // "gzip", "too_large", "json", "missing_field", "bad_value"
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("subscription record: %s: %s: %v", e.Field, e.Reason, e.Err)
	}
	return fmt.Sprintf("subscription record: %s: %s", e.Field, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// LogEvent is one log event of a DATA_MESSAGE. Timestamp is Unix milliseconds (the event time;
// for flow logs the record's start times 1000).
type LogEvent struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// Message is one decoded record. Its slices, and the strings in it, point into the Decoder's
// buffers and are overwritten by the next Decode on the same Decoder: copy what must outlive
// it. (That is what makes a record cost no allocation per event.)
type Message struct {
	MessageType         string     `json:"messageType"`
	Owner               string     `json:"owner"`
	LogGroup            string     `json:"logGroup"`
	LogStream           string     `json:"logStream"`
	SubscriptionFilters []string   `json:"subscriptionFilters"`
	LogEvents           []LogEvent `json:"logEvents"`
}

// Control reports whether m is a CONTROL_MESSAGE (to be skipped and counted).
func (m *Message) Control() bool { return m.MessageType == TypeControl }

// Decoder decodes records, reusing its decompressor and buffer between calls. Not safe for
// concurrent use; give each goroutine its own.
type Decoder struct {
	// MaxBytes bounds the decompressed size of one record; 0 means DefaultMaxBytes.
	MaxBytes int

	zr  *gzip.Reader
	src bytes.Reader
	buf bytes.Buffer
	sc  scanner
}

// Decode decompresses and decodes one record's data into m (which is reset first). A
// CONTROL_MESSAGE decodes with a nil error and m.Control() true. A DATA_MESSAGE must name its
// log group and stream and every event must have an id; an empty logEvents list is valid.
func (d *Decoder) Decode(data []byte, m *Message) error {
	events := m.LogEvents[:0]
	filters := m.SubscriptionFilters[:0]
	*m = Message{LogEvents: events, SubscriptionFilters: filters}
	limit := d.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	d.src.Reset(data)
	if d.zr == nil {
		zr, err := gzip.NewReader(&d.src)
		if err != nil {
			return &Error{Field: "data", Reason: "gzip", Err: err}
		}
		d.zr = zr
	} else if err := d.zr.Reset(&d.src); err != nil {
		return &Error{Field: "data", Reason: "gzip", Err: err}
	}
	// One gzip member per record, as CloudWatch Logs writes them; bytes after it are an error
	// rather than a silently ignored second payload.
	d.zr.Multistream(false)
	d.buf.Reset()
	n, err := d.buf.ReadFrom(io.LimitReader(d.zr, int64(limit)+1))
	if err != nil {
		return &Error{Field: "data", Reason: "gzip", Err: err}
	}
	if n > int64(limit) {
		return &Error{Field: "data", Reason: "too_large", Err: fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)}
	}
	if d.src.Len() > 0 {
		return &Error{Field: "data", Reason: "gzip", Err: fmt.Errorf("%d bytes after the gzip member", d.src.Len())}
	}
	d.sc.b, d.sc.i, d.sc.arena = d.buf.Bytes(), 0, d.sc.arena[:0]
	if err := d.sc.message(m); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		return &Error{Field: "payload", Reason: "json", Err: err}
	}
	return m.validate()
}

func (m *Message) validate() error {
	switch m.MessageType {
	case TypeControl:
		return nil
	case TypeData:
	case "":
		return &Error{Field: "messageType", Reason: "missing_field"}
	default:
		return &Error{Field: "messageType", Reason: "bad_value", Err: fmt.Errorf("%q is neither %s nor %s", m.MessageType, TypeData, TypeControl)}
	}
	if m.LogGroup == "" {
		return &Error{Field: "logGroup", Reason: "missing_field"}
	}
	if m.LogStream == "" {
		return &Error{Field: "logStream", Reason: "missing_field"}
	}
	for i := range m.LogEvents {
		if m.LogEvents[i].ID == "" {
			return &Error{Field: fmt.Sprintf("logEvents[%d].id", i), Reason: "missing_field"}
		}
	}
	return nil
}

// Encode compresses m as CloudWatch Logs does (one gzip member of its JSON). The emulators and
// tests use it to produce records.
func Encode(m *Message) ([]byte, error) {
	js, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode subscription record: %w", err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(js); err != nil {
		return nil, fmt.Errorf("encode subscription record: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encode subscription record: %w", err)
	}
	return b.Bytes(), nil
}
