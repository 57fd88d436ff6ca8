package parse

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// TestScanUint checks the word-at-a-time number reader against strconv for every length and
// position of the number relative to the end of the line.
func TestScanUint(t *testing.T) {
	t.Parallel()
	nums := []string{"0", "7", "42", "443", "65535", "1418530010", "12345678", "123456789", "1234567890123456",
		"18446744073709551615", "18446744073709551616", "99999999999999999999", "00000000000000000000000001"}
	tails := []string{"", " ", " x", "\\t1", "x", "-", ".5", "\\x00 ", "\\x80"}
	for _, num := range nums {
		for _, tail := range tails {
			tail, _ := strconv.Unquote(`"` + tail + `"`)
			for _, pad := range []string{"", "        ", "1234567 "} {
				line := pad + num + tail
				v, end, kind := scanUint(line, len(pad), 1<<64-1)
				want, err := strconv.ParseUint(num, 10, 64)
				wantKind := ErrorKind(0)
				switch {
				case tail != "" && !isSpace(tail[0]):
					wantKind = KindBadNumber
				case err != nil:
					wantKind = KindOutOfRange
				}
				if kind != wantKind || kind == 0 && (v != want || end != len(pad)+len(num)) {
					t.Errorf("scanUint(%q, %d) = %d, %d, %v; want %d, %d, %v", line, len(pad), v, end, kind, want, len(pad)+len(num), wantKind)
				}
			}
		}
	}
}

// TestScanUintMax checks the range limit of each kind of numeric field.
func TestScanUintMax(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  uint64
		kind ErrorKind
	}{
		{"255", 255, 0}, {"256", 255, KindOutOfRange}, {"65535", 65535, 0}, {"65536", 65535, KindOutOfRange},
		{"9223372036854775807", 1<<63 - 1, 0}, {"9223372036854775808", 1<<63 - 1, KindOutOfRange},
	}
	for _, tt := range tests {
		if _, _, kind := scanUint(tt.in, 0, tt.max); kind != tt.kind {
			t.Errorf("scanUint(%q, max %d) kind %v, want %v", tt.in, tt.max, kind, tt.kind)
		}
	}
}

// TestScanAddr checks both IPv4 readers and the netip fallback against netip.ParseAddr, with
// the address in the middle of a line and at its end.
func TestScanAddr(t *testing.T) {
	t.Parallel()
	addrs := []string{"0.0.0.0", "1.2.3.4", "10.0.0.1", "172.31.16.139", "255.255.255.255", "256.1.1.1",
		"1.2.3.256", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.5", "1..3.4", "1.2.3.", ".1.2.3", "1234.1.1.1",
		"1.2.3.4x", "::", "::1", "2001:db8::1", "::ffff:1.2.3.4", "64:ff9b::192.0.2.33", "fe80::1%eth0", "x", "-1"}
	for _, a := range addrs {
		want, err := netip.ParseAddr(a)
		wantOK := err == nil && want.Zone() == ""
		for _, line := range []string{a, a + " 443 6 20 4249 ACCEPT OK", "pad " + a + " 1"} {
			start := strings.Index(line, a)
			got, end, kind := scanAddr(line, start)
			if ok := kind == 0; ok != wantOK || ok && (got != want || end != start+len(a)) {
				t.Errorf("scanAddr(%q, %d) = %v, %d, %v; netip says %v, %v", line, start, got, end, kind, want, err)
			}
		}
	}
}
