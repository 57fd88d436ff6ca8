package aggregate

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// stateVersion is the schema version of State. Version 2 added the sketch floors of the
// buckets; Restore reads the counters of version 1 and drops its buckets (the windows refill
// within their width), and refuses other versions.
const (
	stateVersion        = 2
	stateVersionNoFloor = 1
)

// State is what an Aggregator must carry over a restart: the cumulative counters with their keys,
// the fold counters and the window ring with its sketches. It is encodable with encoding/gob
// (and encoding/json). Restore checks it before using any of it.
type State struct {
	Version     int
	BucketWidth time.Duration

	// Ports are the port keys in index order. Key packs the protocol (bits 16-23) and the port
	// (bits 0-15); bit 24 marks the protocol's "other" key (port 0).
	Ports []StatePort
	// Interfaces are the interface keys in index order; the first two are OtherInterface and
	// NoInterface.
	Interfaces []StateInterface

	Flows, NoData, SkipData uint64
	Invalid                 []uint64 // by Reason
	Late, Future, Untimed   uint64

	PortFold, InterfaceFold StateFold

	HasEvents bool
	Newest    int64 // Unix seconds
	Watermark int64 // Unix seconds; may be ahead of Newest-AllowedLateness after Advance
	Buckets   []StateBucket

	// TGW holds the transit gateway counters; nil in states written before they existed (they
	// then restart from zero).
	TGW *StateTGW
}

// StatePort is one port key and its cumulative counts by action (ACCEPT, REJECT).
type StatePort struct {
	Key    uint32
	Counts [2]Counts
}

// StateInterface is one interface key and its cumulative counts.
type StateInterface struct {
	ID               string
	Counts           [2]Counts
	NoData, SkipData uint64
}

// StateFold is a fold counter: the folded records, the HyperLogLog registers and the exact set
// of key hashes (meaningful while Overflow is false).
type StateFold struct {
	Records   uint64
	Registers []byte
	Exact     []uint64
	Overflow  bool
}

// StateBucket is one window bucket.
type StateBucket struct {
	Num      int64 // start / BucketWidth
	Ports    []StateBucketPort
	Talkers  []StateTalker
	Rejected []StateSource
	// TalkersFloor and RejectedFloor bound the true count of a key missing from Talkers or
	// Rejected: what the sketch gives a newly monitored key as its error.
	TalkersFloor, RejectedFloor uint64
}

// StateBucketPort is a bucket's counts for the port key at Index in State.Ports.
type StateBucketPort struct {
	Index  int
	Counts [2]Counts
}

// StateTalker is one Space-Saving entry of a bucket's top talkers.
type StateTalker struct {
	Src, Dst   netip.Addr
	Count, Err uint64
}

// StateSource is one Space-Saving entry of a bucket's rejected sources, with its distinct ports.
type StateSource struct {
	Src        netip.Addr
	Count, Err uint64
	Ports      []uint16
	Saturated  bool
}

