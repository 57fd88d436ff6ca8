package parse

import (
	"errors"
	"strings"
	"testing"
)

// TestParseErrors checks that each kind of bad record gets a typed error naming the field, its
// column and the value.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	def := MustCompile(DefaultFormat)
	v5 := MustCompile("version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status")
	const good = "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
	// with replaces the value of column col (1-based) of good.
	with := func(col int, v string) string {
		f := strings.Fields(good)
		f[col-1] = v
		return strings.Join(f, " ")
	}
	const goodV5 = "5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 123456789012 vpc-1 subnet-1 i-1 eni-1 ap-southeast-2 apse2-az3 - - ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK"
	withV5 := func(col int, v string) string {
		f := strings.Fields(goodV5)
		f[col-1] = v
		return strings.Join(f, " ")
	}
	tests := []struct {
		name     string
		format   *Format
		line     string
		kind     ErrorKind
		field    Field
		pos      int
		value    string
		got      int // field count errors only
		contains string
	}{
		{"empty line", def, "", KindFieldCount, FieldUnknown, 1, "", 0, "0 fields, format has 14"},
		{"blank line", def, " \t\r\n", KindFieldCount, FieldUnknown, 1, "", 0, "0 fields"},
		{"truncated mid-address", def, good[:40], KindFieldCount, FieldUnknown, 6, "", 5, "5 fields, format has 14"},
		{"truncated after a field", def, good[:strings.Index(good, "20641")], KindFieldCount, FieldUnknown, 6, "", 5, "5 fields"},
		{"one extra", def, good + " extra", KindFieldCount, FieldUnknown, 15, "extra", 15, "15 fields"},
		{"version not a number", def, with(1, "v2"), KindBadNumber, FieldVersion, 1, "v2", 0, `field 1 (version): not a decimal number "v2"`},
		{"version too big", def, with(1, "256"), KindOutOfRange, FieldVersion, 1, "256", 0, "out of range"},
		{"negative port", def, with(6, "-1"), KindBadNumber, FieldSrcPort, 6, "-1", 0, "srcport"},
		{"plus sign", def, with(7, "+22"), KindBadNumber, FieldDstPort, 7, "+22", 0, "dstport"},
		{"port 65536", def, with(7, "65536"), KindOutOfRange, FieldDstPort, 7, "65536", 0, "dstport"},
		{"protocol 256", def, with(8, "256"), KindOutOfRange, FieldProtocol, 8, "256", 0, "protocol"},
		{"packets hex", def, with(9, "0x10"), KindBadNumber, FieldPackets, 9, "0x10", 0, "packets"},
		{"bytes 2^64", def, with(10, "18446744073709551616"), KindOutOfRange, FieldBytes, 10, "18446744073709551616", 0, "bytes"},
		{"bytes huge", def, with(10, strings.Repeat("9", 40)), KindOutOfRange, FieldBytes, 10, strings.Repeat("9", 40), 0, "bytes"},
		{"start 2^63", def, with(11, "9223372036854775808"), KindOutOfRange, FieldStart, 11, "9223372036854775808", 0, "start"},
		{"end float", def, with(12, "1418530070.5"), KindBadNumber, FieldEnd, 12, "1418530070.5", 0, "end"},
		{"srcaddr garbage", def, with(4, "172.31.16"), KindBadAddress, FieldSrcAddr, 4, "172.31.16", 0, "srcaddr"},
		{"dstaddr octet 256", def, with(5, "10.0.0.256"), KindBadAddress, FieldDstAddr, 5, "10.0.0.256", 0, "dstaddr"},
		{"ipv6 zone", def, with(5, "fe80::1%eth0"), KindBadAddress, FieldDstAddr, 5, "fe80::1%eth0", 0, "dstaddr"},
		{"hostname", def, with(4, "example.com"), KindBadAddress, FieldSrcAddr, 4, "example.com", 0, "srcaddr"},
		{"action lowercase", def, with(13, "accept"), KindBadEnum, FieldAction, 13, "accept", 0, `(action): unknown value "accept"`},
		{"log-status bogus", def, with(14, "FAILED"), KindBadEnum, FieldLogStatus, 14, "FAILED", 0, "log-status"},
		{"type bogus", v5, withV5(9, "IPv5"), KindBadEnum, FieldType, 9, "IPv5", 0, "(type)"},
		{"flow-direction bogus", v5, withV5(28, "inbound"), KindBadEnum, FieldFlowDirection, 28, "inbound", 0, "flow-direction"},
		{"tcp-flags 256", v5, withV5(22, "256"), KindOutOfRange, FieldTCPFlags, 22, "256", 0, "tcp-flags"},
		{"traffic-path 300", v5, withV5(27, "300"), KindOutOfRange, FieldTrafficPath, 27, "300", 0, "traffic-path"},
		{"pkt-dstaddr bad", v5, withV5(24, "52.95.128"), KindBadAddress, FieldPktDstAddr, 24, "52.95.128", 0, "pkt-dstaddr"},
		{"binary bytes", def, with(4, "\x00\xff\x01"), KindBadAddress, FieldSrcAddr, 4, "\x00\xff\x01", 0, "srcaddr"},
		{"long value clipped", def, with(13, strings.Repeat("A", 1000)), KindBadEnum, FieldAction, 13, strings.Repeat("A", maxErrorValue) + "...", 0, "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r Record
			err := tt.format.Parse(tt.line, &r)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want *Error", tt.line, err)
			}
			if pe.Kind != tt.kind || pe.Field != tt.field || pe.Position != tt.pos || pe.Value != tt.value {
				t.Errorf("got kind %v field %v position %d value %q, want %v %v %d %q",
					pe.Kind, pe.Field, pe.Position, pe.Value, tt.kind, tt.field, tt.pos, tt.value)
			}
			if pe.Reason() != tt.kind.String() {
				t.Errorf("Reason() = %q, want %q", pe.Reason(), tt.kind)
			}
			if tt.kind == KindFieldCount && (pe.Got != tt.got || pe.Want != tt.format.NumFields()) {
				t.Errorf("got %d want %d, expected %d and %d", pe.Got, pe.Want, tt.got, tt.format.NumFields())
			}
			if !strings.Contains(pe.Error(), tt.contains) {
				t.Errorf("message %q lacks %q", pe.Error(), tt.contains)
			}
		})
	}
}

