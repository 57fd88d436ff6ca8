package aggregate

import "math/bits"

// ssEntry is one monitored key: count overestimates the key's true weight by at most err.
type ssEntry struct {
	key   pairKey
	h     uint64 // hash of key, kept so that a prune rebuilds the table without rehashing
	count uint64
	err   uint64
}

// ssSlot is a hash-table slot: the entry index+1 (0 when empty) and the high half of the key's
// hash, so that a probe reads an entry only when its hash very likely matches.
type ssSlot struct {
	tag  uint32
	idx1 int32
}

// spaceSaving is a heavy-hitter sketch of bounded memory: Space-Saving (Metwally, Agrawal,
// El Abbadi, 2005) with batched eviction, which is Misra-Gries with the floor added back, and a
// filter in front of it in the manner of Filtered Space-Saving (Homem and Carvalho, 2010).
//
// The filter is an array of cells indexed by the key's hash. Invariant: the true weight of every
// unmonitored key is at most its cell, and no cell exceeds floor. An unmonitored key of weight w
// whose cell c has c+w ≤ floor only adds w to the cell (nothing is inserted: most keys of a
// long-tailed stream stay there); otherwise it enters with count c+w and error c. A prune
// (when 2*capacity entries are monitored and a key must enter) raises floor to the
// (capacity+1)-th largest count, drops every entry at or below it and writes each dropped count
// into its cell (the cell keeps the larger of the two). While fewer than capacity keys are
// monitored every new key enters, so a sketch that has seen capacity keys lists capacity.
//
// Why the guarantees of Space-Saving hold:
//   - a cell only grows while it stays ≤ floor, and a dropped count written into it is ≤ the new
//     floor, so no cell exceeds floor; a key entering from cell c has true weight ≤ c+w = count,
//     and count-err = w ≤ true weight;
//   - a cell is an upper bound for each of its unmonitored keys: adding w to it raises every
//     member's bound, a dropped key's count (≥ its true weight) is written into it, and a cell
//     never decreases; so an unmonitored key's true weight is at most floor;
//   - floor ≤ total/(capacity+1): with count-floor as a Misra-Gries counter, a key enters with a
//     counter of at most w (c ≤ floor), weight kept in cells adds to no counter, and a prune that
//     raises floor by d subtracts d from at least capacity+1 counters (every entry at or above
//     the new floor). Counters never go below zero and grow by at most the total weight.
//
// So a monitored key's true weight is in [count-err, count] with err ≤ floor, and every key
// heavier than total/(capacity+1) is monitored (the classic sketch with capacity entries
// promises total/capacity). The classic sketch replaces its minimum entry on every unmonitored
// key (a hash-table delete and insert and a heap sift, on most records of a long-tailed stream);
// here an unmonitored key costs a table probe and a cell update, or an insert, and a prune (a
// selection over the counts and a table rebuild) comes once per capacity inserts at most.
// Nothing allocates after the first fill.
type spaceSaving[V any] struct {
	capacity int
	seed     uint64
	floor    uint64    // an unmonitored key's true weight is at most floor
	entries  []ssEntry // at most 2*capacity
	vals     []V       // by entry: the caller's data about the key while it is monitored
	table    []ssSlot  // linear probing, load ≤ 1/2
	mask     uint64
	scratch  []uint64 // the counts, for a prune's selection
	// filter holds, by hash, an upper bound of the true weight of every unmonitored key with
	// that hash; no cell exceeds floor.
	filter []uint64
	fmask  uint64
}

func newSpaceSaving[V any](capacity int, seed uint64) spaceSaving[V] {
	size := 1 << bits.Len(uint(4*capacity-1))
	return spaceSaving[V]{
		capacity: capacity,
		seed:     seed,
		entries:  make([]ssEntry, 0, 2*capacity),
		vals:     make([]V, 0, 2*capacity),
		table:    make([]ssSlot, size),
		mask:     uint64(size - 1),
		scratch:  make([]uint64, 0, 2*capacity),
		filter:   make([]uint64, size),
		fmask:    uint64(size - 1),
	}
}

// cell returns the filter cell of hash h. Its bits are apart from the table's index and tag.
func (s *spaceSaving[V]) cell(h uint64) *uint64 { return &s.filter[(h>>16)&s.fmask] }

// reset empties the sketch, keeping its memory.
func (s *spaceSaving[V]) reset() {
	s.floor = 0
	s.entries = s.entries[:0]
	s.vals = s.vals[:0]
	clear(s.table)
	clear(s.filter)
}

// fillFilter sets every filter cell to floor: after a restore, which knows only that an
// unmonitored key weighs at most floor.
func (s *spaceSaving[V]) fillFilter() {
	for i := range s.filter {
		s.filter[i] = s.floor
	}
}