// State returns a deep copy of the state to checkpoint.
func (a *Aggregator) State() *State {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &State{
		Version:       stateVersion,
		BucketWidth:   a.cfg.BucketWidth,
		Flows:         a.flows,
		NoData:        a.noData,
		SkipData:      a.skipData,
		Invalid:       slices.Clone(a.invalid[:]),
		Late:          a.late,
		Future:        a.future,
		Untimed:       a.untimed,
		PortFold:      a.ports.fold.state(),
		InterfaceFold: a.ifaces.fold.state(),
		HasEvents:     a.hasEvents,
		Newest:        a.newest,
	}
	for i, k := range a.ports.keys {
		s.Ports = append(s.Ports, StatePort{Key: k, Counts: a.portCounts[i]})
	}
	for i, id := range a.ifaces.ids {
		c := a.ifaceCounts[i]
		s.Interfaces = append(s.Interfaces, StateInterface{ID: id, Counts: c.flows, NoData: c.noData, SkipData: c.skipData})
	}
	for i := range a.ring {
		b := &a.ring[i]
		if !b.used || b.num < a.wmBucket-a.maxBuckets {
			continue
		}
		sb := StateBucket{Num: b.num, TalkersFloor: b.talkers.floor, RejectedFloor: b.rejected.floor}
		for j, c := range b.ports {
			if c != (byAction{}) {
				sb.Ports = append(sb.Ports, StateBucketPort{Index: j, Counts: c})
			}
		}
		for _, e := range b.talkers.entries {
			sb.Talkers = append(sb.Talkers, StateTalker{Src: e.key.src(), Dst: e.key.dst(), Count: e.count, Err: e.err})
		}
		for i := range b.rejected.entries {
			e := &b.rejected.entries[i]
			ps := &b.rejected.vals[i]
			sb.Rejected = append(sb.Rejected, StateSource{Src: e.key.addr(), Count: e.count, Err: e.err,
				Ports: slices.Clone(ps.ports[:ps.n]), Saturated: ps.saturated})
		}
		s.Buckets = append(s.Buckets, sb)
	}
	slices.SortFunc(s.Buckets, func(x, y StateBucket) int { return cmp.Compare(x.Num, y.Num) })
	s.TGW = a.tgw.state()
	return s
}

// StateError is an inconsistency found by Restore.
type StateError struct {
	Field  string // e.g. "Buckets[3].Ports[0].Index"
	Reason string
}

// Error implements error.
func (e *StateError) Error() string { return fmt.Sprintf("aggregate state: %s: %s", e.Field, e.Reason) }

// Restore replaces the Aggregator's state with s, after checking it; on error nothing changes.
// Keys are restored even past the configured caps (a lowered cap stops new keys, it never drops
// counts). Window buckets are restored when BucketWidth is unchanged and they still fall in the
// ring and s is of the current version (a version 1 state has no sketch floors: its buckets are
// dropped); sketch entries past what a sketch holds (2*capacity) keep the largest counts.
func (a *Aggregator) Restore(s *State) error {
	if s == nil {
		return &StateError{Field: "State", Reason: "nil"}
	}
	if s.Version != stateVersion && s.Version != stateVersionNoFloor {
		return &StateError{Field: "Version", Reason: fmt.Sprintf("is %d, this flowd reads %d and %d", s.Version, stateVersionNoFloor, stateVersion)}
	}
	m := a.newMutable(false)
	if err := a.restoreCounters(&m, s); err != nil {
		return err
	}
	if s.TGW != nil {
		if err := m.tgw.restore(s.TGW); err != nil {
			return err
		}
	}
	if s.BucketWidth == a.cfg.BucketWidth && m.hasEvents && s.Version == stateVersion {
		if err := a.restoreBuckets(&m, s); err != nil {
			return err
		}
	}
	// Service ports not in the state get their keys now, as New would have done.
	for _, p := range a.cfg.ServicePorts {
		m.ports.lookup(protoTCP, p)
		m.ports.lookup(protoUDP, p)
	}
	m.growCounts()
	a.mu.Lock()
	a.mutable = m
	a.mu.Unlock()
	return nil
}

