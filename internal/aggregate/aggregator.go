package aggregate

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// Clock gives the current time; tests inject a fake one.
type Clock interface{ Now() time.Time }

// ifaceCounts are the cumulative counts of one interface key.
type ifaceCounts struct {
	flows    byAction
	noData   uint64
	skipData uint64
}

// Aggregator counts flow records into cumulative counters and event-time sliding windows.
// It is safe for concurrent use; Add and AddBatch allocate nothing per record once every key and
// bucket has been seen.
type Aggregator struct {
	mu    sync.Mutex
	cfg   Config
	clock Clock
	attr  attributor

	widthSec    int64
	latenessSec int64
	skewSec     int64
	capacity    int
	winBuckets  []int64 // by cfg.Windows index: the window's width in buckets
	maxBuckets  int64   // the largest window in buckets
	seed        uint64

	// mutable is everything Add changes; Restore replaces it whole.
	mutable
}

// mutable is the counting state of an Aggregator.
type mutable struct {
	ports       portTable
	portCounts  []byAction // by port index
	ifaces      ifaceTable
	ifaceCounts []ifaceCounts // by interface index

	flows    uint64
	noData   uint64
	skipData uint64
	invalid  [numReasons]uint64
	late     uint64
	future   uint64
	untimed  uint64

	tgw tgwState // transit gateway records, counted apart (tgw.go)

	hasEvents bool
	newest    int64 // newest start seen (Unix seconds), valid when hasEvents
	wmBucket  int64 // watermark / BucketWidth
	ring      []bucket
}

// New returns an Aggregator, or the *ConfigError values (joined) of an invalid cfg.
func New(cfg Config, clock Clock) (*Aggregator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clock == nil {
		return nil, &ConfigError{Field: "clock", Value: nil, Reason: "a Clock is required"}
	}
	cfg.Windows = append([]time.Duration(nil), cfg.Windows...)
	cfg.ServicePorts = append([]uint16(nil), cfg.ServicePorts...)
	a := &Aggregator{
		cfg:         cfg,
		clock:       clock,
		attr:        newAttributor(cfg),
		widthSec:    int64(cfg.BucketWidth / time.Second),
		latenessSec: int64(cfg.AllowedLateness / time.Second),
		skewSec:     int64(cfg.MaxClockSkew / time.Second),
		capacity:    cfg.capacity(),
		seed:        rand.Uint64(),
	}
	for _, w := range cfg.Windows {
		n := int64(w/time.Second) / a.widthSec
		a.winBuckets = append(a.winBuckets, n)
		a.maxBuckets = max(a.maxBuckets, n)
	}
	a.mutable = a.newMutable(true)
	return a, nil
}

// newMutable returns empty counting state; withServicePorts gives the service ports their keys
// first, so that a flood of new ports can never fold them.
func (a *Aggregator) newMutable(withServicePorts bool) mutable {
	m := mutable{
		ports:  newPortTable(a.cfg.MaxPorts),
		ifaces: newIfaceTable(a.cfg.MaxInterfaces),
		tgw:    newTGWState(a.cfg.MaxTGWAttachments, a.cfg.MaxPorts),
		ring:   make([]bucket, ringLen(a.cfg.BucketWidth, time.Duration(a.maxBuckets)*a.cfg.BucketWidth, a.cfg.AllowedLateness)),
	}
	if withServicePorts {
		for _, p := range a.cfg.ServicePorts {
			m.ports.lookup(protoTCP, p)
			m.ports.lookup(protoUDP, p)
		}
	}
	m.growCounts()
	return m
}

// Add counts one record. The record's strings are not kept.
func (a *Aggregator) Add(r *parse.Record) {
	now := a.clock.Now().Unix()
	a.mu.Lock()
	a.add(r, now)
	a.mu.Unlock()
}

// AddBatch counts records, taking the lock once.
func (a *Aggregator) AddBatch(records []parse.Record) {
	now := a.clock.Now().Unix()
	a.mu.Lock()
	for i := range records {
		a.add(&records[i], now)
	}
	a.mu.Unlock()
}

// growCounts extends the counter slices to the key tables (after a new key).
func (m *mutable) growCounts() {
	for len(m.portCounts) < len(m.ports.keys) {
		m.portCounts = append(m.portCounts, byAction{})
	}
	for len(m.ifaceCounts) < len(m.ifaces.ids) {
		m.ifaceCounts = append(m.ifaceCounts, ifaceCounts{})
	}
}

// iface returns the interface index of r, with the counters sized for it.
func (a *Aggregator) iface(r *parse.Record) int32 {
	id := ""
	if r.Present.Has(parse.FieldInterfaceID) {
		id = r.InterfaceID
	}
	i := a.ifaces.lookup(id)
	if int(i) >= len(a.ifaceCounts) {
		a.growCounts()
	}
	return i
}

