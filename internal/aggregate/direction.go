package aggregate

import (
	"net/netip"

	"github.com/flowd-dev/flowd/internal/parse"
)

// Direction is a flow's direction relative to the interface that captured it.
type Direction uint8

// Directions, in the order of the counters.
const (
	DirectionUnknown Direction = iota // no flow-direction field and no inference possible yet
	DirectionIngress                  // toward the interface
	DirectionEgress                   // from the interface
	numDirections
)

var directionNames = [numDirections]string{"unknown", "ingress", "egress"}

// String returns the direction label: unknown, ingress, egress.
func (d Direction) String() string {
	if d < numDirections {
		return directionNames[d]
	}
	return "unknown"
}

// byDirection holds counts by direction (the index) and action.
type byDirection [numDirections][2]Counts

// ownGuess infers an interface's own address of one address family from its log stream. Every
// record an interface captures has the interface's own address on one side (source for egress,
// destination for ingress), so the address present in every record is the interface's own. It
// keeps the two addresses of the first record as candidates; a candidate missing from a later
// record is dropped, and once one is left it decides the direction. A record without it (a
// secondary address, a changed address, a NAT or load balancer interface that forwards traffic
// of other addresses) starts over. The first records of an interface, and every record of a
// stream that only ever shows one pair, stay unknown: nothing in them tells the sides apart.
type ownGuess struct {
	cand [2]netip.Addr
	n    uint8 // candidates alive: 0 (none yet), 1 (decided) or 2
}

// direction returns the direction of a record from src to dst and learns from it.
func (g *ownGuess) direction(src, dst netip.Addr) Direction {
	switch g.n {
	case 1:
		switch g.cand[0] {
		case src:
			return DirectionEgress
		case dst:
			return DirectionIngress
		}
	case 2:
		a := g.cand[0] == src || g.cand[0] == dst
		b := g.cand[1] == src || g.cand[1] == dst
		switch {
		case a && b:
			return DirectionUnknown
		case a:
			g.n = 1
			return g.direction(src, dst)
		case b:
			g.cand[0], g.n = g.cand[1], 1
			return g.direction(src, dst)
		}
	}
	g.cand, g.n = [2]netip.Addr{src, dst}, 2
	if src == dst {
		g.n = 1
		return DirectionUnknown
	}
	return DirectionUnknown
}

// recordDirection returns r's direction: the flow-direction field when the record has it,
// otherwise the inference of the interface's guesses (nil guesses: unknown).
func recordDirection(r *parse.Record, g *[2]ownGuess, infer bool) Direction {
	if r.Present.Has(parse.FieldFlowDirection) {
		switch r.FlowDirection {
		case parse.FlowDirectionIngress:
			return DirectionIngress
		case parse.FlowDirectionEgress:
			return DirectionEgress
		}
	}
	if !infer || g == nil || !r.Present.Has(parse.FieldSrcAddr) || !r.Present.Has(parse.FieldDstAddr) {
		return DirectionUnknown
	}
	fam := 0
	if r.SrcAddr.Is6() {
		fam = 1
	}
	return g[fam].direction(r.SrcAddr, r.DstAddr)
}
