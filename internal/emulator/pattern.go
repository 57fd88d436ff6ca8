package emulator

import (
	"strconv"
	"strings"
)

// Filter patterns (the filterPattern member of FilterLogEvents), the subset the emulator knows:
//
//   - "" (or only spaces): every event.
//   - Terms: `ERROR`, `"quoted term"`, `-term` (must not appear); every plain or quoted term must
//     appear in the message (case-sensitive substring). `?a ?b` (any of) is accepted only on its own.
//   - Space-delimited: `[version, account, eni, src, dst, srcport, dstport = 22, proto, packets,
//     bytes > 1000, start, end, action = REJECT, status]`: one name per message field, `...` for any
//     number of fields (at most one ellipsis), and conditions `=`, `!=` (string, with `*`
//     wildcards, or number) and `<`, `<=`, `>`, `>=` (number). Message fields are separated by runs
//     of spaces; a field opening with `"` or `[` runs to the closing `"` or `]`. Without an
//     ellipsis the message must have exactly as many fields as the pattern. A numeric condition
//     never matches a field that is not a number (such as `-`).
//
// Everything else (JSON patterns `{ ... }`, regular expressions `%...%`, `&&`/`||`, mixing `?` with
// other terms, several ellipses) is an InvalidParameterException: an unsupported pattern must never
// look like a pattern that matches nothing.

// pattern is a compiled filter pattern. match allocates nothing.
type pattern struct {
	all      bool
	include  []string // all must appear
	exclude  []string // none may appear
	anyOf    []string // at least one must appear (the ?term form)
	fields   []fieldCond
	ellipsis int // index in fields of the ellipsis, or -1
	spaced   bool
}

type cmpOp int

const (
	opNone cmpOp = iota
	opEq
	opNe
	opLt
	opLe
	opGt
	opGe
)

type fieldCond struct {
	name     string
	op       cmpOp
	numeric  bool
	num      float64
	str      string // string operand; may contain '*' wildcards
	wildcard bool
}

func badPattern(p, why string) *APIError {
	return invalidParam("Invalid filter pattern %q: %s", p, why)
}

// compilePattern parses a filterPattern.
func compilePattern(p string) (*pattern, *APIError) {
	if len(p) > 1024 {
		return nil, validationError("filterPattern", p, "Member must have length less than or equal to 1024")
	}
	t := strings.TrimSpace(p)
	switch {
	case t == "":
		return &pattern{all: true}, nil
	case strings.HasPrefix(t, "{"):
		return nil, badPattern(p, "JSON filter patterns are not supported by the emulator")
	case strings.HasPrefix(t, "["):
		return compileSpaced(p, t)
	}
	return compileTerms(p, t)
}

// compileTerms parses the unstructured form: plain, quoted, -excluded and ?optional terms.
func compileTerms(orig, t string) (*pattern, *APIError) {
	pt := &pattern{ellipsis: -1}
	for i := 0; i < len(t); {
		if t[i] == ' ' || t[i] == '\t' {
			i++
			continue
		}
		mod := byte(0)
		if t[i] == '-' || t[i] == '?' {
			mod = t[i]
			i++
			if i == len(t) || t[i] == ' ' {
				return nil, badPattern(orig, "a lone "+string(mod))
			}
		}
		var term string
		if t[i] == '"' {
			s, n, err := unquote(t[i:])
			if err != "" {
				return nil, badPattern(orig, err)
			}
			term, i = s, i+n
			if i < len(t) && t[i] != ' ' && t[i] != '\t' {
				return nil, badPattern(orig, "text right after a closing quote")
			}
		} else {
			j := i
			for j < len(t) && t[j] != ' ' && t[j] != '\t' {
				j++
			}
			term = t[i:j]
			i = j
			if term == "&&" || term == "||" {
				return nil, badPattern(orig, "&& and || are not supported by the emulator")
			}
			if k := strings.IndexAny(term, `"{}[]()%`); k >= 0 {
				return nil, badPattern(orig, "unquoted term "+strconv.Quote(term)+" contains "+strconv.Quote(term[k:k+1])+" (quote it; regular expressions are not supported)")
			}
		}
		if term == "" {
			return nil, badPattern(orig, "empty quoted term")
		}
		switch mod {
		case '-':
			pt.exclude = append(pt.exclude, term)
		case '?':
			pt.anyOf = append(pt.anyOf, term)
		default:
			pt.include = append(pt.include, term)
		}
	}
	if len(pt.anyOf) > 0 && (len(pt.include) > 0 || len(pt.exclude) > 0) {
		return nil, badPattern(orig, "mixing ?terms with other terms is not supported by the emulator")
	}
	return pt, nil
}