// add counts one record; now is the clock's time in Unix seconds. The caller holds the lock.
func (a *Aggregator) add(r *parse.Record, now int64) {
	if r.IsTransitGateway() {
		a.addTGW(r)
		return
	}
	switch r.LogStatus {
	case parse.LogStatusNoData:
		a.noData++
		a.ifaceCounts[a.iface(r)].noData++
		a.status(r, now)
		return
	case parse.LogStatusSkipData:
		a.skipData++
		a.ifaceCounts[a.iface(r)].skipData++
		a.status(r, now)
		return
	}
	// log-status OK, or a format without it: a flow record, if it has what counting needs.
	var reason Reason
	switch {
	case r.Action != parse.ActionAccept && r.Action != parse.ActionReject:
		reason = ReasonNoAction
	case !r.Present.Has(parse.FieldPackets):
		reason = ReasonNoPackets
	case !r.Present.Has(parse.FieldBytes):
		reason = ReasonNoBytes
	case !r.Present.Has(parse.FieldProtocol):
		reason = ReasonNoProtocol
	default:
		reason = numReasons
	}
	var port uint16
	if reason == numReasons {
		var ok bool
		if port, ok = a.attr.servicePort(r); !ok {
			reason = ReasonNoPort
		}
	}
	if reason != numReasons {
		a.invalid[reason]++
		return
	}
	a.flows++
	act := actionIndex(r.Action)
	pi := a.ports.lookup(r.Protocol, port)
	if int(pi) >= len(a.portCounts) {
		a.growCounts()
	}
	a.portCounts[pi][act].add(r.Packets, r.Bytes)
	a.ifaceCounts[a.iface(r)].flows[act].add(r.Packets, r.Bytes)

	b := a.observe(r, now)
	if b == nil {
		return
	}
	b.portCounts(pi, len(a.ports.keys))[act].add(r.Packets, r.Bytes)
	srcOK := r.Present.Has(parse.FieldSrcAddr)
	if srcOK && r.Present.Has(parse.FieldDstAddr) {
		b.talkers.add(newPairKey(r.SrcAddr, r.DstAddr), r.Bytes)
	}
	if srcOK && r.Action == parse.ActionReject {
		b.addRejected(newAddrKey(r.SrcAddr), r.DstPort, hasPorts(r.Protocol))
	}
}

// advance moves the watermark with a record's start; it reports false (and the record must stay
// out of the windows) when the start is further in the future than MaxClockSkew.
func (a *Aggregator) advance(start, now int64) bool {
	if now <= math.MaxInt64-a.skewSec && start > now+a.skewSec {
		return false
	}
	if !a.hasEvents || start > a.newest {
		wm := floorDiv(start-a.latenessSec, a.widthSec)
		if a.hasEvents {
			wm = max(wm, a.wmBucket) // Advance may have moved it further
		}
		a.hasEvents = true
		a.newest = start
		a.wmBucket = wm
	}
	return true
}

// Advance moves the watermark to t (rounded down to BucketWidth) if that is later than where the
// records have put it; it never moves it back. A daemon calls it when input is idle so that
// windows still close; `flowd analyze` calls it at the end of its input so that the newest
// records are in the windows. It needs at least one record with a start to have been seen.
func (a *Aggregator) Advance(t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.hasEvents {
		return
	}
	// The ring holds at most the buckets up to the newest start: the watermark may not pass it by
	// more than the lateness allows, or future records would share slots with live ones.
	limit := floorDiv(a.newest, a.widthSec) + 1
	a.wmBucket = max(a.wmBucket, min(floorDiv(t.Unix(), a.widthSec), limit))
}

// status handles a NODATA or SKIPDATA record: its start is event time too, so an idle interface
// still moves the watermark, but it is never a flow.
func (a *Aggregator) status(r *parse.Record, now int64) {
	if r.Present.Has(parse.FieldStart) {
		a.advance(r.Start, now)
	}
}

// observe moves the watermark with flow record r's start and returns the bucket r belongs to, or
// nil when r has no start, is late (older than the ring) or is further in the future than
// MaxClockSkew; each of these is counted.
func (a *Aggregator) observe(r *parse.Record, now int64) *bucket {
	if !r.Present.Has(parse.FieldStart) {
		a.untimed++
		return nil
	}
	if !a.advance(r.Start, now) {
		a.future++
		return nil
	}
	num := floorDiv(r.Start, a.widthSec)
	if num < a.wmBucket-a.maxBuckets {
		a.late++
		return nil
	}
	slot := &a.ring[mod(num, int64(len(a.ring)))]
	if !slot.used || slot.num != num {
		if slot.talkers.capacity == 0 {
			*slot = newBucket(a.capacity, a.seed)
		}
		slot.reuse(num)
	}
	return slot
}

// mod is a modulo n in [0, n), for n > 0.
func mod(a, n int64) int64 {
	m := a % n
	if m < 0 {
		m += n
	}
	return m
}
