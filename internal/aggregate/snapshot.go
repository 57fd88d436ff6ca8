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

// Snapshot returns an immutable view of the counters and windows.
func (a *Aggregator) Snapshot() *Snapshot {
	now := a.clock.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &Snapshot{
		Time:          now,
		HasEvents:     a.hasEvents,
		Flows:         a.flows,
		NoData:        a.noData,
		SkipData:      a.skipData,
		Late:          a.late,
		Future:        a.future,
		Untimed:       a.untimed,
		PortFold:      Fold{Records: a.ports.fold.records, DistinctKeys: a.ports.fold.distinct()},
		InterfaceFold: Fold{Records: a.ifaces.fold.records, DistinctKeys: a.ifaces.fold.distinct()},
		PortKeys:      len(a.ports.keys),
		InterfaceKeys: len(a.ifaces.ids),
	}
	if a.hasEvents {
		s.Newest = time.Unix(a.newest, 0).UTC()
		s.Watermark = time.Unix(a.wmBucket*a.widthSec, 0).UTC()
	}
	for r := range numReasons {
		s.Invalid = append(s.Invalid, ReasonCount{Reason: r, Records: a.invalid[r]})
	}
	var totals byAction
	for _, c := range a.portCounts {
		for i := range c {
			totals[i].plus(c[i])
		}
	}
	for i, act := range actions {
		s.Totals = append(s.Totals, ActionCounts{Action: act, Counts: totals[i]})
	}
	s.Ports = a.portList(a.portCounts)
	for i, c := range a.ifaceCounts {
		id := a.ifaces.ids[i]
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
		s.Windows = append(s.Windows, a.window(w, a.winBuckets[i]))
	}
	return s
}

// portList turns counts by port index into sorted non-zero PortCounts.
func (a *Aggregator) portList(counts []byAction) []PortCounts {
	var out []PortCounts
	for i, c := range counts {
		k := a.ports.keys[i]
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
func (a *Aggregator) window(width time.Duration, n int64) Window {
	w := Window{Width: width}
	if !a.hasEvents {
		return w
	}
	end := a.wmBucket
	w.Start = time.Unix((end-n)*a.widthSec, 0).UTC()
	w.End = time.Unix(end*a.widthSec, 0).UTC()
	ports := make([]byAction, len(a.ports.keys))
	talkers := make(map[pairKey]*mergedTalker)
	sources := make(map[addrKey]*mergedSource)
	// A key missing from a bucket may have had up to that bucket's sketch floor there: the sum of
	// those floors bounds what the merge can miss.
	var talkerMins, sourceMins uint64
	for num := end - n; num < end; num++ {
		b := &a.ring[mod(num, int64(len(a.ring)))]
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
	w.Ports = a.portList(ports)

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
