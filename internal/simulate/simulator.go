package simulate

import (
	"cmp"
	"container/heap"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// Simulator generates the flow log records of a virtual VPC and hands them out when their
// delivery time comes. It is safe for concurrent use.
type Simulator struct {
	mu       sync.Mutex
	cfg      Config
	v        *vpc
	scen     *scenario
	gen      generator
	ren      *renderer
	interval int64   // seconds
	next     []int64 // per interface: the next window number to generate
	queue    batchQueue

	generated, delivered, pending *tally
}

// New validates cfg and builds the VPC. A nil cfg.Format means the default format.
func New(cfg Config) (*Simulator, error) {
	if cfg.Format == nil {
		f, err := parse.Compile(parse.DefaultFormat)
		if err != nil {
			return nil, fmt.Errorf("simulate: default format: %w", err)
		}
		cfg.Format = f
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Simulator{
		cfg:       cfg,
		interval:  int64(cfg.Interval.Seconds()),
		next:      make([]int64, cfg.Interfaces),
		generated: newTally(cfg.Interfaces, cfg.TruthByPort),
		delivered: newTally(cfg.Interfaces, cfg.TruthByPort),
		pending:   newTally(cfg.Interfaces, cfg.TruthByPort),
	}
	s.v = newVPC(&s.cfg)
	s.scen = newScenario(&s.cfg, s.v)
	s.gen = generator{cfg: &s.cfg, v: s.v, scen: s.scen, interval: s.interval}
	s.ren = newRenderer(cfg.Format)
	for i := range s.next {
		s.next[i] = firstWindow(s.scen.start, s.v.ifaces[i].phase, s.interval)
	}
	return s, nil
}

// Format returns the format the records are written in.
func (s *Simulator) Format() *parse.Format { return s.cfg.Format }

// Interface describes one simulated network interface.
type Interface struct {
	ID         string // interface-id
	Stream     string // log stream name
	InstanceID string
	SubnetID   string
	AZID       string
	VPCID      string
	Role       string // web, app, db or idle
	IPv4, IPv6 netip.Addr
}

var roleNames = [numRoles]string{roleWeb: "web", roleApp: "app", roleDB: "db", roleIdle: "idle"}

// VPCID returns the id of the (first) simulated VPC; Interfaces() says each interface's.
func (s *Simulator) VPCID() string { return s.v.id }

// Interfaces lists the simulated interfaces; index 0 is the target of the port-scan scenario.
func (s *Simulator) Interfaces() []Interface {
	out := make([]Interface, len(s.v.ifaces))
	for i := range s.v.ifaces {
		f := &s.v.ifaces[i]
		out[i] = Interface{ID: f.eni, Stream: f.stream, InstanceID: f.instance, SubnetID: f.subnetID,
			AZID: f.azID, VPCID: s.v.ids[f.vpc], Role: roleNames[f.role], IPv4: f.addr4, IPv6: f.addr6}
	}
	return out
}

// Advance generates the records of every interval that ended at or before until, and returns
// the batches whose delivery time is at or before until and that were not returned before,
// ordered by delivery time (then interface, then interval). The result depends only on the
// Config and until, not on the earlier calls: Advance(t2) returns what Advance(t1) and then
// Advance(t2) return together. Events of each batch are in timestamp order.
func (s *Simulator) Advance(until time.Time) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := until.Unix()
	for i := range s.next {
		ph := s.v.ifaces[i].phase
		for {
			k := s.next[i]
			ws := k*s.interval + ph
			if ws+s.interval > u {
				break
			}
			heap.Push(&s.queue, s.generate(i, k, ws, ws+s.interval))
			s.next[i]++
		}
	}
	um := until.UnixMilli()
	var out []Delivery
	for len(s.queue) > 0 && s.queue[0].deliverAt <= um {
		b := heap.Pop(&s.queue).(*batch)
		s.delivered.add(b.iface, b.sums, false)
		s.pending.add(b.iface, b.sums, true)
		ifc := &s.v.ifaces[b.iface]
		out = append(out, Delivery{
			Stream:      ifc.stream,
			Interface:   ifc.eni,
			WindowStart: time.Unix(b.ws, 0).UTC(),
			WindowEnd:   time.Unix(b.we, 0).UTC(),
			DeliverAt:   time.UnixMilli(b.deliverAt).UTC(),
			Events:      b.events,
		})
	}
	return out
}

// generate builds the batch of interface i's window k = [ws, we) and counts it as generated.
func (s *Simulator) generate(i int, k, ws, we int64) *batch {
	g := &s.gen
	g.flows = g.flows[:0]
	r := seeded(s.cfg.Seed, saltTraffic, uint64(i), uint64(k))
	g.steady(&r, i, ws, we)
	g.scenarioFlows(i, k, ws, we)
	sr := seeded(s.cfg.Seed, saltSkip, uint64(i), uint64(k))
	if len(g.flows) > 0 && sr.chance(s.cfg.SkipDataRate) {
		// Capacity trouble: half the records are lost, and a SKIPDATA record says so.
		g.flows = append(g.flows[:len(g.flows)/2], statusFlow(&sr, parse.LogStatusSkipData, ws, we))
	}
	if len(g.flows) == 0 {
		g.flows = append(g.flows, statusFlow(&sr, parse.LogStatusNoData, ws, we))
	}
	// Sort by start (PutLogEvents wants time order) through small keys rather than moving
	// the flows; the index breaks ties, so the order is total and deterministic.
	g.order = g.order[:0]
	for j := range g.flows {
		g.order = append(g.order, sortKey{start: g.flows[j].start, idx: int32(j)})
	}
	slices.SortFunc(g.order, func(a, b sortKey) int {
		if a.start != b.start {
			return cmp.Compare(a.start, b.start)
		}
		return cmp.Compare(a.idx, b.idx)
	})

	b := &batch{iface: i, k: k, ws: ws, we: we,
		events: make([]Event, len(g.flows)), sums: make([]summary, len(g.flows))}
	s.ren.setInterface(&s.cfg, s.v, &s.v.ifaces[i])
	for j, o := range g.order {
		f := &g.flows[o.idx]
		msg, sum := s.ren.render(f)
		b.events[j] = Event{Timestamp: f.start * 1000, Message: msg}
		b.sums[j] = sum
	}
	b.deliverAt = we*1000 + delayMillis(&s.cfg, i, k)
	if release, held := s.scen.hold(ws); held {
		b.deliverAt = max(b.deliverAt, release*1000)
	}
	s.generated.add(i, b.sums, false)
	s.pending.add(i, b.sums, false)
	return b
}

// Generated returns the truth of every record generated so far, delivered or not.
func (s *Simulator) Generated() *Truth { return s.snapshot(s.generated) }

// Delivered returns the truth of the records Advance has returned.
func (s *Simulator) Delivered() *Truth { return s.snapshot(s.delivered) }

// Pending returns the truth of the records generated but not yet delivered.
func (s *Simulator) Pending() *Truth { return s.snapshot(s.pending) }

func (s *Simulator) snapshot(t *tally) *Truth {
	s.mu.Lock()
	defer s.mu.Unlock()
	return t.truth(s.v, s.ren.fmask.Has(parse.FieldInterfaceID))
}
