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
		return addrBits{lo: v4Bits(a)}
	}
	// As16 goes through memory; IPv4, most of the traffic, takes the 4-byte path above.
	b := a.As16()
	return addrBits{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// v4Bits is the low word of IPv4 address a in its IPv4-mapped form.
func v4Bits(a netip.Addr) uint64 {
	b := a.As4()
	return 0xffff<<32 | uint64(binary.BigEndian.Uint32(b[:]))
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

// pairKey is a (source, destination) address pair, the key of the top-talkers sketch, and with
// no destination (the zero addrBits) a source, the key of the rejected-sources sketch. One
// concrete key type keeps the sketch's hash and equality inlined (methods of a type parameter
// are called through a dictionary).
type pairKey struct {
	s, d addrBits
	is4  uint8 // bit 0: the source is IPv4, bit 1: the destination
}

// addrKey is a pairKey holding a source address alone.
type addrKey = pairKey

func newPairKey(src, dst netip.Addr) pairKey {
	if src.Is4() && dst.Is4() { // most records: no 16-byte copies
		return pairKey{s: addrBits{lo: v4Bits(src)}, d: addrBits{lo: v4Bits(dst)}, is4: 3}
	}
	k := pairKey{s: bitsOf(src), d: bitsOf(dst)}
	if src.Is4() {
		k.is4 |= 1
	}
	if dst.Is4() {
		k.is4 |= 2
	}
	return k
}

func newAddrKey(a netip.Addr) addrKey {
	k := pairKey{s: bitsOf(a)}
	if a.Is4() {
		k.is4 = 1
	}
	return k
}

func (k pairKey) src() netip.Addr { return k.s.addr(k.is4&1 != 0) }
func (k pairKey) dst() netip.Addr { return k.d.addr(k.is4&2 != 0) }

// addr is the source of a key made by newAddrKey.
func (k pairKey) addr() netip.Addr { return k.src() }

// Odd multipliers spread each 64-bit word of an address before the words are combined; one
// final mix64 then avalanches the lot. Cheap, since these run on every record; the tables they
// index are small and bounded, so a crafted collision costs a few probes, not a blow-up.
const (
	m1 = 0x9e3779b97f4a7c15
	m2 = 0xc2b2ae3d27d4eb4f
	m3 = 0x165667b19e3779f9
	m4 = 0xd6e8feb86659fd93
)

// hash mixes the key's words. IPv4 keys, most of the traffic, mix their 4-byte addresses as one
// word; others mix the four words and the family bits. An IPv4 key and its IPv4-mapped IPv6
// form may hash alike: equality tells them apart.
func (k pairKey) hash(seed uint64) uint64 {
	switch {
	case k.is4 == 3:
		return mix64(seed ^ (k.s.lo<<32|k.d.lo&0xffffffff)*m1)
	case k.is4 == 1 && k.d == addrBits{}:
		return mix64(seed ^ (k.s.lo&0xffffffff)*m2)
	}
	return mix64(seed ^ k.s.hi*m1 ^ k.s.lo*m2 ^ k.d.hi*m3 ^ k.d.lo*m4 ^ uint64(k.is4))
}

// equal is k == o, spelled out as word compares.
func (k pairKey) equal(o pairKey) bool {
	return k.s.lo == o.s.lo && k.d.lo == o.d.lo && k.s.hi == o.s.hi && k.d.hi == o.d.hi && k.is4 == o.is4
}
