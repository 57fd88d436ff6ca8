package parse

import (
	"errors"
	"strings"
	"testing"
)

// TestParseCorpus parses every record of testdata/formats, formats it back and parses that again.
func TestParseCorpus(t *testing.T) {
	t.Parallel()
	for _, cf := range loadCorpus(t) {
		t.Run(cf.name, func(t *testing.T) {
			t.Parallel()
			for i, line := range cf.lines {
				var r, back Record
				if err := cf.format.Parse(line, &r); err != nil {
					t.Fatalf("record %d: %v\n%s", i+1, err, line)
				}
				if got, want := len(r.Opaque), len(cf.format.Opaque()); got != want {
					t.Errorf("record %d: %d opaque values, want %d", i+1, got, want)
				}
				out := cf.format.Append(nil, &r)
				if err := cf.format.Parse(string(out), &back); err != nil {
					t.Fatalf("record %d: reparse %q: %v", i+1, out, err)
				}
				if diff := recordDiff(&r, &back); diff != nil {
					t.Errorf("record %d: round trip changes %v\n in: %s\nout: %s", i+1, diff, line, out)
				}
			}
		})
	}
}

// TestParseResetsAcrossFormats parses records of the wider formats and of the default format
// into one Record in turn: each result must equal a parse into a fresh Record (the default
// format's fast path skips the reset only after itself).
func TestParseResetsAcrossFormats(t *testing.T) {
	t.Parallel()
	files := loadCorpus(t)
	def := corpusByName(t, files, "default")
	var reused Record
	for _, cf := range files {
		for _, line := range cf.lines {
			for _, step := range []struct {
				f    *Format
				line string
			}{{cf.format, line}, {def.format, def.lines[0]}, {def.format, def.lines[0]}, {cf.format, line}} {
				var fresh Record
				errFresh := step.f.Parse(step.line, &fresh)
				errReused := step.f.Parse(step.line, &reused)
				if (errFresh == nil) != (errReused == nil) {
					t.Fatalf("%s: errors differ: %v, %v", cf.name, errFresh, errReused)
				}
				if errFresh != nil {
					continue
				}
				if diff := recordDiff(&fresh, &reused); diff != nil {
					t.Fatalf("%s %q: reused Record differs in %v", cf.name, step.line, diff)
				}
			}
		}
	}
}

// TestCountRange checks the range of counts: AWS's type is a signed 64-bit integer, so 2^63-1
// is the largest packets, bytes or packets-lost value, and 2^63 is out of range.
func TestCountRange(t *testing.T) {
	t.Parallel()
	line := func(bytes string) string {
		return "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 " + bytes + " 1418530010 1418530070 ACCEPT OK"
	}
	f := MustCompile(DefaultFormat)
	var r Record
	if err := f.Parse(line("9223372036854775807"), &r); err != nil || r.Bytes != 1<<63-1 {
		t.Errorf("2^63-1: %v, bytes %d", err, r.Bytes)
	}
	err := f.Parse(line("9223372036854775808"), &r)
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind != KindOutOfRange || pe.Field != FieldBytes {
		t.Errorf("2^63: %v, want out_of_range on bytes", err)
	}
	tgw := MustCompile(TransitGatewayDefaultFormat)
	l := corpusByName(t, loadCorpus(t), "tgw-default").lines[1]
	bad := strings.Replace(l, "IPv4 0 6 0 0", "IPv4 0 9223372036854775808 0 0", 1)
	if err := tgw.Parse(bad, &r); !errors.As(err, &pe) || pe.Kind != KindOutOfRange || pe.Field != FieldPacketsLostBlackhole {
		t.Errorf("packets-lost-blackhole 2^63: %v", err)
	}
}