// add adds weight w to key k and returns k's value, zeroed when k was not monitored before, or
// nil when k stays unmonitored (its weight went to its filter cell). The pointer is valid until
// the next add.
func (s *spaceSaving[V]) add(k pairKey, w uint64) *V {
	h := k.hash(s.seed)
	tag := uint32(h >> 32)
	i := h & s.mask
	for t := s.table[i]; t.idx1 != 0; t = s.table[i] {
		if t.tag == tag {
			if e := &s.entries[t.idx1-1]; e.key.equal(k) {
				e.count += w
				return &s.vals[t.idx1-1]
			}
		}
		i = (i + 1) & s.mask
	}
	// Unmonitored: the key's weight stays in its filter cell while the cell can hold it under the
	// floor (w ≤ floor-cell cannot overflow: no cell exceeds floor).
	c := s.cell(h)
	if len(s.entries) >= s.capacity && w <= s.floor-*c {
		*c += w
		return nil
	}
	if len(s.entries) == cap(s.entries) {
		s.prune() // raises the floor (and maybe the cell): the key may now fit its cell
		if w <= s.floor-*c {
			*c += w
			return nil
		}
		i = s.free(h)
	}
	n := len(s.entries)
	s.entries = append(s.entries, ssEntry{key: k, h: h, count: *c + w, err: *c})
	var zero V
	s.vals = append(s.vals, zero)
	s.table[i] = ssSlot{tag: tag, idx1: int32(n) + 1}
	return &s.vals[n]
}

// free returns the first empty table position of hash h's probe sequence.
func (s *spaceSaving[V]) free(h uint64) uint64 {
	i := h & s.mask
	for s.table[i].idx1 != 0 {
		i = (i + 1) & s.mask
	}
	return i
}

// prune raises the floor to the (capacity+1)-th largest count and keeps the entries above it
// (at most capacity), in their order.
func (s *spaceSaving[V]) prune() {
	counts := s.scratch[:0]
	for i := range s.entries {
		counts = append(counts, s.entries[i].count)
	}
	s.floor = max(s.floor, nthLargest(counts, s.capacity))
	kept := 0
	for i := range s.entries {
		if s.entries[i].count > s.floor {
			if kept != i {
				s.entries[kept] = s.entries[i]
				s.vals[kept] = s.vals[i]
			}
			kept++
		} else {
			c := s.cell(s.entries[i].h)
			*c = max(*c, s.entries[i].count)
		}
	}
	s.entries = s.entries[:kept]
	s.vals = s.vals[:kept]
	clear(s.table)
	for i := range s.entries {
		h := s.entries[i].h
		s.table[s.free(h)] = ssSlot{tag: uint32(h >> 32), idx1: int32(i) + 1}
	}
}

// nthLargest returns the element that would be at index n (0-based) if x were sorted in
// decreasing order, for n < len(x); it reorders x. Quickselect with a median-of-three pivot.
func nthLargest(x []uint64, n int) uint64 {
	lo, hi := 0, len(x)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		// Order x[lo] ≥ x[mid] ≥ x[hi], then partition around x[mid].
		if x[mid] > x[lo] {
			x[mid], x[lo] = x[lo], x[mid]
		}
		if x[hi] > x[lo] {
			x[hi], x[lo] = x[lo], x[hi]
		}
		if x[hi] > x[mid] {
			x[hi], x[mid] = x[mid], x[hi]
		}
		pivot := x[mid]
		i, j := lo, hi
		for i <= j {
			for x[i] > pivot {
				i++
			}
			for x[j] < pivot {
				j--
			}
			if i <= j {
				x[i], x[j] = x[j], x[i]
				i++
				j--
			}
		}
		// Now x[lo..j] ≥ pivot ≥ x[i..hi], and x[j+1..i-1] == pivot.
		switch {
		case n <= j:
			hi = j
		case n >= i:
			lo = i
		default:
			return pivot
		}
	}
	return x[n]
}

// put inserts a new entry with the given count and error (restoring a checkpoint). It reports
// false if k is already monitored or the sketch is full (2*capacity entries).
func (s *spaceSaving[V]) put(k pairKey, count, err uint64) (*V, bool) {
	h := k.hash(s.seed)
	i := h & s.mask
	for t := s.table[i]; t.idx1 != 0; t = s.table[i] {
		if e := &s.entries[t.idx1-1]; e.h == h && e.key.equal(k) {
			return nil, false
		}
		i = (i + 1) & s.mask
	}
	if len(s.entries) >= cap(s.entries) {
		return nil, false
	}
	n := len(s.entries)
	s.entries = append(s.entries, ssEntry{key: k, h: h, count: count, err: err})
	var zero V
	s.vals = append(s.vals, zero)
	s.table[i] = ssSlot{tag: uint32(h >> 32), idx1: int32(n) + 1}
	return &s.vals[n], true
}