// unquote reads a double-quoted string at the start of s (backslash escapes \" and \\), returning
// its content and the number of bytes consumed.
func unquote(s string) (string, int, string) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), i + 1, ""
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, "unterminated quote"
}

// compileSpaced parses `[field, name op value, ..., field]`.
func compileSpaced(orig, t string) (*pattern, *APIError) {
	if !strings.HasSuffix(t, "]") {
		return nil, badPattern(orig, "a space-delimited pattern must end with ]")
	}
	body := t[1 : len(t)-1]
	if strings.Contains(body, "&&") || strings.Contains(body, "||") {
		return nil, badPattern(orig, "&& and || are not supported by the emulator")
	}
	pt := &pattern{spaced: true, ellipsis: -1}
	items, err := splitFields(body)
	if err != "" {
		return nil, badPattern(orig, err)
	}
	seen := map[string]bool{}
	for _, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, badPattern(orig, "empty field")
		}
		if item == "..." {
			if pt.ellipsis >= 0 {
				return nil, badPattern(orig, "more than one ... is not supported by the emulator")
			}
			pt.ellipsis = len(pt.fields)
			pt.fields = append(pt.fields, fieldCond{name: "..."})
			continue
		}
		fc, err := parseCond(item)
		if err != "" {
			return nil, badPattern(orig, err)
		}
		if seen[fc.name] {
			return nil, badPattern(orig, "field "+strconv.Quote(fc.name)+" named twice")
		}
		seen[fc.name] = true
		pt.fields = append(pt.fields, fc)
	}
	return pt, nil
}

// splitFields splits the inside of [...] on commas outside quotes.
func splitFields(body string) ([]string, string) {
	var out []string
	start, inQuote := 0, false
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, body[start:i])
				start = i + 1
			}
		}
	}
	if inQuote {
		return nil, "unterminated quote"
	}
	return append(out, body[start:]), ""
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// parseCond parses `name` or `name op value`.
func parseCond(item string) (fieldCond, string) {
	i := 0
	for i < len(item) && isNameByte(item[i]) {
		i++
	}
	fc := fieldCond{name: item[:i]}
	if fc.name == "" {
		return fc, "field " + strconv.Quote(item) + " has no name"
	}
	rest := strings.TrimSpace(item[i:])
	if rest == "" {
		return fc, ""
	}
	switch {
	case strings.HasPrefix(rest, "!="):
		fc.op, rest = opNe, rest[2:]
	case strings.HasPrefix(rest, "<="):
		fc.op, rest = opLe, rest[2:]
	case strings.HasPrefix(rest, ">="):
		fc.op, rest = opGe, rest[2:]
	case strings.HasPrefix(rest, "="):
		fc.op, rest = opEq, rest[1:]
	case strings.HasPrefix(rest, "<"):
		fc.op, rest = opLt, rest[1:]
	case strings.HasPrefix(rest, ">"):
		fc.op, rest = opGt, rest[1:]
	default:
		return fc, "field " + strconv.Quote(item) + ": expected =, !=, <, <=, > or >= after the name"
	}
	rest = strings.TrimSpace(rest)
	switch {
	case rest == "":
		return fc, "field " + strconv.Quote(item) + " has no value"
	case rest[0] == '"':
		s, n, err := unquote(rest)
		if err != "" {
			return fc, err
		}
		if n != len(rest) {
			return fc, "field " + strconv.Quote(item) + ": text after the quoted value"
		}
		fc.str = s
	default:
		if strings.ContainsAny(rest, " \t\"%{}[]()") {
			return fc, "field " + strconv.Quote(item) + ": value " + strconv.Quote(rest) + " is not a word, number or quoted string"
		}
		if v, err := strconv.ParseFloat(rest, 64); err == nil && isPlainNumber(rest) {
			fc.numeric, fc.num = true, v
		}
		fc.str = rest
	}
	fc.wildcard = !fc.numeric && strings.Contains(fc.str, "*")
	if !fc.numeric && fc.op != opEq && fc.op != opNe {
		return fc, "field " + strconv.Quote(item) + ": < <= > >= need a number"
	}
	return fc, ""
}

