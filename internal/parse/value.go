package parse

import (
	"net/netip"
	"strings"
)

// parseUint parses a decimal number of at most max. Only ASCII digits are accepted (no sign,
// no spaces, no underscores): AWS writes plain decimals. A well-formed number above max is
// KindOutOfRange, anything else KindBadNumber.
func parseUint(s string, max uint64) (uint64, ErrorKind) {
	if s == "" {
		return 0, KindBadNumber
	}
	var v uint64
	overflow := false
	for i := 0; i < len(s); i++ {
		d := uint64(s[i] - '0')
		if d > 9 {
			return 0, KindBadNumber
		}
		if v > (1<<64-1-d)/10 {
			overflow = true
		}
		v = v*10 + d
	}
	if overflow || v > max {
		return 0, KindOutOfRange
	}
	return v, 0
}

// parseAddr parses an IPv4 or IPv6 address without zone. Zones are rejected before netip sees
// them, because interning a zone allocates.
func parseAddr(s string) (netip.Addr, ErrorKind) {
	if strings.IndexByte(s, '%') >= 0 {
		return netip.Addr{}, KindBadAddress
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, KindBadAddress
	}
	return a, 0
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
