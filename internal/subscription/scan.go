package subscription

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// scanner is a decoder for the one JSON shape of a subscription record. It exists for speed:
// encoding/json allocates every string it returns, two per log event; this one returns strings
// that point into the decompressed buffer (or, for strings with escapes, into one arena per
// record), so a record costs no allocation per event once the decoder's buffers have grown.
// Semantics follow encoding/json for this shape: keys match case-insensitively (ASCII), the
// last of repeated keys wins, null leaves a field empty, unknown keys are skipped, invalid
// UTF-8 becomes U+FFFD, and timestamps must be integers. FuzzDecode checks it against
// encoding/json.
type scanner struct {
	b     []byte
	i     int
	arena []byte
}

var errSyntax = errors.New("invalid JSON")

func (s *scanner) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, s.i)
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return s.fail(fmt.Sprintf("expected %q", c))
	}
	s.i++
	return nil
}

// literal consumes null, true or false.
func (s *scanner) literal() (string, error) {
	for _, lit := range []string{"null", "true", "false"} {
		if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
			s.i += len(lit)
			return lit, nil
		}
	}
	return "", s.fail("unexpected character")
}

func (s *scanner) null() bool {
	if s.peek() == 'n' && bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += 4
		return true
	}
	return false
}

// str reads a string; the result aliases the buffer or the arena.
func (s *scanner) str() (string, error) {
	if s.peek() != '"' {
		return "", s.fail("expected a string")
	}
	s.i++
	start := s.i
	// Fast path, the common case: no escape before the closing quote. IndexByte is vectorised.
	if j := bytes.IndexByte(s.b[start:], '"'); j >= 0 {
		raw := s.b[start : start+j]
		if bytes.IndexByte(raw, '\\') < 0 {
			if printableASCII(raw) {
				s.i = start + j + 1
				return unsafe.String(unsafe.SliceData(raw), len(raw)), nil
			}
			ctl := false
			for _, c := range raw {
				ctl = ctl || c < 0x20
			}
			if !ctl {
				s.i = start + j + 1
				if utf8.Valid(raw) {
					return unsafe.String(unsafe.SliceData(raw), len(raw)), nil
				}
				return s.unescape(raw)
			}
		}
	}
	clean := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			if clean && utf8.Valid(raw) {
				return unsafe.String(unsafe.SliceData(raw), len(raw)), nil
			}
			return s.unescape(raw)
		case c == '\\':
			clean = false
			s.i += 2
		case c < 0x20:
			return "", s.fail("control character in a string")
		default:
			s.i++
		}
	}
	return "", s.fail("unterminated string")
}

// printableASCII reports whether every byte is in 0x20..0x7f (no control character, no UTF-8
// to check), eight bytes at a time.
func printableASCII(b []byte) bool {
	const lo, hi = 0x2020202020202020, 0x8080808080808080
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		if ((x-lo)&^x|x)&hi != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 || c >= 0x80 {
			return false
		}
	}
	return true
}

func (s *scanner) unescape(raw []byte) (string, error) {
	start := len(s.arena)
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				s.arena = utf8.AppendRune(s.arena, utf8.RuneError)
			} else {
				s.arena = append(s.arena, raw[i:i+n]...)
			}
			i += n
			continue
		}
		if i+1 >= len(raw) {
			return "", s.fail("bad escape")
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			s.arena = append(s.arena, raw[i+1])
		case 'b':
			s.arena = append(s.arena, '\b')
		case 'f':
			s.arena = append(s.arena, '\f')
		case 'n':
			s.arena = append(s.arena, '\n')
		case 'r':
			s.arena = append(s.arena, '\r')
		case 't':
			s.arena = append(s.arena, '\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return "", s.fail("bad \\u escape")
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(raw[min(i+2, len(raw)):]); ok && i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						s.arena = utf8.AppendRune(s.arena, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			s.arena = utf8.AppendRune(s.arena, r)
			continue
		default:
			return "", s.fail("bad escape")
		}
		i += 2
	}
	out := s.arena[start:]
	return unsafe.String(unsafe.SliceData(out), len(out)), nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number reads a JSON number and returns its text.
func (s *scanner) number() ([]byte, error) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return nil, s.fail("bad number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return nil, s.fail("bad number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return nil, s.fail("bad number")
		}
	}
	return s.b[start:s.i], nil
}

