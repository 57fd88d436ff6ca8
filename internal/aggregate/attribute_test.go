package aggregate

import (
	"testing"

	"github.com/flowd-dev/flowd/internal/parse"
)

func TestServicePort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		service    []uint16
		ephemeral  uint16
		proto      uint8
		src, dst   uint16
		flags      uint8
		flagsKnown bool
		want       uint16
	}{
		{name: "request to https", proto: 6, src: 51234, dst: 443, want: 443},
		{name: "reply from https", proto: 6, src: 443, dst: 51234, want: 443},
		{name: "request to 8080", proto: 6, src: 51234, dst: 8080, want: 8080},
		{name: "reply from 8080 counts like the request", proto: 6, src: 8080, dst: 51234, want: 8080},
		{name: "dns over udp", proto: 17, src: 40000, dst: 53, want: 53},
		{name: "ntp both sides privileged", proto: 17, src: 123, dst: 123, want: 123},
		{name: "privileged client to ssh", proto: 6, src: 1023, dst: 22, want: 22},
		{name: "icmp has no port", proto: 1, src: 0, dst: 0, want: 0},
		{name: "icmpv6 ignores port values", proto: 58, src: 3, dst: 4, want: 0},
		{name: "zero source port", proto: 6, src: 0, dst: 45000, want: 45000},
		{name: "configured port wins over a lower one", service: []uint16{50051}, proto: 6, src: 50051, dst: 40000, want: 50051},
		{name: "configured port wins over a privileged one", service: []uint16{9100}, proto: 6, src: 443, dst: 9100, want: 9100},
		{name: "both configured: the lower", service: []uint16{8443, 8080}, proto: 6, src: 8443, dst: 8080, want: 8080},
		{name: "both ephemeral with syn-ack: the sender is the server", proto: 6, src: 50051, dst: 40000, flags: 0x12 | 1, flagsKnown: true, want: 50051},
		{name: "both ephemeral with syn: the receiver is the server", proto: 6, src: 40000, dst: 50051, flags: 0x02, flagsKnown: true, want: 50051},
		{name: "both ephemeral, no handshake in the interval: the lower", proto: 6, src: 50051, dst: 40000, flags: 0, flagsKnown: true, want: 40000},
		{name: "flags ignored below ephemeral start", proto: 6, src: 443, dst: 40000, flags: 0x02, flagsKnown: true, want: 443},
		{name: "linux ephemeral start keeps 8080 a service", ephemeral: 32768, proto: 6, src: 8080, dst: 40000, want: 8080},
		{name: "linux ephemeral start with syn on high ports", ephemeral: 32768, proto: 6, src: 40000, dst: 50051, flags: 0x02, flagsKnown: true, want: 50051},
		{name: "sctp has ports", proto: 132, src: 40000, dst: 3868, want: 3868},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			cfg.ServicePorts = tc.service
			if tc.ephemeral != 0 {
				cfg.EphemeralStart = tc.ephemeral
			}
			at := newAttributor(cfg)
			r := parse.Record{Present: v2, Protocol: tc.proto, SrcPort: tc.src, DstPort: tc.dst, TCPFlags: tc.flags}
			if tc.flagsKnown {
				r.Present = r.Present.With(parse.FieldTCPFlags)
			}
			got, ok := at.servicePort(&r)
			if !ok || got != tc.want {
				t.Errorf("servicePort(proto %d, %d -> %d, flags %#x) = %d, %v; want %d, true", tc.proto, tc.src, tc.dst, tc.flags, got, ok, tc.want)
			}
			// A request and its reply must agree whenever the flags do not tell them apart.
			if !tc.flagsKnown {
				r.SrcPort, r.DstPort = r.DstPort, r.SrcPort
				if back, _ := at.servicePort(&r); back != got {
					t.Errorf("reversed flow gets port %d, the original %d", back, got)
				}
			}
		})
	}
}

func TestServicePortMissingPort(t *testing.T) {
	t.Parallel()
	at := newAttributor(DefaultConfig())
	r := parse.Record{Present: v2.Without(parse.FieldDstPort), Protocol: 6, SrcPort: 443}
	if p, ok := at.servicePort(&r); ok {
		t.Errorf("servicePort without dstport = %d, true; want false (never guessed)", p)
	}
	r = parse.Record{Present: v2.Without(parse.FieldDstPort), Protocol: 1}
	if p, ok := at.servicePort(&r); !ok || p != 0 {
		t.Errorf("icmp without dstport = %d, %v; want 0, true", p, ok)
	}
}
