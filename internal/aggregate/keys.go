package aggregate

import (
	"encoding/binary"
	"net/netip"
)

// addrKey is a source address, the key of the rejected-sources sketch.
type addrKey struct{ addr netip.Addr }

// pairKey is a (source, destination) address pair, the key of the top-talkers sketch.
type pairKey struct{ src, dst netip.Addr }

// Odd multipliers spread each 64-bit word of an address before the words are combined; one
// final mix64 then avalanches the lot. Cheap, since these run on every record; the tables they
// index are small and bounded, so a crafted collision costs a few probes, not a blow-up.
const (
	m1 = 0x9e3779b97f4a7c15
	m2 = 0xc2b2ae3d27d4eb4f
	m3 = 0x165667b19e3779f9
	m4 = 0xd6e8feb86659fd93
)

func (k addrKey) hash(seed uint64) uint64 {
	hi, lo := words(k.addr)
	return mix64(seed ^ hi*m1 ^ lo*m2)
}

func (k pairKey) hash(seed uint64) uint64 {
	shi, slo := words(k.src)
	dhi, dlo := words(k.dst)
	return mix64(seed ^ shi*m1 ^ slo*m2 ^ dhi*m3 ^ dlo*m4)
}

// words returns an address's 16 bytes (IPv4 as IPv4-mapped) as two words. The zone is ignored:
// equality still tells such keys apart.
func words(a netip.Addr) (uint64, uint64) {
	b := a.As16()
	return binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
}
