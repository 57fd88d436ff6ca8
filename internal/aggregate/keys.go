package aggregate

import (
	"encoding/binary"
	"net/netip"
)

// addrBits is an address's 16 bytes (IPv4 as IPv4-mapped) as two words: unlike netip.Addr, it
// holds no pointer, so sketch entries copy without write barriers and a pair fits a cache line
// with its counts. Zones are not kept (the parser rejects them).
type addrBits struct{ hi, lo uint64 }

func bitsOf(a netip.Addr) addrBits {
	if a.Is4() {
		b := a.As4()
		return addrBits{lo: 0xffff<<32 | uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return addrBits{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// addr returns the address, IPv4 when is4 (else an IPv4-mapped address stays IPv6).
func (b addrBits) addr(is4 bool) netip.Addr {
	if is4 {
		return netip.AddrFrom4([4]byte{byte(b.lo >> 24), byte(b.lo >> 16), byte(b.lo >> 8), byte(b.lo)})
	}
	var a [16]byte
	binary.BigEndian.PutUint64(a[:8], b.hi)
	binary.BigEndian.PutUint64(a[8:], b.lo)
	return netip.AddrFrom16(a)
}

// addrKey is a source address, the key of the rejected-sources sketch.
type addrKey struct {
	a   addrBits
	is4 bool
}

func newAddrKey(a netip.Addr) addrKey { return addrKey{bitsOf(a), a.Is4()} }

func (k addrKey) addr() netip.Addr { return k.a.addr(k.is4) }

// pairKey is a (source, destination) address pair, the key of the top-talkers sketch.
type pairKey struct {
	s, d addrBits
	is4  uint8 // bit 0: the source is IPv4, bit 1: the destination
}

func newPairKey(src, dst netip.Addr) pairKey {
	k := pairKey{s: bitsOf(src), d: bitsOf(dst)}
	if src.Is4() {
		k.is4 |= 1
	}
	if dst.Is4() {
		k.is4 |= 2
	}
	return k
}

func (k pairKey) src() netip.Addr { return k.s.addr(k.is4&1 != 0) }
func (k pairKey) dst() netip.Addr { return k.d.addr(k.is4&2 != 0) }

// Odd multipliers spread each 64-bit word of an address before the words are combined; one
// final mix64 then avalanches the lot. Cheap, since these run on every record; the tables they
// index are small and bounded, so a crafted collision costs a few probes, not a blow-up.
const (
	m1 = 0x9e3779b97f4a7c15
	m2 = 0xc2b2ae3d27d4eb4f
	m3 = 0x165667b19e3779f9
	m4 = 0xd6e8feb86659fd93
)

// IPv4 keys, most of the traffic, hash from their 4 bytes alone; other addresses from their 16
// bytes. An IPv4 address and its IPv4-mapped IPv6 form hash alike: equality tells them apart.
func (k addrKey) hash(seed uint64) uint64 {
	if k.is4 {
		return mix64(seed ^ uint64(uint32(k.a.lo))*m1)
	}
	return mix64(seed ^ k.a.hi*m1 ^ k.a.lo*m2)
}

func (k pairKey) hash(seed uint64) uint64 {
	if k.is4 == 3 {
		return mix64(seed ^ (k.s.lo<<32|uint64(uint32(k.d.lo)))*m1)
	}
	return mix64(seed ^ k.s.hi*m1 ^ k.s.lo*m2 ^ k.d.hi*m3 ^ k.d.lo*m4)
}

// equal is k == o, spelled out as word compares.
func (k pairKey) equal(o pairKey) bool {
	return k.s.lo == o.s.lo && k.d.lo == o.d.lo && k.s.hi == o.s.hi && k.d.hi == o.d.hi && k.is4 == o.is4
}

func (k addrKey) equal(o addrKey) bool { return k.a == o.a && k.is4 == o.is4 }
