package aggregate

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// Snapshot is an immutable view of an Aggregator at one moment. Nothing in it is shared with the
// Aggregator, so readers may keep it while ingestion goes on.
type Snapshot struct {
	// Time is the clock's time when the snapshot was taken.
	Time time.Time
	// HasEvents reports whether any record with a start has been seen; Watermark, Newest and the
	// window bounds are meaningful only then.
	HasEvents bool
	// Watermark is the newest start seen minus AllowedLateness, rounded down to BucketWidth.
	// Every window ends here.
	Watermark time.Time
	// Newest is the newest record start seen.
	Newest time.Time

	// Flows, NoData and SkipData count the records counted as flows, and the NODATA and SKIPDATA
	// records.
	Flows, NoData, SkipData uint64
	// Invalid counts the records that could not be counted as flows, one entry per reason, in a
	// fixed order, zeros included.
	Invalid []ReasonCount
	// Late counts flow records older than the window ring, Future those further in the future
	// than MaxClockSkew, Untimed those without a start. All are in the cumulative counters but
	// not in the windows.
	Late, Future, Untimed uint64

	// Totals are the cumulative counts by action (ACCEPT, then REJECT).
	Totals []ActionCounts
	// Ports are the cumulative counts by (action, protocol, service port), non-zero entries only,
	// sorted by action, protocol, port ("other" last).
	Ports []PortCounts
	// Interfaces are the cumulative counts by (action, interface id), non-zero entries only,
	// sorted by action and interface id.
	Interfaces []InterfaceCounts
	// InterfaceStatus counts NODATA and SKIPDATA records by interface id (non-zero, sorted).
	InterfaceStatus []InterfaceStatus
	// PortFold and InterfaceFold count what the caps folded into "other".
	PortFold, InterfaceFold Fold
	// PortKeys and InterfaceKeys are the numbers of keys in use, "other" keys included.
	PortKeys, InterfaceKeys int

	// Windows are the sliding windows in the order of Config.Windows.
	Windows []Window

	// TGW counts the transit gateway records, which are in none of the above (see tgw.go).
	TGW TGWSnapshot
}

// ReasonCount is a number of records not counted for one reason.
type ReasonCount struct {
	Reason  Reason
	Records uint64
}

// ActionCounts are counts for one action.
type ActionCounts struct {
	Action parse.Action
	Counts
}

// PortCounts are counts for one (action, protocol, service port) key.
type PortCounts struct {
	Action   parse.Action
	Protocol uint8
	Port     uint16 // 0 when Other
	Other    bool   // the protocol's keys folded by the MaxPorts cap
	Counts
}

// InterfaceCounts are counts for one (action, interface id) key. InterfaceID is OtherInterface
// for the ids folded by the MaxInterfaces cap and NoInterface for records without one.
type InterfaceCounts struct {
	Action      parse.Action
	InterfaceID string
	Counts
}

// InterfaceStatus counts the NODATA and SKIPDATA records of one interface id.
type InterfaceStatus struct {
	InterfaceID string
	NoData      uint64
	SkipData    uint64
}

// Fold counts what a cap folded into "other": the records exactly, the distinct keys as a
// HyperLogLog estimate (about 3% relative error).
type Fold struct {
	Records      uint64
	DistinctKeys uint64
}

// Window is the content of one sliding window: records whose start lies in [Start, End).
type Window struct {
	Width      time.Duration
	Start, End time.Time
	// Ports are the counts by (action, protocol, service port), as in Snapshot.Ports.
	Ports []PortCounts
	// TopTalkers are the (source, destination) pairs with the most bytes, at most TopK.
	TopTalkers []Talker
	// TopRejectedSources are the sources with the most rejected flows, at most TopK.
	TopRejectedSources []RejectedSource
	// ScanCandidates are the monitored rejected sources with at least ScanPortThreshold distinct
	// rejected destination ports, most ports first, at most TopK.
	ScanCandidates []RejectedSource
}

// Talker is a (source, destination) pair and its bytes in a window. Bytes comes from per-bucket
// Space-Saving sketches: it may overestimate the true value by up to MaxError, and may miss
// bytes of buckets where the pair was not among the monitored entries.
type Talker struct {
	Src, Dst netip.Addr
	Bytes    uint64
	MaxError uint64
}

// RejectedSource is a source address and its rejected flows in a window (an estimate, like
// Talker.Bytes), with the number of distinct destination ports of those flows, counted exactly
// up to MaxDistinctPorts (PortsSaturated: more than that) while the source was monitored.
type RejectedSource struct {
	Src            netip.Addr
	Flows          uint64
	MaxError       uint64
	DistinctPorts  int
	PortsSaturated bool
}

// Snapshot returns an immutable view of the counters and windows. The lock is held only while
// the counters and the windows' buckets are copied; merging the buckets into windows, sorting
// and building the lists run after it, so ingestion waits for a copy, not for the whole scrape.
func (a *Aggregator) Snapshot() *Snapshot {
	now := a.clock.Now()
	a.mu.Lock()
	f := a.freeze()
	a.mu.Unlock()
	return a.snapshotOf(&f, now)
}

