package aggregate

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

func TestSpaceSavingGuarantees(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		capacity int
		keys     int
		n        int
		weighted bool
	}{
		{name: "skewed unit weights", capacity: 16, keys: 5000, n: 50_000},
		{name: "skewed weights", capacity: 80, keys: 100_000, n: 100_000, weighted: true},
		{name: "fewer keys than capacity", capacity: 64, keys: 40, n: 10_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(uint64(tc.capacity), uint64(tc.keys)))
			s := newSpaceSaving[struct{}](tc.capacity, 42)
			truth := map[addrKey]uint64{}
			var total uint64
			for range tc.n {
				x := r.Float64()
				idx := int(float64(tc.keys) * x * x * x * x)
				k := newAddrKey(netip.AddrFrom4([4]byte{10, byte(idx >> 16), byte(idx >> 8), byte(idx)}))
				w := uint64(1)
				if tc.weighted {
					w = uint64(1 + r.IntN(1000))
				}
				s.add(k, w)
				truth[k] += w
				total += w
			}
			// Every monitored count overestimates by at most its error.
			monitored := map[addrKey]bool{}
			for _, e := range s.entries {
				monitored[e.key] = true
				if tr := truth[e.key]; e.count < tr || e.count-e.err > tr {
					t.Errorf("key %v: count %d err %d, true %d", e.key.addr(), e.count, e.err, tr)
				}
			}
			// Every key heavier than total/capacity is monitored.
			for k, tr := range truth {
				if tr > total/uint64(tc.capacity) && !monitored[k] {
					t.Errorf("heavy key %v (%d of %d) is not monitored", k.addr(), tr, total)
				}
			}
			// An unmonitored key weighs at most the floor, which is at most total/(capacity+1).
			for k, tr := range truth {
				if !monitored[k] && tr > s.floor {
					t.Errorf("unmonitored key %v weighs %d, above the floor %d", k.addr(), tr, s.floor)
				}
			}
			if s.floor > total/uint64(tc.capacity+1) {
				t.Errorf("floor %d above total/(capacity+1) = %d", s.floor, total/uint64(tc.capacity+1))
			}
			// The hash table holds exactly the entries, each findable from its home slot.
			used := 0
			for _, v := range s.table {
				if v.idx1 != 0 {
					used++
				}
			}
			if used != len(s.entries) || len(s.entries) > 2*tc.capacity {
				t.Errorf("table holds %d entries, sketch %d (capacity %d)", used, len(s.entries), tc.capacity)
			}
			n := len(s.entries)
			for slot := range n {
				e := s.entries[slot]
				if got := s.add(e.key, 0); got != &s.vals[slot] || len(s.entries) != n {
					t.Errorf("lookup of %v did not find slot %d", e.key.addr(), slot)
				}
			}
		})
	}
}

func TestNthLargest(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	tests := []struct {
		name string
		x    []uint64
	}{
		{name: "one", x: []uint64{7}},
		{name: "all equal", x: []uint64{3, 3, 3, 3, 3, 3}},
		{name: "increasing", x: []uint64{1, 2, 3, 4, 5, 6, 7, 8}},
		{name: "decreasing", x: []uint64{9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{name: "two values", x: []uint64{1, 5, 1, 5, 5, 1, 1, 5, 1}},
	}
	var many, dups []uint64
	for range 161 {
		many = append(many, r.Uint64N(1_000_000))
		dups = append(dups, r.Uint64N(4))
	}
	tests = append(tests, struct {
		name string
		x    []uint64
	}{"random", many}, struct {
		name string
		x    []uint64
	}{"random duplicates", dups})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sorted := slices.Clone(tc.x)
			slices.Sort(sorted)
			slices.Reverse(sorted)
			for n := range tc.x {
				if got := nthLargest(slices.Clone(tc.x), n); got != sorted[n] {
					t.Errorf("nthLargest(%v, %d) = %d, want %d", tc.x, n, got, sorted[n])
				}
			}
		})
	}
}

