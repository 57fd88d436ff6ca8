package aggregate

import "math/bits"

// ssKey is a key of a Space-Saving sketch: comparable, with a seeded hash.
type ssKey interface {
	comparable
	hash(seed uint64) uint64
}

// heapItem is a slot and its count in the heap.
type heapItem struct {
	count uint64
	slot  int32
}

// ssEntry is one monitored key: count overestimates the key's true weight by at most err.
type ssEntry[K ssKey] struct {
	key   K
	h     uint64 // hash of key, kept for deletions
	count uint64
	err   uint64
}

// spaceSaving is the Space-Saving heavy-hitter sketch (Metwally, Agrawal, El Abbadi, 2005) with a
// fixed capacity: a key of true weight above total/capacity is always monitored, and every count
// is an overestimate by at most its err. Entries live in fixed slots; a min-heap over the slots
// finds the entry to replace, and an open-addressing table (linear probing, load ≤ 1/4,
// backward-shift deletion) finds a key's slot. Nothing allocates after the first fill.
type spaceSaving[K ssKey] struct {
	capacity int
	seed     uint64
	entries  []ssEntry[K] // by slot
	heap     []heapItem   // min-heap by count; counts are copied here to keep the sift cache-local
	hpos     []int32      // by slot: position in heap
	table    []int32      // slot+1, 0 when empty
	mask     uint64
}

func newSpaceSaving[K ssKey](capacity int, seed uint64) spaceSaving[K] {
	size := 1 << bits.Len(uint(4*capacity-1))
	return spaceSaving[K]{
		capacity: capacity,
		seed:     seed,
		entries:  make([]ssEntry[K], 0, capacity),
		heap:     make([]heapItem, 0, capacity),
		hpos:     make([]int32, capacity),
		table:    make([]int32, size),
		mask:     uint64(size - 1),
	}
}

// reset empties the sketch, keeping its memory.
func (s *spaceSaving[K]) reset() {
	s.entries = s.entries[:0]
	s.heap = s.heap[:0]
	clear(s.table)
}

// add adds weight w to key k. It returns k's slot and whether the slot was (re)assigned to k by
// this call, so that callers keeping data per slot can reset it.
func (s *spaceSaving[K]) add(k K, w uint64) (slot int32, fresh bool) {
	h := k.hash(s.seed)
	i := h & s.mask
	for t := s.table[i]; t != 0; t = s.table[i] {
		if e := &s.entries[t-1]; e.h == h && e.key == k {
			e.count += w
			p := int(s.hpos[t-1])
			s.heap[p].count = e.count
			s.down(p)
			return t - 1, false
		}
		i = (i + 1) & s.mask
	}
	if len(s.entries) < s.capacity {
		slot = int32(len(s.entries))
		s.entries = append(s.entries, ssEntry[K]{key: k, h: h, count: w})
		s.table[i] = slot + 1
		s.hpos[slot] = int32(len(s.heap))
		s.heap = append(s.heap, heapItem{count: w, slot: slot})
		s.up(len(s.heap) - 1)
		return slot, true
	}
	// Replace the minimum: the new key inherits its count as the error bound.
	slot = s.heap[0].slot
	e := &s.entries[slot]
	s.remove(e.h, slot)
	floor := e.count
	*e = ssEntry[K]{key: k, h: h, count: floor + w, err: floor}
	s.insert(h, slot)
	s.heap[0].count = e.count
	s.down(0)
	return slot, true
}

// insert puts slot in the table at the first free place of its probe sequence.
func (s *spaceSaving[K]) insert(h uint64, slot int32) {
	i := h & s.mask
	for s.table[i] != 0 {
		i = (i + 1) & s.mask
	}
	s.table[i] = slot + 1
}

// remove deletes slot (whose key hashes to h) from the table, shifting back the entries of the
// probe run so that lookups never stop at a hole.
func (s *spaceSaving[K]) remove(h uint64, slot int32) {
	i := h & s.mask
	for s.table[i] != slot+1 {
		i = (i + 1) & s.mask
	}
	for {
		s.table[i] = 0
		j := i
		for {
			j = (j + 1) & s.mask
			t := s.table[j]
			if t == 0 {
				return
			}
			home := s.entries[t-1].h & s.mask
			// The entry at j may move to the hole at i unless its home lies cyclically in (i, j].
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				s.table[i] = t
				i = j
				break
			}
		}
	}
}

func (s *spaceSaving[K]) less(a, b int) bool { return s.heap[a].count < s.heap[b].count }

func (s *spaceSaving[K]) swap(a, b int) {
	s.heap[a], s.heap[b] = s.heap[b], s.heap[a]
	s.hpos[s.heap[a].slot] = int32(a)
	s.hpos[s.heap[b].slot] = int32(b)
}

func (s *spaceSaving[K]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			return
		}
		s.swap(i, p)
		i = p
	}
}

func (s *spaceSaving[K]) down(i int) {
	n := len(s.heap)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && s.less(c+1, c) {
			c++
		}
		if !s.less(c, i) {
			return
		}
		s.swap(i, c)
		i = c
	}
}

// put inserts a new entry with the given count and error (restoring a checkpoint). It reports
// false if k is already monitored or the sketch is full.
func (s *spaceSaving[K]) put(k K, count, err uint64) (int32, bool) {
	h := k.hash(s.seed)
	i := h & s.mask
	for t := s.table[i]; t != 0; t = s.table[i] {
		if e := &s.entries[t-1]; e.h == h && e.key == k {
			return 0, false
		}
		i = (i + 1) & s.mask
	}
	if len(s.entries) >= s.capacity {
		return 0, false
	}
	slot := int32(len(s.entries))
	s.entries = append(s.entries, ssEntry[K]{key: k, h: h, count: count, err: err})
	s.table[i] = slot + 1
	s.hpos[slot] = int32(len(s.heap))
	s.heap = append(s.heap, heapItem{count: count, slot: slot})
	s.up(len(s.heap) - 1)
	return slot, true
}
