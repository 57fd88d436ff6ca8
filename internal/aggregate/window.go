package aggregate

// portSet is the exact set of distinct rejected destination ports of one source in one bucket,
// up to MaxDistinctPorts; past that it saturates (the count stops, the flag says "more").
type portSet struct {
	n         uint8
	saturated bool
	ports     [MaxDistinctPorts]uint16
	// The interfaces the source's rejected flows hit, the first MaxScanTargets of them, with
	// their rejected flows; moreTargets says there were others.
	ntargets    uint8
	moreTargets bool
	targets     [MaxScanTargets]scanTarget
}

// MaxScanTargets is how many interfaces are kept per rejected source and bucket (and window).
const MaxScanTargets = 4

// scanTarget is an interface index and the rejected flows a source sent to it.
type scanTarget struct {
	iface int32
	flows uint32
}

// addTarget counts n rejected flows to interface index iface.
func (s *portSet) addTarget(iface int32, n uint32) {
	for i := range s.targets[:s.ntargets] {
		if t := &s.targets[i]; t.iface == iface {
			t.flows += n
			return
		}
	}
	if int(s.ntargets) < MaxScanTargets {
		s.targets[s.ntargets] = scanTarget{iface: iface, flows: n}
		s.ntargets++
		return
	}
	s.moreTargets = true
}

func (s *portSet) add(p uint16) {
	if s.saturated {
		return // a saturated set neither grows nor counts: skip the scan of its 64 ports
	}
	for _, q := range s.ports[:s.n] {
		if q == p {
			return
		}
	}
	if int(s.n) < MaxDistinctPorts {
		s.ports[s.n] = p
		s.n++
		return
	}
	s.saturated = true
}

// bucket holds one BucketWidth of event time: the counts by (action, port index) and the
// heavy-hitter sketches.
type bucket struct {
	num      int64 // absolute bucket number: start / BucketWidth
	used     bool  // num is meaningful (the slot has held a bucket)
	ports    []byAction
	talkers  spaceSaving[struct{}]
	rejected spaceSaving[portSet] // each source with its rejected destination ports
}

func newBucket(capacity int, seed uint64) bucket {
	return bucket{
		talkers:  newSpaceSaving[struct{}](capacity, seed),
		rejected: newSpaceSaving[portSet](capacity, seed^0x5bd1e995),
	}
}

// reuse makes the slot hold bucket num, dropping what it held, keeping its memory.
func (b *bucket) reuse(num int64) {
	b.num, b.used = num, true
	clear(b.ports)
	b.talkers.reset()
	b.rejected.reset()
}

// portCounts returns the counts of port index idx, growing the slice when a new port key
// appeared (bounded by the port cap, so this stops allocating in steady state).
func (b *bucket) portCounts(idx int32, nkeys int) *byAction {
	if int(idx) >= len(b.ports) {
		n := max(nkeys, int(idx)+1)
		if n > cap(b.ports) {
			grown := make([]byAction, n, max(n, 2*cap(b.ports)))
			copy(grown, b.ports)
			b.ports = grown
		} else {
			b.ports = b.ports[:n]
		}
	}
	return &b.ports[idx]
}

// addRejected counts one rejected flow from src to dst port (hasPort false for port-less
// protocols, which add no port) captured by interface index iface.
func (b *bucket) addRejected(src addrKey, dstPort uint16, hasPort bool, iface int32) {
	ps := b.rejected.add(src, 1)
	if ps == nil {
		return
	}
	if hasPort {
		ps.add(dstPort)
	}
	ps.addTarget(iface, 1)
}
