package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/flowd-dev/flowd/internal/parse"
)

// ActionLabel is the action label value: accept, reject (none for records without one).
func ActionLabel(a parse.Action) string {
	switch a {
	case parse.ActionAccept:
		return "accept"
	case parse.ActionReject:
		return "reject"
	}
	return "none"
}

// protocolNames are the protocol label values with names; others are the IANA number.
var protocolNames = map[uint8]string{1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}

// protocolLabels holds the label value of every protocol number, computed once so scrapes do
// not format numbers.
var protocolLabels = func() (out [256]string) {
	for i := range out {
		if n, ok := protocolNames[uint8(i)]; ok {
			out[i] = n
		} else {
			out[i] = strconv.Itoa(i)
		}
	}
	return out
}()

// ProtocolLabel is the protocol label value: tcp, udp, icmp, icmpv6, else the IANA number.
func ProtocolLabel(p uint8) string { return protocolLabels[p] }

// PortLabel is the port label value: the number, or "other" for keys folded by the cap.
func PortLabel(port uint16, other bool) string {
	if other {
		return "other"
	}
	return strconv.FormatUint(uint64(port), 10)
}

// WindowLabel is the window label value: "1m", "5m", "15m", "1h".
func WindowLabel(d time.Duration) string { return model.Duration(d).String() }

// UnixSeconds is t as a float of Unix seconds, 0 for the zero time.
func UnixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