// skip consumes any JSON value.
func (s *scanner) skip(depth int) error {
	if depth > 64 {
		return s.fail("nesting too deep")
	}
	switch s.peek() {
	case '"':
		_, err := s.str()
		return err
	case '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return nil
		}
		for {
			if _, err := s.str(); err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if s.peek() == ',' {
				s.i++
				continue
			}
			return s.expect('}')
		}
	case '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if s.peek() == ',' {
				s.i++
				continue
			}
			return s.expect(']')
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		_, err := s.number()
		return err
	}
	_, err := s.literal()
	return err
}

// object calls field for each key of an object (or nothing for null).
func (s *scanner) object(field func(key string) error) error {
	if s.null() {
		return nil
	}
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := field(k); err != nil {
			return err
		}
		if s.peek() == ',' {
			s.i++
			continue
		}
		return s.expect('}')
	}
}

// array calls elem for each element (or nothing for null, after reset).
func (s *scanner) array(reset func(), elem func() error) error {
	reset()
	if s.null() {
		return nil
	}
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if s.peek() == ',' {
			s.i++
			continue
		}
		return s.expect(']')
	}
}

// strField reads a string or null into *dst, as encoding/json does for a string field.
func (s *scanner) strField(dst *string, name string) error {
	if s.null() {
		return nil
	}
	if s.peek() != '"' {
		return &Error{Field: name, Reason: "json", Err: errors.New("not a string")}
	}
	v, err := s.str()
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

func fold(k, name string) bool {
	if len(k) != len(name) {
		return false
	}
	for i := 0; i < len(k); i++ {
		a, b := k[i], name[i]
		if a >= 'A' && a <= 'Z' {
			a += 'a' - 'A'
		}
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// message decodes one record document into m.
func (s *scanner) message(m *Message) error {
	err := s.object(func(k string) error {
		switch {
		case fold(k, "messageType"):
			return s.strField(&m.MessageType, "messageType")
		case fold(k, "owner"):
			return s.strField(&m.Owner, "owner")
		case fold(k, "logGroup"):
			return s.strField(&m.LogGroup, "logGroup")
		case fold(k, "logStream"):
			return s.strField(&m.LogStream, "logStream")
		case fold(k, "subscriptionFilters"):
			return s.array(func() { m.SubscriptionFilters = m.SubscriptionFilters[:0] }, func() error {
				var f string
				if err := s.strField(&f, "subscriptionFilters"); err != nil {
					return err
				}
				m.SubscriptionFilters = append(m.SubscriptionFilters, f)
				return nil
			})
		case fold(k, "logEvents"):
			return s.array(func() { m.LogEvents = m.LogEvents[:0] }, func() error {
				m.LogEvents = append(m.LogEvents, LogEvent{})
				e := &m.LogEvents[len(m.LogEvents)-1]
				return s.object(func(k string) error {
					switch {
					case fold(k, "id"):
						return s.strField(&e.ID, "logEvents.id")
					case fold(k, "message"):
						return s.strField(&e.Message, "logEvents.message")
					case fold(k, "timestamp"):
						if s.null() {
							return nil
						}
						if c := s.peek(); c != '-' && (c < '0' || c > '9') {
							return &Error{Field: "logEvents.timestamp", Reason: "json", Err: errors.New("not a number")}
						}
						num, err := s.number()
						if err != nil {
							return err
						}
						v, perr := strconv.ParseInt(unsafe.String(unsafe.SliceData(num), len(num)), 10, 64)
						if perr != nil {
							return &Error{Field: "logEvents.timestamp", Reason: "json", Err: fmt.Errorf("%s is not a 64-bit integer", num)}
						}
						e.Timestamp = v
						return nil
					}
					return s.skip(0)
				})
			})
		}
		return s.skip(0)
	})
	if err != nil {
		return err
	}
	if s.peek() != 0 || s.i < len(s.b) {
		return s.fail("data after the document")
	}
	return nil
}
