package simulate

import (
	"slices"

	"github.com/flowd-dev/flowd/internal/parse"
)

// Scenario names (Config.Scenario).
const (
	ScenarioSteady      = "steady"
	ScenarioRejectSpike = "reject-spike"
	ScenarioPortScan    = "port-scan"
	ScenarioLateBurst   = "late-burst"
	ScenarioDemo        = "demo"
	ScenarioACLBlock    = "acl-block"
)

// ScenarioInfo names and describes a scenario.
type ScenarioInfo struct {
	Name        string
	Description string
}

var scenarioList = []ScenarioInfo{
	{ScenarioSteady, "the baseline: web, app and database traffic, AWS service calls, rejected SSH/RDP knocks, " +
		"ICMP, IPv6, NODATA on idle interfaces and rare SKIPDATA"},
	{ScenarioRejectSpike, "steady, plus a burst of rejected flows (SSH, RDP, telnet, SMB, MSSQL, VNC) from many " +
		"sources on every web interface during the event (EventAt, EventDuration)"},
	{ScenarioPortScan, "steady, plus one source probing ScanPorts distinct ports of the first web interface " +
		"(eni of interface 0) during the event: rejected, except the open 80 and 443"},
	{ScenarioLateBurst, "steady, but the batches of every interval starting during the event are held back and " +
		"released together DelayMax after the event ends"},
	{ScenarioDemo, "steady, plus in every DemoPeriod a network ACL rejecting the databases' replies (the windows " +
		"starting in the first 1/5 of the period), a reject spike (from 1/5 to 2/5) and a port scan of one web " +
		"interface by a new source (from 3/5 to 4/5)"},
	{ScenarioACLBlock, "steady, plus during the event a network ACL on the data subnets that denies outbound " +
		"ephemeral ports: requests to the databases are accepted, their replies rejected (Truth.RejectedReplies)"},
}

// Scenarios lists the scenarios, steady first.
func Scenarios() []ScenarioInfo { return slices.Clone(scenarioList) }

// ScenarioNames lists the scenario names, steady first.
func ScenarioNames() []string {
	names := make([]string, len(scenarioList))
	for i, s := range scenarioList {
		names[i] = s.Name
	}
	return names
}

func scenarioByName(name string) (ScenarioInfo, bool) {
	for _, s := range scenarioList {
		if s.Name == name {
			return s, true
		}
	}
	return ScenarioInfo{}, false
}

// maxScanPorts bounds Config.ScanPorts: scanned ports are a permutation of 1..ScanPorts built
// with the prime stride scanStride, which must not divide the count.
const (
	maxScanPorts = 7918
	scanStride   = 7919
)

// maxEvents bounds the scenario events one window can overlap (demo periods are >= 2 minutes,
// windows <= 10 minutes).
const maxEvents = 8

// event is one reject spike or port scan in event time [a, b).
type event struct {
	n      int64 // event number: selects the scanner and the target
	a, b   int64
	target int // interface index, for scans
}

// scenario places the events of the configured scenario. Everything is a function of the seed,
// Start and the window, so generation order never matters.
type scenario struct {
	name       string
	seed       uint64
	start      int64 // Config.Start, Unix seconds rounded up
	evA, evB   int64 // the single event of reject-spike, port-scan and late-burst
	period     int64 // demo
	holdFor    int64 // late-burst: release this long after the event ends
	interval   int64
	spikeFlows int
	scanPorts  int
	webs       []int // web interfaces
}

func newScenario(cfg *Config, v *vpc) *scenario {
	start := cfg.Start.Unix()
	if cfg.Start.Nanosecond() != 0 {
		start++ // as the first windows do
	}
	return &scenario{
		name:       cfg.Scenario,
		seed:       cfg.Seed,
		start:      start,
		evA:        start + int64(cfg.EventAt.Seconds()),
		evB:        start + int64((cfg.EventAt + cfg.EventDuration).Seconds()),
		period:     int64(cfg.DemoPeriod.Seconds()),
		holdFor:    int64(cfg.DelayMax.Seconds()),
		interval:   int64(cfg.Interval.Seconds()),
		spikeFlows: max(40, 4*cfg.FlowsPerInterval),
		scanPorts:  cfg.ScanPorts,
		webs:       v.byRole[roleWeb],
	}
}

// spikes fills out with the reject spikes overlapping [ws, we) and returns their number.
func (s *scenario) spikes(ws, we int64, out *[maxEvents]event) int {
	switch s.name {
	case ScenarioRejectSpike:
		return s.single(ws, we, out)
	case ScenarioDemo:
		return s.periodic(ws, we, 1, out)
	}
	return 0
}

// scans fills out with the port scans overlapping [ws, we) and returns their number.
func (s *scenario) scans(ws, we int64, out *[maxEvents]event) int {
	switch s.name {
	case ScenarioPortScan:
		n := s.single(ws, we, out)
		if n > 0 {
			out[0].target = 0
		}
		return n
	case ScenarioDemo:
		n := s.periodic(ws, we, 3, out)
		for i := range n {
			out[i].target = s.webs[mix(s.seed^uint64(out[i].n)*0x9e37)%uint64(len(s.webs))]
		}
		return n
	}
	return 0
}

// single reports the one event of the scenario if it overlaps [ws, we).
func (s *scenario) single(ws, we int64, out *[maxEvents]event) int {
	if ws < s.evB && we > s.evA {
		out[0] = event{n: 0, a: s.evA, b: s.evB}
		return 1
	}
	return 0
}

