package parse

import (
	"math/bits"
	"net/netip"
	"strings"
)

// scanUint converts the decimal number that starts at line[i] (not a space) and returns it with
// the index just past it. Only ASCII digits are accepted (no sign, no spaces, no underscores):
// AWS writes plain decimals. A well-formed number above max is KindOutOfRange, anything else
// KindBadNumber; on error the returned index may be inside the token.
//
// Numbers are read eight bytes at a time where the line is long enough (see digits8), because
// a byte loop's exit is mispredicted once per number and a record has up to a dozen of them.
func scanUint(line string, i int, max uint64) (uint64, int, ErrorKind) {
	start := i
	var v uint64
	for i+8 <= len(line) {
		w := load64(line, i)
		k, d := digits8(w)
		v = v*pow10[k] + d
		i += k
		if k < 8 {
			goto end
		}
	}
	for ; i < len(line); i++ {
		d := line[i] - '0'
		if d > 9 {
			break
		}
		v = v*10 + uint64(d)
	}
end:
	if i < len(line) && !isSpace(line[i]) {
		return 0, i, KindBadNumber
	}
	// Up to 19 digits cannot overflow a uint64; longer numbers (rare) are checked again.
	if i-start > 19 && overflows(line[start:i]) {
		return 0, i, KindOutOfRange
	}
	if v > max {
		return 0, i, KindOutOfRange
	}
	return v, i, 0
}

// pow10[k] is 10^k, for k up to 8.
var pow10 = [9]uint64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// digits8 looks at eight bytes of a line, read as a little-endian word (the first byte lowest):
// it returns how many of them, from the first, are ASCII digits, and their value.
func digits8(w uint64) (int, uint64) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// A byte is not a digit if it is above '9' (adding 0x46 to its low seven bits carries into
	// the high bit), has the high bit set, or is below '0' (subtracting 0x30 from it with the
	// high bit forced clears the high bit). No step carries across bytes.
	nonDigit := ((w &^ highs) + 0x46*ones | w | ^((w | highs) - 0x30*ones)) & highs
	// The lowest non-digit byte ends the number: k digits (8 when there is none, since
	// TrailingZeros64(0) is 64). Keep them and move them to the top: the emptied low bytes read as
	// leading zeros (a shift by 64, when k is 0, leaves nothing).
	k := bits.TrailingZeros64(nonDigit) >> 3
	w <<= uint(8-k) * 8
	// Combine pairs of digits, then pairs of pairs, then the two halves.
	w &= 0x0F0F0F0F0F0F0F0F
	w = (w * (10<<8 + 1)) >> 8 & 0x00FF00FF00FF00FF
	w = (w * (100<<16 + 1)) >> 16 & 0x0000FFFF0000FFFF
	w = (w * (10000<<32 + 1)) >> 32
	return k, w
}

// overflows reports whether the decimal digits s exceed the range of a uint64.
func overflows(s string) bool {
	const cutoff = (1<<64 - 1) / 10 // v*10 overflows above this
	var v uint64
	for i := 0; i < len(s); i++ {
		d := uint64(s[i] - '0')
		if v > cutoff || v == cutoff && d > (1<<64-1)%10 {
			return true
		}
		v = v*10 + d
	}
	return false
}

// scanAddr converts the IP address that starts at line[i] (not a space) and returns it with the
// index just past it. Plain dotted-quad IPv4, by far the most common form, is converted while it
// is scanned; anything else (IPv6, or an IPv4 form this fast path does not take, like a leading
// zero) goes to netip.ParseAddr, which decides and allocates nothing for addresses without a
// zone. Zones are rejected before netip sees them, because interning a zone allocates.
func scanAddr(line string, i int) (netip.Addr, int, ErrorKind) {
	start := i
	n := len(line)
	var ip uint32
	for octet := 0; ; octet++ {
		if i >= n {
			goto slow
		}
		d := line[i] - '0'
		if d > 9 {
			goto slow
		}
		v := uint32(d)
		i++
		if i < n {
			if d := line[i] - '0'; d <= 9 {
				if v == 0 {
					goto slow // leading zero
				}
				v = v*10 + uint32(d)
				i++
				if i < n {
					if d := line[i] - '0'; d <= 9 {
						v = v*10 + uint32(d)
						i++
						if v > 255 {
							goto slow
						}
					}
				}
			}
		}
		ip = ip<<8 | v
		if octet == 3 {
			break
		}
		if i >= n || line[i] != '.' {
			goto slow
		}
		i++
	}
	if i == n || isSpace(line[i]) {
		return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), i, 0
	}
slow:
	end := tokenEnd(line, start)
	tok := line[start:end]
	if strings.IndexByte(tok, '%') >= 0 {
		return netip.Addr{}, end, KindBadAddress
	}
	addr, err := netip.ParseAddr(tok)
	if err != nil {
		return netip.Addr{}, end, KindBadAddress
	}
	return addr, end, 0
}

func parseAction(s string) (Action, ErrorKind) {
	switch s {
	case "ACCEPT":
		return ActionAccept, 0
	case "REJECT":
		return ActionReject, 0
	}
	return ActionNone, KindBadEnum
}

func parseLogStatus(s string) (LogStatus, ErrorKind) {
	switch s {
	case "OK":
		return LogStatusOK, 0
	case "NODATA":
		return LogStatusNoData, 0
	case "SKIPDATA":
		return LogStatusSkipData, 0
	}
	return LogStatusNone, KindBadEnum
}

func parseFlowDirection(s string) (FlowDirection, ErrorKind) {
	switch s {
	case "ingress":
		return FlowDirectionIngress, 0
	case "egress":
		return FlowDirectionEgress, 0
	}
	return FlowDirectionNone, KindBadEnum
}

func parseTrafficType(s string) (TrafficType, ErrorKind) {
	switch s {
	case "IPv4":
		return TrafficTypeIPv4, 0
	case "IPv6":
		return TrafficTypeIPv6, 0
	case "EFA":
		return TrafficTypeEFA, 0
	}
	return TrafficTypeNone, KindBadEnum
}

// parseResourceType converts a resource-type value.
func parseResourceType(s string) (ResourceType, ErrorKind) {
	switch s {
	case "TransitGateway":
		return ResourceTypeTransitGateway, 0
	case "TransitGatewayAttachment":
		return ResourceTypeTransitGatewayAttachment, 0
	}
	return ResourceTypeNone, KindBadEnum
}