// frozen is the state a snapshot is built from, copied under the lock.
type frozen struct {
	mutable             // counters, keys and the windows' buckets; no lookup tables
	portFold, ifaceFold Fold
	tgwDistinct         uint64 // distinct attachment ids folded
}

// freeze copies what Snapshot reads; the caller holds the lock. Key lists are shared, not copied:
// they only ever grow by append, so the first len entries never change under the copy.
func (a *Aggregator) freeze() frozen {
	m := &a.mutable
	f := frozen{
		mutable: mutable{
			ports:       portTable{keys: m.ports.keys[:len(m.ports.keys):len(m.ports.keys)]},
			portCounts:  slices.Clone(m.portCounts),
			ifaces:      ifaceTable{ids: m.ifaces.ids[:len(m.ifaces.ids):len(m.ifaces.ids)]},
			ifaceCounts: slices.Clone(m.ifaceCounts),
			flows:       m.flows, noData: m.noData, skipData: m.skipData, invalid: m.invalid,
			late: m.late, future: m.future, untimed: m.untimed,
			hasEvents: m.hasEvents, newest: m.newest, wmBucket: m.wmBucket,
			tgw: m.tgw.freeze(),
		},
		tgwDistinct: m.tgw.attachments.fold.distinct(),
		portFold:    Fold{Records: m.ports.fold.records, DistinctKeys: m.ports.fold.distinct()},
		ifaceFold:   Fold{Records: m.ifaces.fold.records, DistinctKeys: m.ifaces.fold.distinct()},
	}
	if !m.hasEvents {
		return f
	}
	f.ring = make([]bucket, len(m.ring))
	for num := m.wmBucket - a.maxBuckets; num < m.wmBucket; num++ {
		i := mod(num, int64(len(m.ring)))
		b := &m.ring[i]
		if !b.used || b.num != num {
			continue
		}
		f.ring[i] = bucket{
			num: b.num, used: true,
			ports:    slices.Clone(b.ports),
			talkers:  spaceSaving[struct{}]{floor: b.talkers.floor, entries: slices.Clone(b.talkers.entries)},
			rejected: spaceSaving[portSet]{floor: b.rejected.floor, entries: slices.Clone(b.rejected.entries), vals: slices.Clone(b.rejected.vals)},
		}
	}
	return f
}

// snapshotOf builds a Snapshot from f, without the lock.
func (a *Aggregator) snapshotOf(f *frozen, now time.Time) *Snapshot {
	s := &Snapshot{
		Time:          now,
		HasEvents:     f.hasEvents,
		Flows:         f.flows,
		NoData:        f.noData,
		SkipData:      f.skipData,
		Late:          f.late,
		Future:        f.future,
		Untimed:       f.untimed,
		PortFold:      f.portFold,
		InterfaceFold: f.ifaceFold,
		PortKeys:      len(f.ports.keys),
		InterfaceKeys: len(f.ifaces.ids),
		TGW:           f.tgw.snapshot(f.tgwDistinct),
	}
	if f.hasEvents {
		s.Newest = time.Unix(f.newest, 0).UTC()
		s.Watermark = time.Unix(f.wmBucket*a.widthSec, 0).UTC()
	}
	for r := range numReasons {
		s.Invalid = append(s.Invalid, ReasonCount{Reason: r, Records: f.invalid[r]})
	}
	var totals byAction
	for _, c := range f.portCounts {
		for i := range c {
			totals[i].plus(c[i])
		}
	}
	for i, act := range actions {
		s.Totals = append(s.Totals, ActionCounts{Action: act, Counts: totals[i]})
	}
	s.Ports = portList(f.ports.keys, f.portCounts)
	for i, c := range f.ifaceCounts {
		id := f.ifaces.ids[i]
		for j, act := range actions {
			if !c.flows[j].isZero() {
				s.Interfaces = append(s.Interfaces, InterfaceCounts{Action: act, InterfaceID: id, Counts: c.flows[j]})
			}
		}
		if c.noData != 0 || c.skipData != 0 {
			s.InterfaceStatus = append(s.InterfaceStatus, InterfaceStatus{InterfaceID: id, NoData: c.noData, SkipData: c.skipData})
		}
	}
	slices.SortFunc(s.Interfaces, func(x, y InterfaceCounts) int {
		return cmp.Or(cmp.Compare(x.Action, y.Action), cmp.Compare(x.InterfaceID, y.InterfaceID))
	})
	slices.SortFunc(s.InterfaceStatus, func(x, y InterfaceStatus) int { return cmp.Compare(x.InterfaceID, y.InterfaceID) })
	for i, w := range a.cfg.Windows {
		s.Windows = append(s.Windows, a.window(f, w, a.winBuckets[i]))
	}
	return s
}