func (a *Aggregator) restoreCounters(m *mutable, s *State) error {
	seenPorts := make(map[uint32]bool, len(s.Ports))
	var sum byAction
	for i, p := range s.Ports {
		field := fmt.Sprintf("Ports[%d]", i)
		if p.Key>>25 != 0 || (p.Key&keyOther != 0 && uint16(p.Key) != 0) {
			return &StateError{Field: field + ".Key", Reason: fmt.Sprintf("%#x is not a port key", p.Key)}
		}
		if seenPorts[p.Key] {
			return &StateError{Field: field + ".Key", Reason: fmt.Sprintf("%#x repeats an earlier key", p.Key)}
		}
		seenPorts[p.Key] = true
		m.ports.add(p.Key)
		if p.Key&keyOther == 0 {
			m.ports.interned++
		}
		m.portCounts = append(m.portCounts, p.Counts)
		for j := range sum {
			sum[j].plus(p.Counts[j])
		}
	}
	if sum[0].Flows+sum[1].Flows != s.Flows {
		return &StateError{Field: "Flows", Reason: fmt.Sprintf("is %d but the port counters hold %d flows", s.Flows, sum[0].Flows+sum[1].Flows)}
	}
	if len(s.Interfaces) < ifaceFirst || s.Interfaces[ifaceOther].ID != OtherInterface || s.Interfaces[ifaceNone].ID != NoInterface {
		return &StateError{Field: "Interfaces", Reason: fmt.Sprintf("must start with %q and %q", OtherInterface, NoInterface)}
	}
	m.ifaceCounts = m.ifaceCounts[:0]
	var ifaceFlows uint64
	for i, in := range s.Interfaces {
		if i >= ifaceFirst {
			field := fmt.Sprintf("Interfaces[%d].ID", i)
			if in.ID == "" || in.ID == OtherInterface || in.ID == NoInterface {
				return &StateError{Field: field, Reason: fmt.Sprintf("%q is not an interface id", in.ID)}
			}
			if !m.ifaces.intern(in.ID) {
				return &StateError{Field: field, Reason: fmt.Sprintf("%q repeats an earlier id", in.ID)}
			}
		}
		m.ifaceCounts = append(m.ifaceCounts, ifaceCounts{flows: in.Counts, noData: in.NoData, skipData: in.SkipData})
		ifaceFlows += in.Counts[0].Flows + in.Counts[1].Flows
	}
	if ifaceFlows != s.Flows {
		return &StateError{Field: "Interfaces", Reason: fmt.Sprintf("hold %d flows, Flows is %d", ifaceFlows, s.Flows)}
	}
	if len(s.Invalid) > int(numReasons) {
		return &StateError{Field: "Invalid", Reason: fmt.Sprintf("has %d reasons, this flowd knows %d", len(s.Invalid), numReasons)}
	}
	copy(m.invalid[:], s.Invalid)
	if err := restoreFold("PortFold", s.PortFold, &m.ports.fold); err != nil {
		return err
	}
	if err := restoreFold("InterfaceFold", s.InterfaceFold, &m.ifaces.fold); err != nil {
		return err
	}
	m.flows, m.noData, m.skipData = s.Flows, s.NoData, s.SkipData
	m.late, m.future, m.untimed = s.Late, s.Future, s.Untimed
	if s.HasEvents {
		m.hasEvents, m.newest = true, s.Newest
		limit := floorDiv(s.Newest, a.widthSec) + 1
		m.wmBucket = max(floorDiv(s.Newest-a.latenessSec, a.widthSec), min(floorDiv(s.Watermark, a.widthSec), limit))
	}
	return nil
}

// restoreFold checks the checkpoint form of a fold counter and loads it into dst.
func restoreFold(name string, src StateFold, dst *foldCounter) error {
	if len(src.Registers) != 0 && len(src.Registers) != hllRegisters {
		return &StateError{Field: name + ".Registers", Reason: fmt.Sprintf("has %d registers, want %d", len(src.Registers), hllRegisters)}
	}
	if len(src.Exact) > exactKeys {
		return &StateError{Field: name + ".Exact", Reason: fmt.Sprintf("has %d hashes, at most %d are kept", len(src.Exact), exactKeys)}
	}
	dst.records = src.Records
	copy(dst.reg[:], src.Registers)
	for _, h := range src.Exact {
		dst.addExact(max(h, 1))
	}
	dst.overflow = src.Overflow
	return nil
}

