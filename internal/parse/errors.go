package parse

import (
	"fmt"
	"strings"
)

// ErrorKind classifies a bad record. Its String is the stable reason label of Error.Reason.
type ErrorKind uint8

// Error kinds.
const (
	// KindFieldCount: the line has more or fewer fields than the format.
	KindFieldCount ErrorKind = iota + 1
	// KindBadNumber: a numeric field is not a decimal number.
	KindBadNumber
	// KindOutOfRange: a numeric field is a number too large for its field.
	KindOutOfRange
	// KindBadAddress: an address field is not an IPv4 or IPv6 address (zones are rejected).
	KindBadAddress
	// KindBadEnum: an enumerated field (action, log-status, flow-direction, type) has an
	// unknown value.
	KindBadEnum
)

// String returns the reason label: field_count, bad_number, out_of_range, bad_address or
// bad_enum ("unknown" for values outside the list).
func (k ErrorKind) String() string {
	switch k {
	case KindFieldCount:
		return "field_count"
	case KindBadNumber:
		return "bad_number"
	case KindOutOfRange:
		return "out_of_range"
	case KindBadAddress:
		return "bad_address"
	case KindBadEnum:
		return "bad_enum"
	}
	return "unknown"
}

// maxErrorValue bounds Error.Value, so that a huge garbage field (a 1 MB line without spaces)
// costs a small copy, not a copy of the line.
const maxErrorValue = 64

// Error is a record that does not fit its Format. It owns its Value (a copy, truncated to 64
// bytes), so it stays valid after the line's buffer is reused.
type Error struct {
	Kind ErrorKind
	// Field is the field whose value is bad; FieldUnknown for KindFieldCount.
	Field Field
	// Position is the 1-based column of the bad value in the format. For KindFieldCount it is
	// the first missing column (too few fields) or the first extra one (too many).
	Position int
	// Value is the bad value, truncated to 64 bytes (with "..." appended when cut). For too
	// many fields it is the first extra value; for too few it is empty.
	Value string
	// Got and Want are the line's and the format's field counts (KindFieldCount only).
	Got, Want int
}

// Reason returns a stable, low-cardinality label for metrics: field_count, bad_number,
// out_of_range, bad_address or bad_enum.
func (e *Error) Reason() string { return e.Kind.String() }

// Error describes the problem, naming the field, its column and the value.
func (e *Error) Error() string {
	if e.Kind == KindFieldCount {
		return fmt.Sprintf("flow log record: %d fields, format has %d", e.Got, e.Want)
	}
	return fmt.Sprintf("flow log record: field %d (%s): %s %q", e.Position, e.Field, e.Kind.describe(), e.Value)
}

// describe is the human form of a kind, for Error.
func (k ErrorKind) describe() string {
	switch k {
	case KindBadNumber:
		return "not a decimal number"
	case KindOutOfRange:
		return "number out of range"
	case KindBadAddress:
		return "not an IP address"
	case KindBadEnum:
		return "unknown value"
	}
	return k.String()
}

// clip copies s, cut to maxErrorValue bytes: errors must neither pin the caller's line nor copy
// all of it.
func clip(s string) string {
	if len(s) > maxErrorValue {
		return strings.Clone(s[:maxErrorValue]) + "..."
	}
	return strings.Clone(s)
}

// FormatError is a format string that cannot be compiled: empty, an empty or duplicate field
// name, or text that is not a field.
type FormatError struct {
	// Position is the 1-based index of the offending token among the spec's space-separated
	// tokens (0 when the whole spec is at fault, e.g. empty).
	Position int
	// Token is the offending token, truncated to 64 bytes.
	Token string
	// Problem says what is wrong: "empty format", "empty field name", "duplicate field",
	// "stray text", "bad field name" or "too many fields".
	Problem string
}

// Error describes the problem, naming the token and its position.
func (e *FormatError) Error() string {
	if e.Position == 0 {
		return "flow log format: " + e.Problem
	}
	return fmt.Sprintf("flow log format: token %d %q: %s", e.Position, e.Token, e.Problem)
}
