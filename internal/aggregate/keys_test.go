package aggregate

import (
	"net/netip"
	"testing"
)

func TestKeysRoundTripAndTellMappedApart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		src, dst string
	}{
		{name: "IPv4", src: "198.51.100.7", dst: "10.0.0.1"},
		{name: "IPv6", src: "2001:db8::1", dst: "2600:1f18::ff"},
		{name: "mixed", src: "192.0.2.1", dst: "2001:db8::2"},
		{name: "IPv4-mapped IPv6", src: "::ffff:198.51.100.7", dst: "::ffff:10.0.0.1"},
		{name: "zero and max", src: "0.0.0.0", dst: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	}
	seen := map[pairKey]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := netip.MustParseAddr(tc.src), netip.MustParseAddr(tc.dst)
			k := newPairKey(src, dst)
			if k.src() != src || k.dst() != dst {
				t.Errorf("pair key gives %s -> %s, want %s -> %s", k.src(), k.dst(), src, dst)
			}
			if a := newAddrKey(src); a.addr() != src {
				t.Errorf("address key gives %s, want %s", a.addr(), src)
			}
			if !k.equal(newPairKey(src, dst)) || k.hash(7) != newPairKey(src, dst).hash(7) {
				t.Errorf("equal keys differ in equality or hash")
			}
			if other, dup := seen[k]; dup {
				t.Errorf("key of %s -> %s equals the key of %s", src, dst, other)
			}
			seen[k] = tc.name
		})
	}
	// The IPv4 pair and its IPv4-mapped form are different keys.
	v4 := newPairKey(netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("10.0.0.1"))
	mapped := newPairKey(netip.MustParseAddr("::ffff:198.51.100.7"), netip.MustParseAddr("::ffff:10.0.0.1"))
	if v4.equal(mapped) || newAddrKey(v4.src()).equal(newAddrKey(mapped.src())) {
		t.Errorf("an IPv4 key equals its IPv4-mapped form")
	}
}