func (a *Aggregator) restoreBuckets(m *mutable, s *State) error {
	lo, hi := m.wmBucket-a.maxBuckets, floorDiv(m.newest, a.widthSec)
	nkeys := len(m.ports.keys)
	for i, sb := range s.Buckets {
		field := fmt.Sprintf("Buckets[%d]", i)
		if i > 0 && sb.Num <= s.Buckets[i-1].Num {
			return &StateError{Field: field + ".Num", Reason: "buckets must be in increasing order"}
		}
		if sb.Num > hi {
			return &StateError{Field: field + ".Num", Reason: fmt.Sprintf("bucket %d is newer than the newest start (bucket %d)", sb.Num, hi)}
		}
		if sb.Num < lo {
			continue // fell out of this configuration's ring
		}
		b := &m.ring[mod(sb.Num, int64(len(m.ring)))]
		*b = newBucket(a.capacity, a.seed)
		b.reuse(sb.Num)
		for j, p := range sb.Ports {
			if p.Index < 0 || p.Index >= nkeys {
				return &StateError{Field: fmt.Sprintf("%s.Ports[%d].Index", field, j), Reason: fmt.Sprintf("%d is not a port key index (%d keys)", p.Index, nkeys)}
			}
			*b.portCounts(int32(p.Index), nkeys) = p.Counts
		}
		// Past what the sketch holds, keep the largest counts and raise the floor to the largest
		// count dropped; errors name the entries as stored.
		b.talkers.floor, b.rejected.floor = sb.TalkersFloor, sb.RejectedFloor
		talkers := largestFirst(len(sb.Talkers), func(j int) uint64 { return sb.Talkers[j].Count })
		if n := cap(b.talkers.entries); len(talkers) > n {
			b.talkers.floor = max(b.talkers.floor, sb.Talkers[talkers[n]].Count)
			talkers = talkers[:n]
		}
		for _, j := range talkers {
			t := sb.Talkers[j]
			if err := checkEntry(t.Count, t.Err, !t.Src.IsValid() || !t.Dst.IsValid()); err != "" {
				return &StateError{Field: fmt.Sprintf("%s.Talkers[%d]", field, j), Reason: err}
			}
			if _, ok := b.talkers.put(newPairKey(t.Src, t.Dst), t.Count, t.Err); !ok {
				return &StateError{Field: fmt.Sprintf("%s.Talkers[%d]", field, j), Reason: "repeats an earlier pair"}
			}
		}
		rejected := largestFirst(len(sb.Rejected), func(j int) uint64 { return sb.Rejected[j].Count })
		if n := cap(b.rejected.entries); len(rejected) > n {
			b.rejected.floor = max(b.rejected.floor, sb.Rejected[rejected[n]].Count)
			rejected = rejected[:n]
		}
		for _, j := range rejected {
			src := sb.Rejected[j]
			f := fmt.Sprintf("%s.Rejected[%d]", field, j)
			if err := checkEntry(src.Count, src.Err, !src.Src.IsValid()); err != "" {
				return &StateError{Field: f, Reason: err}
			}
			if len(src.Ports) > MaxDistinctPorts {
				return &StateError{Field: f + ".Ports", Reason: fmt.Sprintf("has %d ports, at most %d are kept", len(src.Ports), MaxDistinctPorts)}
			}
			ps, ok := b.rejected.put(newAddrKey(src.Src), src.Count, src.Err)
			if !ok {
				return &StateError{Field: f, Reason: "repeats an earlier source"}
			}
			for _, p := range src.Ports {
				ps.add(p)
			}
			ps.saturated = src.Saturated
		}
		b.talkers.fillFilter()
		b.rejected.fillFilter()
	}
	return nil
}

// largestFirst returns the indexes [0, n) ordered by decreasing count (stable).
func largestFirst(n int, count func(int) uint64) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(count(y), count(x)) })
	return idx
}

// checkEntry returns what is wrong with a sketch entry, or "".
func checkEntry(count, err uint64, badKey bool) string {
	switch {
	case badKey:
		return "address is not valid"
	case count == 0:
		return "count is 0"
	case err > count:
		return fmt.Sprintf("error %d exceeds count %d", err, count)
	}
	return ""
}

// state returns the checkpoint form of f.
func (f *foldCounter) state() StateFold {
	s := StateFold{Records: f.records, Registers: slices.Clone(f.reg[:]), Overflow: f.overflow}
	for _, h := range f.exact {
		if h != 0 {
			s.Exact = append(s.Exact, h)
		}
	}
	return s
}
