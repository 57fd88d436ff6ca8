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

// IPv4 keys, most of the traffic, hash from their 4 bytes alone (As16 and its byte swaps cost
// more than the mix); other addresses from their 16 bytes. An IPv4 address and its IPv4-mapped
// IPv6 form may then hash alike: equality still tells them apart.
func (k addrKey) hash(seed uint64) uint64 {
	if k.addr.Is4() {
		return mix64(seed ^ uint64(as4(k.addr))*m1)
	}
	hi, lo := addrWords(k.addr)
	return mix64(seed ^ hi*m1 ^ lo*m2)
}

func (k pairKey) hash(seed uint64) uint64 {
	if k.src.Is4() && k.dst.Is4() {
		return mix64(seed ^ (uint64(as4(k.src))<<32|uint64(as4(k.dst)))*m1)
	}
	shi, slo := addrWords(k.src)
	dhi, dlo := addrWords(k.dst)
	return mix64(seed ^ shi*m1 ^ slo*m2 ^ dhi*m3 ^ dlo*m4)
}

// equal is k == o, spelled out: the compiler calls memequal for a 48-byte struct.
func (k pairKey) equal(o pairKey) bool { return k.src == o.src && k.dst == o.dst }

func (k addrKey) equal(o addrKey) bool { return k.addr == o.addr }

// as4 returns an IPv4 address as a number.
func as4(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// addrWords returns an address's 16 bytes (IPv4 as IPv4-mapped) as two words. The zone is
// ignored: equality still tells such keys apart.
func addrWords(a netip.Addr) (uint64, uint64) {
	b := a.As16()
	return binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
}
