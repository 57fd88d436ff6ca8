package aggregate

import (
	"encoding/binary"
	"net/netip"
)

// addrKey is a source address, the key of the rejected-sources sketch.
type addrKey struct{ addr netip.Addr }

// pairKey is a (source, destination) address pair, the key of the top-talkers sketch.
type pairKey struct{ src, dst netip.Addr }

func (k addrKey) hash(seed uint64) uint64 { return hashAddr(seed, k.addr) }

func (k pairKey) hash(seed uint64) uint64 {
	return mix64(hashAddr(seed, k.src) ^ hashAddr(seed+0x9e3779b97f4a7c15, k.dst))
}

// hashAddr hashes an address's 16 bytes (IPv4 as IPv4-mapped; the zone is ignored, equality
// still tells such keys apart).
func hashAddr(seed uint64, a netip.Addr) uint64 {
	b := a.As16()
	hi := binary.LittleEndian.Uint64(b[:8])
	lo := binary.LittleEndian.Uint64(b[8:])
	return mix64(seed ^ mix64(hi^0x6a09e667f3bcc908) ^ lo)
}