// TestErrorReasons pins the metric labels, which dashboards and alerts depend on.
func TestErrorReasons(t *testing.T) {
	t.Parallel()
	want := map[ErrorKind]string{
		KindFieldCount: "field_count", KindBadNumber: "bad_number", KindOutOfRange: "out_of_range",
		KindBadAddress: "bad_address", KindBadEnum: "bad_enum", 0: "unknown",
	}
	for k, w := range want {
		if got := k.String(); got != w {
			t.Errorf("%d.String() = %q, want %q", k, got, w)
		}
	}
}

// TestParseHostileInput feeds lines built to be expensive: each must get a typed error with a
// short Value, and the error path must allocate a bounded, small amount.
func TestParseHostileInput(t *testing.T) {
	def := MustCompile(DefaultFormat)
	tests := []struct {
		name string
		line string
		kind ErrorKind
		got  int
	}{
		{"1 MB without spaces", strings.Repeat("x", 1<<20), KindFieldCount, 1},
		{"1 MB value", "2 1 eni-1 - - - - - - - 1 2 " + strings.Repeat("A", 1<<20) + " OK", KindBadEnum, 0},
		{"1 MB of fields", strings.Repeat("1 ", 1<<19), KindFieldCount, 1 << 19},
		{"200 fields", strings.TrimSpace(strings.Repeat("2 ", 200)), KindFieldCount, 200},
		{"binary", "\x00\x01\x02\xff\xfe \x80\x81", KindFieldCount, 2},
		{"binary fields", strings.TrimSpace(strings.Repeat("\x00\xff ", 14)), KindBadNumber, 0},
		{"only dashes", strings.TrimSpace(strings.Repeat("- ", 13)), KindFieldCount, 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Record
			err := def.Parse(tt.line, &r)
			var pe *Error
			if !errors.As(err, &pe) || pe.Kind != tt.kind {
				t.Fatalf("Parse = %v, want *Error of kind %v", err, tt.kind)
			}
			if len(pe.Value) > maxErrorValue+3 {
				t.Errorf("Value has %d bytes, want at most %d", len(pe.Value), maxErrorValue+3)
			}
			if tt.kind == KindFieldCount && pe.Got != tt.got {
				t.Errorf("Got = %d, want %d", pe.Got, tt.got)
			}
			allocs := testing.AllocsPerRun(5, func() { _ = def.Parse(tt.line, &r) })
			if allocs > 3 {
				t.Errorf("error path allocates %.0f times, want at most 3", allocs)
			}
		})
	}
}

// TestParseAllocs checks that parsing valid records allocates nothing once the Record's Opaque
// slice has grown.
func TestParseAllocs(t *testing.T) {
	for _, cf := range loadCorpus(t) {
		t.Run(cf.name, func(t *testing.T) {
			var r Record
			for _, line := range cf.lines {
				allocs := testing.AllocsPerRun(20, func() {
					if err := cf.format.Parse(line, &r); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Errorf("Parse(%q) allocates %.1f times per record, want 0", line, allocs)
				}
			}
		})
	}
}

// TestParseReuse checks that Parse resets the Record: nothing of a previous record, even of
// another format, survives.
func TestParseReuse(t *testing.T) {
	t.Parallel()
	files := loadCorpus(t)
	v5 := corpusByName(t, files, "v5")
	def := corpusByName(t, files, "default")
	var reused, fresh Record
	if err := v5.format.Parse(v5.lines[0], &reused); err != nil {
		t.Fatal(err)
	}
	if err := def.format.Parse(def.lines[2], &reused); err != nil {
		t.Fatal(err)
	}
	if err := def.format.Parse(def.lines[2], &fresh); err != nil {
		t.Fatal(err)
	}
	if diff := recordDiff(&reused, &fresh); diff != nil {
		t.Errorf("fields %v kept from the previous record", diff)
	}
}

// TestParseWhitespace checks the separator rules: runs of spaces and tabs, leading and
// trailing whitespace, and a trailing \r\n all parse like the single-spaced line.
func TestParseWhitespace(t *testing.T) {
	t.Parallel()
	def := MustCompile(DefaultFormat)
	const line = "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
	var want Record
	if err := def.Parse(line, &want); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, line string }{
		{"double space", strings.Replace(line, " ", "  ", 3)},
		{"tabs", strings.ReplaceAll(line, " ", "\t")},
		{"leading and trailing spaces", "  " + line + "   "},
		{"crlf", line + "\r\n"},
		{"lf", line + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got Record
			if err := def.Parse(tt.line, &got); err != nil {
				t.Fatal(err)
			}
			if diff := recordDiff(&got, &want); diff != nil {
				t.Errorf("fields %v differ", diff)
			}
			if n := CountFields(tt.line); n != 14 {
				t.Errorf("CountFields = %d, want 14", n)
			}
		})
	}
}
