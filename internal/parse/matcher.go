package parse

import "fmt"

// Matcher chooses, for each line, the one format whose field count matches: the way to read a
// log group where several flow logs with different formats write interleaved records. Formats
// of equal field counts cannot be told apart this way, so NewMatcher rejects them. A Matcher is
// immutable and safe for concurrent use.
type Matcher struct {
	byCount []*Format // indexed by field count; nil where no format has that count
	formats []*Format
}

// NewMatcher returns a Matcher over formats, which must be non-empty, non-nil, and of distinct
// field counts.
func NewMatcher(formats ...*Format) (*Matcher, error) {
	if len(formats) == 0 {
		return nil, fmt.Errorf("flow log matcher: no formats")
	}
	m := &Matcher{formats: append([]*Format(nil), formats...)}
	maxCount := 0
	for i, f := range formats {
		if f == nil {
			return nil, fmt.Errorf("flow log matcher: format %d is nil", i+1)
		}
		maxCount = max(maxCount, f.NumFields())
	}
	m.byCount = make([]*Format, maxCount+1)
	for i, f := range formats {
		n := f.NumFields()
		if prev := m.byCount[n]; prev != nil {
			return nil, fmt.Errorf("flow log matcher: formats %q and %q (format %d) both have %d fields", prev, f, i+1, n)
		}
		m.byCount[n] = f
	}
	return m, nil
}

// Match returns the format with as many fields as line, or nil if there is none. It allocates
// nothing.
func (m *Matcher) Match(line string) *Format {
	n := countFieldsUpTo(line, len(m.byCount))
	if n >= len(m.byCount) {
		return nil
	}
	return m.byCount[n]
}

// Formats returns the matcher's formats, in the order given to NewMatcher.
func (m *Matcher) Formats() []*Format { return append([]*Format(nil), m.formats...) }

// countFieldsUpTo counts the fields of line but stops at limit, so a huge line costs no more
// than the longest format.
func countFieldsUpTo(line string, limit int) int {
	n := 0
	inField := false
	for i := 0; i < len(line); i++ {
		if isSpace(line[i]) {
			inField = false
		} else if !inField {
			inField = true
			n++
			if n >= limit {
				return n
			}
		}
	}
	return n
}
