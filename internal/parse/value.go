package parse

import (
	"net/netip"
	"strings"
)

// scanUint converts the decimal number that starts at line[i] (not a space) and returns it with
// the index just past it. Only ASCII digits are accepted (no sign, no spaces, no underscores):
// AWS writes plain decimals. A well-formed number above max is KindOutOfRange, anything else
// KindBadNumber; on error the returned index may be inside the token.
func scanUint(line string, i int, max uint64) (uint64, int, ErrorKind) {
	const cutoff = (1<<64 - 1) / 10 // v*10 overflows above this
	var v uint64
	overflow := false
	for ; i < len(line); i++ {
		d := line[i] - '0'
		if d > 9 {
			if !isSpace(line[i]) {
				return 0, i, KindBadNumber
			}
			break
		}
		if v > cutoff || v == cutoff && d > (1<<64-1)%10 {
			overflow = true
		}
		v = v*10 + uint64(d)
	}
	if overflow || v > max {
		return 0, i, KindOutOfRange
	}
	return v, i, 0
}

// scanAddr converts the IP address that starts at line[i] (not a space) and returns it with the
// index just past it. Plain dotted-quad IPv4, by far the most common form, is converted while it
// is scanned; anything else (IPv6, or an IPv4 form this fast path does not take) goes to
// netip.ParseAddr, which allocates nothing for addresses without a zone. Zones are rejected
// before netip sees them, because interning a zone allocates.
func scanAddr(line string, i int) (netip.Addr, int, ErrorKind) {
	start := i
	var a [4]byte
	octet, val, digits := 0, 0, 0
	for ; i < len(line); i++ {
		c := line[i]
		if d := int(c) - '0'; 0 <= d && d <= 9 {
			if digits == 1 && val == 0 { // a leading zero: let netip judge
				goto slow
			}
			val = val*10 + d
			digits++
			if val > 255 {
				goto slow
			}
			continue
		}
		if c == '.' && digits > 0 && octet < 3 {
			a[octet] = byte(val)
			octet, val, digits = octet+1, 0, 0
			continue
		}
		if isSpace(c) {
			break
		}
		goto slow
	}
	if octet == 3 && digits > 0 {
		a[3] = byte(val)
		return netip.AddrFrom4(a), i, 0
	}
slow:
	end := tokenEnd(line, i)
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
