package aggregate

import "github.com/flowd-dev/flowd/internal/parse"

// IANA protocol numbers of the protocols whose records carry ports.
const (
	protoTCP     = 6
	protoUDP     = 17
	protoDCCP    = 33
	protoSCTP    = 132
	protoUDPLite = 136
)

// TCP flag bits as the tcp-flags field reports them.
const (
	tcpSYN    = 0x02
	tcpSYNACK = 0x12
)

// hasPorts reports whether records of the protocol carry source and destination ports.
func hasPorts(proto uint8) bool {
	switch proto {
	case protoTCP, protoUDP, protoDCCP, protoSCTP, protoUDPLite:
		return true
	}
	return false
}

// attributor picks the service port of a flow; the rules are in the package doc.
type attributor struct {
	service        [65536 / 64]uint64 // bitset of configured service ports
	ephemeralStart uint16
}

func newAttributor(cfg Config) attributor {
	a := attributor{ephemeralStart: cfg.EphemeralStart}
	for _, p := range cfg.ServicePorts {
		a.service[p/64] |= 1 << (p % 64)
	}
	return a
}

func (a *attributor) isService(p uint16) bool { return a.service[p/64]&(1<<(p%64)) != 0 }

// port returns the service port of a record whose protocol carries ports, given both ports and,
// when flagsOK, the record's tcp-flags.
func (a *attributor) port(proto uint8, src, dst uint16, flags uint8, flagsOK bool) uint16 {
	// 1. Configured service ports win; the lower one if both sides are configured, so that a
	// request and its reply agree.
	srcSvc, dstSvc := a.isService(src), a.isService(dst)
	switch {
	case srcSvc && dstSvc:
		return min(src, dst)
	case srcSvc:
		return src
	case dstSvc:
		return dst
	}
	// 2. A zero port carries no information (fragments, odd records): take the other one.
	if src == 0 || dst == 0 {
		return max(src, dst)
	}
	// 3. A side below EphemeralStart is a well-known or registered service port; if both are, the
	// lower one (NTP 123<->123, a privileged client port talking to SSH): min(src, dst) below.
	// 4. Both sides look ephemeral. For TCP, the handshake says who the server is when the
	// interval saw it: SYN-ACK is sent by the server, a SYN alone by the client.
	// (Rule 4 is tested first because rules 3 and 5 give the same answer: the formats without
	// tcp-flags, the default one among them, then decide with no branch on the ports, which
	// requests and replies make unpredictable.)
	lower := min(src, dst)
	if proto == protoTCP && flagsOK && lower >= a.ephemeralStart {
		switch flags & tcpSYNACK {
		case tcpSYNACK:
			return src
		case tcpSYN:
			return dst
		}
	}
	// 5. Otherwise the lower port: servers listen on lower ports than the clients' ephemeral
	// ranges (8080, 5432, 9092 against 32768+), and the rule gives a request and its reply the
	// same port, which "the destination port" would not (a reply from 8080 goes to 51234).
	return lower
}

// servicePort returns the service port of r and false when r's protocol needs ports that r lacks.
// Protocols without ports (ICMP, ICMPv6, GRE, ESP...) get port 0.
func (a *attributor) servicePort(r *parse.Record) (uint16, bool) {
	if !hasPorts(r.Protocol) {
		return 0, true
	}
	if !r.Present.Has(parse.FieldSrcPort) || !r.Present.Has(parse.FieldDstPort) {
		return 0, false
	}
	return a.port(r.Protocol, r.SrcPort, r.DstPort, r.TCPFlags, r.Present.Has(parse.FieldTCPFlags)), true
}