func TestTopTalkersOnSkewedStream(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, func(c *Config) { c.TopK = 10 })
	r := rand.New(rand.NewPCG(3, 4))
	T := t0.Unix()
	truth := map[pairKey]uint64{}
	var batch []parse.Record
	// 10 heavy pairs of distinct sizes, hidden among 200,000 light records of 50,000 pairs, all
	// spread over the 5 minutes before the watermark.
	for i := range 200_000 {
		var src, dst netip.Addr
		var bytes uint64
		if i%20 == 0 {
			h := (i / 20) % 10
			src, dst = netip.AddrFrom4([4]byte{192, 0, 2, byte(h)}), netip.AddrFrom4([4]byte{10, 9, 9, byte(h)})
			bytes = uint64(5000 + 500*h)
		} else {
			k := r.IntN(50_000)
			src, dst = netip.AddrFrom4([4]byte{100, 64, byte(k >> 8), byte(k)}), netip.AddrFrom4([4]byte{10, 1, 1, 1})
			bytes = uint64(40 + r.IntN(400))
		}
		start := T - 120 - 1 - int64(r.IntN(290))
		batch = append(batch, flow("eni-1", src, dst, 40000, 443, 6, 1, bytes, start, parse.ActionAccept))
		truth[newPairKey(src, dst)] += bytes
	}
	batch = append(batch, flow("eni-1", ip("10.0.0.1"), ip("10.0.0.2"), 40000, 443, 6, 1, 1, T, parse.ActionAccept))
	a.AddBatch(batch)
	s := a.Snapshot()
	w := s.Windows[1] // 5m: all the records but the last
	if w.Width != 5*time.Minute {
		t.Fatalf("window 1 is %s, want 5m", w.Width)
	}
	type kv struct {
		k pairKey
		v uint64
	}
	var want []kv
	for k, v := range truth {
		want = append(want, kv{k, v})
	}
	slices.SortFunc(want, func(x, y kv) int {
		if x.v != y.v {
			if x.v > y.v {
				return -1
			}
			return 1
		}
		return x.k.src().Compare(y.k.src())
	})
	if len(w.TopTalkers) != 10 {
		t.Fatalf("%d top talkers, want 10", len(w.TopTalkers))
	}
	for i, tt := range w.TopTalkers {
		if tt.Src != want[i].k.src() || tt.Dst != want[i].k.dst() {
			t.Errorf("top talker %d = %s->%s (%d bytes), want %s->%s (%d bytes)", i, tt.Src, tt.Dst, tt.Bytes, want[i].k.src(), want[i].k.dst(), want[i].v)
		}
		if tt.Bytes+tt.MaxError < want[i].v || (tt.Bytes > want[i].v+tt.MaxError) {
			t.Errorf("top talker %d: %d bytes ± %d, true %d", i, tt.Bytes, tt.MaxError, want[i].v)
		}
	}
}

func TestRejectedSourcesAndScans(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, func(c *Config) { c.TopK = 5; c.ScanPortThreshold = 20 })
	T := t0.Unix()
	start := T - 130 // inside the 1m window once the watermark is T-120
	dst := ip("10.0.0.5")
	var batch []parse.Record
	reject := func(src netip.Addr, port uint16, proto uint8) {
		batch = append(batch, flow("eni-1", src, dst, 40000, port, proto, 1, 60, start, parse.ActionReject))
	}
	bruteForce, scanner, sweeper := ip("198.51.100.1"), ip("198.51.100.2"), ip("2001:db8::bad")
	for range 300 {
		reject(bruteForce, 22, 6)
	}
	for p := range uint16(30) {
		reject(scanner, 1000+p, 6)
		reject(scanner, 1000+p, 6) // repeats do not add ports
	}
	for p := range uint16(100) { // over six interfaces: four are kept as its targets
		batch = append(batch, flow(fmt.Sprintf("eni-s%d", p%6), sweeper, dst, 40000, 2000+p, 17, 1, 60, start, parse.ActionReject))
	}
	for i := range 40 { // noise: one reject each
		reject(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), 3389, 6)
	}
	reject(ip("192.0.2.9"), 0, 1) // ICMP: a reject without a port
	batch = append(batch, flow("eni-1", ip("10.0.0.1"), dst, 40000, 443, 6, 1, 1, T, parse.ActionAccept))
	a.AddBatch(batch)
	w := a.Snapshot().Windows[0]
	if w.Width != time.Minute {
		t.Fatalf("window 0 is %s", w.Width)
	}
	want := []RejectedSource{
		{Src: bruteForce, Flows: 300, DistinctPorts: 1, Targets: []ScanTarget{{"eni-1", 300}}},
		{Src: sweeper, Flows: 100, DistinctPorts: MaxDistinctPorts, PortsSaturated: true,
			Targets: []ScanTarget{{"eni-s0", 17}, {"eni-s1", 17}, {"eni-s2", 17}, {"eni-s3", 17}}, TargetsSaturated: true},
		{Src: scanner, Flows: 60, DistinctPorts: 30, Targets: []ScanTarget{{"eni-1", 60}}},
	}
	for i, ws := range want {
		if i >= len(w.TopRejectedSources) || !reflect.DeepEqual(w.TopRejectedSources[i], ws) {
			t.Errorf("top rejected source %d = %+v, want %+v", i, w.TopRejectedSources, ws)
		}
	}
	if len(w.TopRejectedSources) != 5 {
		t.Errorf("%d top rejected sources, want TopK=5", len(w.TopRejectedSources))
	}
	wantScans := []RejectedSource{want[1], want[2]}
	if !reflect.DeepEqual(w.ScanCandidates, wantScans) {
		t.Errorf("scan candidates = %+v, want %+v", w.ScanCandidates, wantScans)
	}
}
