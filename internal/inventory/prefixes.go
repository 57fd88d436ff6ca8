package inventory

import (
	"net/netip"
	"slices"
)

// prefixTable finds the longest prefix holding an address. It keeps one map per prefix length
// that occurs, and probes the lengths from the longest down: a few map lookups per address
// (AWS's ip-ranges.json uses about 20 distinct lengths), no allocation.
type prefixTable[V any] struct {
	v4, v6 lengthMaps[V]
}

type lengthMaps[V any] struct {
	bits []int // distinct lengths, longest first
	m    map[int]map[netip.Prefix]V
}

// insert adds p (masked) with v; keep decides, for a prefix already present, whether v
// replaces the old value.
func (t *prefixTable[V]) insert(p netip.Prefix, v V, keep func(old, new V) bool) {
	p = p.Masked()
	lm := &t.v4
	if p.Addr().Is6() {
		lm = &t.v6
	}
	if lm.m == nil {
		lm.m = map[int]map[netip.Prefix]V{}
	}
	m := lm.m[p.Bits()]
	if m == nil {
		m = map[netip.Prefix]V{}
		lm.m[p.Bits()] = m
		lm.bits = append(lm.bits, p.Bits())
		slices.SortFunc(lm.bits, func(a, b int) int { return b - a })
	}
	if old, ok := m[p]; ok && keep != nil && !keep(old, v) {
		return
	}
	m[p] = v
}

// lookup returns the value of the longest prefix containing a.
func (t *prefixTable[V]) lookup(a netip.Addr) (V, bool) {
	a = a.Unmap()
	lm := &t.v4
	if a.Is6() {
		lm = &t.v6
	}
	for _, bits := range lm.bits {
		p, err := a.Prefix(bits)
		if err != nil {
			continue
		}
		if v, ok := lm.m[bits][p]; ok {
			return v, true
		}
	}
	var zero V
	return zero, false
}

func (t *prefixTable[V]) len() int {
	n := 0
	for _, m := range t.v4.m {
		n += len(m)
	}
	for _, m := range t.v6.m {
		n += len(m)
	}
	return n
}