// isPlainNumber accepts -?digits(.digits)? only, so that words like "Inf" or "0x1F" stay strings.
func isPlainNumber(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
			digits++
		case s[i] == '.' && !dot && digits > 0 && i+1 < len(s):
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// match reports whether msg satisfies the pattern.
func (p *pattern) match(msg string) bool {
	switch {
	case p.all:
		return true
	case p.spaced:
		return p.matchFields(msg)
	case len(p.anyOf) > 0:
		for _, t := range p.anyOf {
			if strings.Contains(msg, t) {
				return true
			}
		}
		return false
	}
	for _, t := range p.include {
		if !strings.Contains(msg, t) {
			return false
		}
	}
	for _, t := range p.exclude {
		if strings.Contains(msg, t) {
			return false
		}
	}
	return true
}

type span struct{ lo, hi int }

// splitMessage appends the spans of msg's space-delimited fields to dst.
func splitMessage(dst []span, msg string) []span {
	for i := 0; i < len(msg); {
		if msg[i] == ' ' {
			i++
			continue
		}
		closer := byte(' ')
		switch msg[i] {
		case '"':
			closer = '"'
		case '[':
			closer = ']'
		}
		j := i + 1
		for j < len(msg) && msg[j] != closer {
			j++
		}
		if closer != ' ' && j < len(msg) {
			j++ // keep the closing quote or bracket, then the field ends at the next space
			for j < len(msg) && msg[j] != ' ' {
				j++
			}
		}
		dst = append(dst, span{i, j})
		i = j
	}
	return dst
}

func (p *pattern) matchFields(msg string) bool {
	var buf [128]span
	spans := splitMessage(buf[:0], msg)
	nf := len(p.fields)
	if p.ellipsis < 0 {
		if len(spans) != nf {
			return false
		}
		for i := range p.fields {
			if !p.fields[i].matches(field(msg, spans[i])) {
				return false
			}
		}
		return true
	}
	before, after := p.ellipsis, nf-p.ellipsis-1
	if len(spans) < before+after {
		return false
	}
	for i := 0; i < before; i++ {
		if !p.fields[i].matches(field(msg, spans[i])) {
			return false
		}
	}
	for k := 0; k < after; k++ {
		if !p.fields[p.ellipsis+1+k].matches(field(msg, spans[len(spans)-after+k])) {
			return false
		}
	}
	return true
}

// field returns a field's text, without the quotes of a quoted field.
func field(msg string, s span) string {
	f := msg[s.lo:s.hi]
	if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
		return f[1 : len(f)-1]
	}
	return f
}

func (c *fieldCond) matches(f string) bool {
	if c.op == opNone {
		return true
	}
	if c.numeric {
		if !isPlainNumber(f) { // checked first: a failed ParseFloat allocates its error
			return false
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return false
		}
		switch c.op {
		case opEq:
			return v == c.num
		case opNe:
			return v != c.num
		case opLt:
			return v < c.num
		case opLe:
			return v <= c.num
		case opGt:
			return v > c.num
		case opGe:
			return v >= c.num
		}
		return false
	}
	eq := f == c.str
	if c.wildcard {
		eq = globMatch(c.str, f)
	}
	if c.op == opNe {
		return !eq
	}
	return eq
}

// globMatch matches s against a pattern where '*' stands for any run of bytes.
func globMatch(pat, s string) bool {
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(pat) && pat[i] == '*':
			star, mark = i, j
			i++
		case i < len(pat) && pat[i] == s[j]:
			i++
			j++
		case star >= 0:
			i, mark = star+1, mark+1
			j = mark
		default:
			return false
		}
	}
	for i < len(pat) && pat[i] == '*' {
		i++
	}
	return i == len(pat)
}