// portList turns counts by port index (of keys) into sorted non-zero PortCounts.
func portList(keys []uint32, counts []byAction) []PortCounts {
	var out []PortCounts
	for i, c := range counts {
		k := keys[i]
		for j, act := range actions {
			if !c[j].isZero() {
				out = append(out, PortCounts{Action: act, Protocol: uint8(k >> 16), Port: uint16(k), Other: k&keyOther != 0, Counts: c[j]})
			}
		}
	}
	for i := range out {
		if out[i].Other {
			out[i].Port = 0
		}
	}
	slices.SortFunc(out, func(x, y PortCounts) int {
		return cmp.Or(cmp.Compare(x.Action, y.Action), cmp.Compare(x.Protocol, y.Protocol),
			compareBool(x.Other, y.Other), cmp.Compare(x.Port, y.Port))
	})
	return out
}

func compareBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case x:
		return 1
	}
	return -1
}

// mergedTalker and mergedSource accumulate one key over the buckets of a window.
type mergedTalker struct {
	bytes, err, minPresent uint64
}

type mergedSource struct {
	flows, err, minPresent uint64
	ports                  portSet
}

// window merges the buckets of the window of n buckets ending at the watermark.
func (a *Aggregator) window(f *frozen, width time.Duration, n int64) Window {
	w := Window{Width: width}
	if !f.hasEvents {
		return w
	}
	end := f.wmBucket
	w.Start = time.Unix((end-n)*a.widthSec, 0).UTC()
	w.End = time.Unix(end*a.widthSec, 0).UTC()
	ports := make([]byAction, len(f.ports.keys))
	talkers := make(map[pairKey]*mergedTalker)
	sources := make(map[addrKey]*mergedSource)
	// A key missing from a bucket may have had up to that bucket's sketch floor there: the sum of
	// those floors bounds what the merge can miss.
	var talkerMins, sourceMins uint64
	for num := end - n; num < end; num++ {
		b := &f.ring[mod(num, int64(len(f.ring)))]
		if !b.used || b.num != num {
			continue
		}
		for i, c := range b.ports {
			for j := range c {
				ports[i][j].plus(c[j])
			}
		}
		tMin := b.talkers.floor
		talkerMins += tMin
		for i := range b.talkers.entries {
			e := &b.talkers.entries[i]
			m := talkers[e.key]
			if m == nil {
				m = &mergedTalker{}
				talkers[e.key] = m
			}
			m.bytes += e.count
			m.err += e.err
			m.minPresent += tMin
		}
		sMin := b.rejected.floor
		sourceMins += sMin
		for i := range b.rejected.entries {
			e := &b.rejected.entries[i]
			m := sources[e.key]
			if m == nil {
				m = &mergedSource{}
				sources[e.key] = m
			}
			m.flows += e.count
			m.err += e.err
			m.minPresent += sMin
			ps := &b.rejected.vals[i]
			for _, p := range ps.ports[:ps.n] {
				m.ports.add(p)
			}
			m.ports.saturated = m.ports.saturated || ps.saturated
		}
	}
	w.Ports = portList(f.ports.keys, ports)

	for k, m := range talkers {
		w.TopTalkers = append(w.TopTalkers, Talker{Src: k.src(), Dst: k.dst(), Bytes: m.bytes, MaxError: m.err + talkerMins - m.minPresent})
	}
	slices.SortFunc(w.TopTalkers, func(x, y Talker) int {
		return cmp.Or(cmp.Compare(y.Bytes, x.Bytes), x.Src.Compare(y.Src), x.Dst.Compare(y.Dst))
	})
	w.TopTalkers = clipTop(w.TopTalkers, a.cfg.TopK)

	var all []RejectedSource
	for k, m := range sources {
		all = append(all, RejectedSource{Src: k.addr(), Flows: m.flows, MaxError: m.err + sourceMins - m.minPresent,
			DistinctPorts: int(m.ports.n), PortsSaturated: m.ports.saturated})
	}
	slices.SortFunc(all, func(x, y RejectedSource) int {
		return cmp.Or(cmp.Compare(y.Flows, x.Flows), x.Src.Compare(y.Src))
	})
	w.TopRejectedSources = clipTop(slices.Clone(all), a.cfg.TopK)
	for _, s := range all {
		if s.DistinctPorts >= a.cfg.ScanPortThreshold {
			w.ScanCandidates = append(w.ScanCandidates, s)
		}
	}
	slices.SortStableFunc(w.ScanCandidates, func(x, y RejectedSource) int {
		return cmp.Or(compareBool(y.PortsSaturated, x.PortsSaturated), cmp.Compare(y.DistinctPorts, x.DistinctPorts))
	})
	w.ScanCandidates = clipTop(w.ScanCandidates, a.cfg.TopK)
	return w
}

// clipTop keeps the first k elements, with a capacity that does not expose the rest.
func clipTop[T any](s []T, k int) []T {
	if len(s) > k {
		s = s[:k:k]
	}
	return s
}
