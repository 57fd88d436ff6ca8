package parse

import "strings"

// DefaultFormat is the version 2 default format: the 14 fields AWS writes when a flow log has no
// custom format.
const DefaultFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

// TransitGatewayDefaultFormat is the format of a transit gateway flow log created without a
// custom format: all 36 fields of versions 2 to 6 of transit gateway flow logs, in the order
// of the AWS table. It has no action field.
const TransitGatewayDefaultFormat = "${version} ${resource-type} ${account-id} ${tgw-id} ${tgw-attachment-id} ${tgw-src-vpc-account-id} ${tgw-dst-vpc-account-id} ${tgw-src-vpc-id} ${tgw-dst-vpc-id} ${tgw-src-subnet-id} ${tgw-dst-subnet-id} ${tgw-src-eni} ${tgw-dst-eni} ${tgw-src-az-id} ${tgw-dst-az-id} ${tgw-pair-attachment-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status} ${type} ${packets-lost-no-route} ${packets-lost-blackhole} ${packets-lost-mtu-exceeded} ${packets-lost-ttl-expired} ${tcp-flags} ${region} ${flow-direction} ${pkt-src-aws-service} ${pkt-dst-aws-service}"

// maxColumns bounds a format's field count. AWS formats have at most a few dozen fields; the
// bound keeps a hostile spec from building an absurd Format.
const maxColumns = 512

// Format is a compiled flow log format: the ordered columns of a record. It is immutable and
// safe for concurrent use.
type Format struct {
	fields []Field  // per column; FieldUnknown for an opaque column
	names  []string // per column, canonical ("-" spelling)
	opaque []string // names of the opaque columns, in order
	set    FieldSet // the known fields of the format
	spec   string   // canonical ${...} form
	v2     bool     // the fields are DefaultFormat's: Parse tries parseV2 first
}

// Compile compiles a format string. It accepts the EC2 API form (`${version} ${srcaddr}`),
// Terraform's escaped form (`$${version} $${srcaddr}`) and the bare names of an S3 file's
// header line (`version srcaddr`), separated by runs of whitespace. Names are case-sensitive AWS
// names, with "_" accepted for "-". Unknown names become opaque columns (Format.Opaque). An
// empty spec, an empty or duplicate name, or text that is not a field is a *FormatError.
func Compile(spec string) (*Format, error) {
	toks := strings.Fields(spec)
	if len(toks) == 0 {
		return nil, &FormatError{Problem: "empty format"}
	}
	if len(toks) > maxColumns {
		return nil, &FormatError{Position: maxColumns + 1, Token: clip(toks[maxColumns]), Problem: "too many fields"}
	}
	templated := false
	for _, t := range toks {
		if strings.HasPrefix(t, "$") {
			templated = true
			break
		}
	}
	f := &Format{
		fields: make([]Field, 0, len(toks)),
		names:  make([]string, 0, len(toks)),
	}
	seen := make(map[string]bool, len(toks))
	for i, tok := range toks {
		name, problem := tokenName(tok, templated)
		if problem != "" {
			return nil, &FormatError{Position: i + 1, Token: clip(tok), Problem: problem}
		}
		name = strings.ReplaceAll(name, "_", "-")
		if seen[name] {
			return nil, &FormatError{Position: i + 1, Token: clip(tok), Problem: "duplicate field"}
		}
		seen[name] = true
		field, known := fieldsByName[name]
		if known {
			f.set = f.set.With(field)
		} else {
			f.opaque = append(f.opaque, name)
		}
		f.fields = append(f.fields, field)
		f.names = append(f.names, name)
	}
	var b strings.Builder
	for i, n := range f.names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("${")
		b.WriteString(n)
		b.WriteByte('}')
	}
	f.spec = b.String()
	f.v2 = isV2(f.fields)
	return f, nil
}

// MustCompile is Compile for specs known at build time (tests, the default format); it panics
// on error.
func MustCompile(spec string) *Format {
	f, err := Compile(spec)
	if err != nil {
		panic(err)
	}
	return f
}

// tokenName extracts the field name of one token, or says what is wrong with it.
func tokenName(tok string, templated bool) (name, problem string) {
	if !templated {
		if !isName(tok) {
			return "", "bad field name"
		}
		return tok, ""
	}
	inner, ok := strings.CutPrefix(tok, "$${")
	if !ok {
		inner, ok = strings.CutPrefix(tok, "${")
	}
	if !ok {
		return "", "stray text"
	}
	inner, ok = strings.CutSuffix(inner, "}")
	if !ok || strings.ContainsAny(inner, "${}") {
		return "", "stray text"
	}
	if inner == "" {
		return "", "empty field name"
	}
	if !isName(inner) {
		return "", "bad field name"
	}
	return inner, ""
}

// isName reports whether s is a plausible field name: ASCII letters, digits, "-" and "_".
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// NumFields returns the number of columns.
func (f *Format) NumFields() int { return len(f.fields) }

// Fields returns the field of each column (FieldUnknown for opaque columns). The caller may
// modify the returned slice.
func (f *Format) Fields() []Field { return append([]Field(nil), f.fields...) }

// Names returns the name of each column, with "-" spelling. The caller may modify the slice.
func (f *Format) Names() []string { return append([]string(nil), f.names...) }

// Opaque returns the names of the columns flowd does not know, in order; Record.Opaque holds
// their values in the same order. The caller may modify the slice.
func (f *Format) Opaque() []string { return append([]string(nil), f.opaque...) }

// Has reports whether the format has a column for the known field fl.
func (f *Format) Has(fl Field) bool { return fl != FieldUnknown && f.set.Has(fl) }

// String returns the canonical form of the format: `${name} ${name} ...`.
func (f *Format) String() string { return f.spec }
