package parse

import (
	"strconv"
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
