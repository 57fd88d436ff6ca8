package aggregate

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// checkSketch asserts the guarantees the filter must keep (see spaceSaving): monitored counts
// within their error, unmonitored keys at most their cell, cells at most the floor, the floor at
// most total/(capacity+1), and the table holding exactly the entries.
func checkSketch(t *testing.T, s *spaceSaving[struct{}], truth map[pairKey]uint64, total uint64) {
	t.Helper()
	monitored := map[pairKey]bool{}
	for _, e := range s.entries {
		monitored[e.key] = true
		if tr := truth[e.key]; e.count < tr || e.count-e.err > tr || e.err > s.floor {
			t.Fatalf("key %v->%v: count %d err %d floor %d, true %d", e.key.src(), e.key.dst(), e.count, e.err, s.floor, tr)
		}
	}
	for i, c := range s.filter {
		if c > s.floor {
			t.Fatalf("cell %d holds %d, above the floor %d", i, c, s.floor)
		}
	}
	for k, tr := range truth {
		if monitored[k] {
			continue
		}
		if c := *s.cell(k.hash(s.seed)); tr > c {
			t.Fatalf("unmonitored key %v->%v weighs %d, above its cell %d", k.src(), k.dst(), tr, c)
		}
	}
	if s.floor > total/uint64(s.capacity+1) {
		t.Fatalf("floor %d above total/(capacity+1) = %d", s.floor, total/uint64(s.capacity+1))
	}
	if len(s.entries) > 2*s.capacity {
		t.Fatalf("%d entries, capacity %d", len(s.entries), s.capacity)
	}
	used := 0
	for _, v := range s.table {
		if v.idx1 != 0 {
			used++
		}
	}
	if used != len(s.entries) {
		t.Fatalf("table holds %d entries, sketch %d", used, len(s.entries))
	}
}

// sameCellKeys returns n distinct keys whose filter cell is the same in s.
func sameCellKeys(s *spaceSaving[struct{}], n int) []pairKey {
	var keys []pairKey
	want := uint64(0)
	for i := uint32(0); len(keys) < n; i++ {
		k := newPairKey(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), netip.AddrFrom4([4]byte{192, 0, 2, 1}))
		h := k.hash(s.seed)
		if len(keys) == 0 {
			want = (h >> 16) & s.fmask
		}
		if (h>>16)&s.fmask == want {
			keys = append(keys, k)
		}
	}
	return keys
}

func TestSpaceSavingFilterAdversarial(t *testing.T) {
	t.Parallel()
	const capacity = 16
	tests := []struct {
		name   string
		stream func(s *spaceSaving[struct{}], r *rand.Rand, emit func(k pairKey, w uint64))
	}{
		{
			// Keys of one cell, round robin, each just fitting under the floor: the cell must
			// bound them all, and the two heavy ones among them must be monitored.
			name: "keys sharing one cell",
			stream: func(s *spaceSaving[struct{}], r *rand.Rand, emit func(pairKey, uint64)) {
				keys := sameCellKeys(s, 40)
				for i := range 200_000 {
					k := keys[i%len(keys)]
					if i%3 == 0 {
						k = keys[i%6/3] // keys[0] and keys[1] take a third of the records
					}
					emit(k, uint64(1+r.IntN(50)))
				}
			},
		},
		{
			// A heavy key delivered in weight-1 pieces among large one-off keys: each piece fits
			// its cell, yet the key outweighs total/(capacity+1) and must be monitored.
			name: "heavy key in small pieces",
			stream: func(s *spaceSaving[struct{}], r *rand.Rand, emit func(pairKey, uint64)) {
				heavy := newPairKey(ip("198.51.100.7"), ip("10.0.0.1"))
				for i := range 100_000 {
					emit(heavy, 1)
					emit(newPairKey(netip.AddrFrom4([4]byte{172, byte(i >> 16), byte(i >> 8), byte(i)}), ip("10.0.0.2")), 5)
				}
			},
		},
		{
			// Two keys of one cell alternating with many fresh keys: each keeps re-entering
			// from the cell after a prune drops it.
			name: "colliding pair among fresh keys",
			stream: func(s *spaceSaving[struct{}], r *rand.Rand, emit func(pairKey, uint64)) {
				pair := sameCellKeys(s, 2)
				for i := range 150_000 {
					emit(pair[i%2], uint64(r.IntN(20)))
					emit(newPairKey(netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)}), ip("10.0.0.3")), uint64(r.IntN(40)))
				}
			},
		},
		{
			// Keys dropped by a prune and never seen again: their cells must have taken their
			// counts, or a cell no other key touched would be below a dropped key's weight.
			name: "dropped keys not seen again",
			stream: func(s *spaceSaving[struct{}], r *rand.Rand, emit func(pairKey, uint64)) {
				for i := range 3 * capacity {
					emit(newPairKey(netip.AddrFrom4([4]byte{100, 1, 0, byte(i)}), ip("10.0.0.5")), uint64(1000+i))
				}
			},
		},
		{
			name: "zero weights",
			stream: func(s *spaceSaving[struct{}], r *rand.Rand, emit func(pairKey, uint64)) {
				for i := range 50_000 {
					emit(newPairKey(netip.AddrFrom4([4]byte{100, 0, byte(i >> 8), byte(i)}), ip("10.0.0.4")), uint64(r.IntN(2)*r.IntN(100)))
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSpaceSaving[struct{}](capacity, 7)
			r := rand.New(rand.NewPCG(1, 9))
			truth := map[pairKey]uint64{}
			var total uint64
			n := 0
			tc.stream(&s, r, func(k pairKey, w uint64) {
				s.add(k, w)
				truth[k] += w
				total += w
				if n++; n%20_000 == 0 {
					checkSketch(t, &s, truth, total)
				}
			})
			checkSketch(t, &s, truth, total)
			monitored := map[pairKey]bool{}
			for _, e := range s.entries {
				monitored[e.key] = true
			}
			for k, tr := range truth {
				if tr > total/uint64(capacity+1) && !monitored[k] {
					t.Errorf("heavy key %v->%v (%d of %d) is not monitored", k.src(), k.dst(), tr, total)
				}
			}
		})
	}
}

func TestSpaceSavingFilterAfterRestore(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, func(c *Config) { c.TopK = 5 })
	a.AddBatch(generated(3, 20_000))
	b, _ := newTestAggregator(t, func(c *Config) { c.TopK = 5 })
	if err := b.Restore(a.State()); err != nil {
		t.Fatal(err)
	}
	restored := 0
	for i := range b.ring {
		bk := &b.ring[i]
		if !bk.used {
			continue
		}
		restored++
		// A restore knows only the floors: every cell must be at its floor, or an unmonitored
		// key of the checkpoint could weigh more than its cell.
		for _, s := range []struct {
			floor  uint64
			filter []uint64
		}{{bk.talkers.floor, bk.talkers.filter}, {bk.rejected.floor, bk.rejected.filter}} {
			for j, c := range s.filter {
				if c != s.floor {
					t.Fatalf("bucket %d: cell %d = %d after restore, floor %d", bk.num, j, c, s.floor)
				}
			}
		}
	}
	if restored == 0 {
		t.Fatal("no bucket restored")
	}
}
