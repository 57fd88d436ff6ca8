package parse

import (
	"strings"
	"testing"
)

// TestParseV2 checks the unrolled default-format reader against the general one: it must take
// every clean line (else Parse silently runs slower), decline the others, and give the same
// record as the general path whenever it takes a line. The fuzz test checks Parse's results;
// this one checks which path produced them.
func TestParseV2(t *testing.T) {
	f, err := Compile(DefaultFormat)
	if err != nil {
		t.Fatal(err)
	}
	if !f.v2 {
		t.Fatal("DefaultFormat is not recognised as the v2 layout")
	}
	taken := 0
	lines := benchMix(t, f)
	for _, line := range lines {
		var fast, general Record
		ok := parseV2(line, &fast)
		if err := f.parse(line, &general); err != nil {
			t.Fatalf("general path rejects generated line %q: %v", line, err)
		}
		clean := !strings.Contains(line, " - ")
		if ok != clean {
			t.Fatalf("parseV2(%q) = %v, want %v", line, ok, clean)
		}
		if !ok {
			continue
		}
		taken++
		if diff := recordDiff(&fast, &general); diff != nil {
			t.Fatalf("parseV2(%q): fields %v differ from the general path", line, diff)
		}
	}
	if taken < len(lines)*9/10 { // all but the NODATA and SKIPDATA records (5%)
		t.Errorf("parseV2 took %d of %d generated lines", taken, len(lines))
	}
	// Lines the general path must decide, each a small change to a clean line.
	const clean = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
	var r Record
	if !parseV2(clean, &r) {
		t.Fatalf("parseV2 declines %q", clean)
	}
	for _, line := range []string{
		" " + clean, clean + " ", clean + "\r", strings.Replace(clean, " 22 ", "  22 ", 1),
		strings.Replace(clean, " 22 ", "\t22 ", 1), strings.Replace(clean, " 22 ", " - ", 1),
		strings.Replace(clean, " 22 ", " 65536 ", 1), strings.Replace(clean, " 6 ", " 256 ", 1),
		strings.Replace(clean, " 4249 ", " 12345678901234567890 ", 1), strings.Replace(clean, " 4249 ", " 42x9 ", 1),
		strings.Replace(clean, "172.31.16.21", "172.31.16.256", 1), strings.Replace(clean, "172.31.16.21", "fe80::1%eth0", 1),
		strings.Replace(clean, "ACCEPT", "accept", 1), strings.Replace(clean, " OK", " OKAY", 1),
		strings.Replace(clean, " OK", " OK extra", 1), strings.Replace(clean, " 20 ", " +20 ", 1),
		clean[:40],
	} {
		if parseV2(line, &r) {
			t.Errorf("parseV2 took %q, which the general path must decide", line)
		}
	}
}