// periodic reports the demo events overlapping [ws, we): in period n, the event covers fifths
// fifth and fifth+1 of the period.
func (s *scenario) periodic(ws, we int64, fifth int64, out *[maxEvents]event) int {
	c := 0
	for n := floorDiv(ws-s.start, s.period) - 1; n <= floorDiv(we-1-s.start, s.period) && c < maxEvents; n++ {
		a := s.start + n*s.period + fifth*s.period/5
		b := s.start + n*s.period + (fifth+1)*s.period/5
		if ws < b && we > a {
			out[c] = event{n: n, a: a, b: b}
			c++
		}
	}
	return c
}

// blocksReplies reports whether a network ACL drops the replies of database interface ifc's
// service in the window starting at ws: the acl-block scenario, during the event.
func (s *scenario) blocksReplies(ifc *iface, ws int64) bool {
	if ifc.role != roleDB {
		return false
	}
	switch s.name {
	case ScenarioACLBlock:
		return ws >= s.evA && ws < s.evB
	case ScenarioDemo:
		return ws-(s.start+floorDiv(ws-s.start, s.period)*s.period) < s.period/5
	}
	return false
}

// hold reports when the batch of window [ws, we) may be delivered at the earliest, if the
// scenario holds it back.
func (s *scenario) hold(ws int64) (int64, bool) {
	if s.name == ScenarioLateBurst && ws >= s.evA && ws < s.evB {
		return s.evB + s.holdFor, true
	}
	return 0, false
}

// windowSlot returns the index of window k among the windows of an interface (with the phase)
// that overlap [a, b) and are generated (from window firstK on), and their count.
func windowSlot(k, firstK, phase, interval, a, b int64) (slot, count int64) {
	first := max(floorDiv(a-phase-interval, interval)+1, firstK)
	last := floorDiv(b-phase-1, interval)
	return k - first, last - first + 1
}

// firstWindow returns the number of an interface's first window: the first to start at or
// after start.
func firstWindow(start, phase, interval int64) int64 {
	return -floorDiv(-(start - phase), interval)
}

// floorDiv is integer division rounding towards minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// scenarioFlows adds the scenario's records for interface i, window k = [ws, we).
func (g *generator) scenarioFlows(i int, k, ws, we int64) {
	var evs [maxEvents]event
	ifc := &g.v.ifaces[i]
	if ifc.role == roleWeb {
		for _, e := range evs[:g.scen.spikes(ws, we, &evs)] {
			r := seeded(g.cfg.Seed, saltScenario, uint64(i), uint64(k), uint64(e.n), 1)
			g.spike(&r, ifc, max(ws, e.a), min(we, e.b))
		}
	}
	for _, e := range evs[:g.scen.scans(ws, we, &evs)] {
		if e.target != i {
			continue
		}
		r := seeded(g.cfg.Seed, saltScenario, uint64(i), uint64(k), uint64(e.n), 2)
		slot, count := windowSlot(k, firstWindow(g.scen.start, ifc.phase, g.interval), ifc.phase, g.interval, e.a, e.b)
		g.scan(&r, ifc, e, slot, count, max(ws, e.a), min(we, e.b))
	}
}

// spikePorts are the targets of a reject spike, with cumulative shares.
var spikePorts = [...]struct {
	port  uint16
	share float64
}{{22, 0.45}, {3389, 0.70}, {23, 0.80}, {445, 0.90}, {1433, 0.95}, {5900, 1}}

// spike adds a burst of rejected attempts from many sources within [a, b).
func (g *generator) spike(r *rng, ifc *iface, a, b int64) {
	for range g.scen.spikeFlows {
		f := r.float()
		j := 0
		for j < len(spikePorts)-1 && f >= spikePorts[j].share {
			j++
		}
		g.rejected(r, ifc.addr4, attackerAddr(g.cfg.Seed, r.intn(attackerPoolSize)),
			uint16(r.between(1024, 65535)), spikePorts[j].port, a, b)
	}
}

// scan adds this window's share of port scan e: ports are split evenly over the count windows
// of the interface that overlap the scan, and probed within [a, b).
func (g *generator) scan(r *rng, ifc *iface, e event, slot, count, a, b int64) {
	n := int64(g.scen.scanPorts)
	h := mix(g.cfg.Seed ^ mix(uint64(e.n)+saltScanner))
	src := scannerAddr(g.cfg.Seed, e.n)
	srcPort := uint16(40000 + h%20000) // scanners keep one source port
	off := int64(h>>20) % n
	for j := slot * n / count; j < (slot+1)*n/count; j++ {
		port := uint16(1 + (j*scanStride+off)%n)
		start := a + int64(r.intn(int(b-a)))
		probe := flow{src: src, dst: ifc.addr4, srcPort: srcPort, dstPort: port, proto: protoTCP,
			packets: 1, bytes: 44, start: start, end: start, action: parse.ActionReject,
			status: parse.LogStatusOK, flags: flagSYN, dir: parse.FlowDirectionIngress, srcSvc: -1, dstSvc: -1}
		if port == 80 || port == 443 { // open on a web server: accepted, and it answers SYN-ACK
			probe.action = parse.ActionAccept
			g.addFlow(probe)
			g.addFlow(flow{src: ifc.addr4, dst: src, srcPort: port, dstPort: srcPort, proto: protoTCP,
				packets: 1, bytes: 44, start: start, end: start, action: parse.ActionAccept,
				status: parse.LogStatusOK, flags: flagSYNACK, dir: parse.FlowDirectionEgress, path: 8,
				srcSvc: -1, dstSvc: -1})
			continue
		}
		g.addFlow(probe)
	}
}
