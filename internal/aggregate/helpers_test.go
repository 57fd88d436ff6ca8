package aggregate

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// fakeClock is a Clock the test sets.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// t0 is the fake "now" of the tests, a multiple of every bucket width used.
var t0 = time.Unix(1_700_000_000, 0).UTC()

func newTestAggregator(t testing.TB, mutate func(*Config)) (*Aggregator, *fakeClock) {
	t.Helper()
	cfg := DefaultConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	clock := &fakeClock{now: t0}
	a, err := New(cfg, clock)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a, clock
}

// v2 are the fields of the default format.
var v2 = parse.FieldSet{}.With(parse.FieldVersion).With(parse.FieldAccountID).With(parse.FieldInterfaceID).
	With(parse.FieldSrcAddr).With(parse.FieldDstAddr).With(parse.FieldSrcPort).With(parse.FieldDstPort).
	With(parse.FieldProtocol).With(parse.FieldPackets).With(parse.FieldBytes).With(parse.FieldStart).
	With(parse.FieldEnd).With(parse.FieldAction).With(parse.FieldLogStatus)

// flow returns an OK default-format record.
func flow(iface string, src, dst netip.Addr, sport, dport uint16, proto uint8, packets, bytes uint64, start int64, action parse.Action) parse.Record {
	return parse.Record{
		Present: v2, Version: 2, AccountID: "123456789012", InterfaceID: iface,
		SrcAddr: src, DstAddr: dst,
		SrcPort: sport, DstPort: dport, Protocol: proto, Packets: packets, Bytes: bytes,
		Start: start, End: start + 60, Action: action, LogStatus: parse.LogStatusOK,
	}
}

// ip parses an address of a test table.
func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// statusRecord returns a NODATA or SKIPDATA record of iface.
func statusRecord(iface string, status parse.LogStatus, start int64) parse.Record {
	return parse.Record{
		Present: parse.FieldSet{}.With(parse.FieldVersion).With(parse.FieldAccountID).With(parse.FieldInterfaceID).
			With(parse.FieldStart).With(parse.FieldEnd).With(parse.FieldLogStatus),
		Version: 2, AccountID: "123456789012", InterfaceID: iface, Start: start, End: start + 60, LogStatus: status,
	}
}

// generator makes a realistic, deterministic mix of records: a few hundred interfaces, ports with
// a skewed popularity, about 10% rejects, some NODATA and SKIPDATA, a few broken records, IPv6,
// start times spread over a span ending at end.
type generator struct {
	r       *rand.Rand
	ifaces  []string
	ports   []uint16
	clients []netip.Addr
	servers []netip.Addr
	end     int64
	span    int64
}

func newGenerator(seed uint64, ifaces int, end time.Time, span time.Duration) *generator {
	g := &generator{r: rand.New(rand.NewPCG(seed, 7)), end: end.Unix(), span: int64(span / time.Second)}
	for i := range ifaces {
		g.ifaces = append(g.ifaces, fmt.Sprintf("eni-%017x", 0xabc000+i))
	}
	g.ports = []uint16{443, 80, 22, 5432, 3306, 6379, 53, 123, 8080, 9092, 27017, 25, 3389, 1433, 11211}
	for i := range 500 {
		g.clients = append(g.clients, netip.AddrFrom4([4]byte{203, 0, byte(i / 250), byte(i%250 + 1)}))
	}
	for i := range 60 {
		g.servers = append(g.servers, netip.AddrFrom4([4]byte{10, 0, byte(i / 200), byte(i%200 + 1)}))
	}
	g.servers = append(g.servers, netip.MustParseAddr("2600:1f18::10"), netip.MustParseAddr("2600:1f18::11"))
	return g
}

// skewed returns an index in [0, n) with a Zipf-like bias toward 0.
func (g *generator) skewed(n int) int {
	x := g.r.Float64()
	return min(n-1, int(float64(n)*x*x*x))
}

// next fills r with the next record.
func (g *generator) next(r *parse.Record) {
	iface := g.ifaces[g.skewed(len(g.ifaces))]
	start := g.end - g.r.Int64N(g.span)
	switch p := g.r.IntN(1000); {
	case p < 10:
		*r = statusRecord(iface, parse.LogStatusNoData, start)
		return
	case p < 13:
		*r = statusRecord(iface, parse.LogStatusSkipData, start)
		return
	}
	client := g.clients[g.skewed(len(g.clients))]
	server := g.servers[g.skewed(len(g.servers))]
	if server.Is6() {
		client = netip.MustParseAddr("2001:db8::1")
	}
	svc := g.ports[g.skewed(len(g.ports))]
	eph := uint16(32768 + g.r.IntN(28000))
	proto := uint8(6)
	switch q := g.r.IntN(100); {
	case q < 8:
		proto = 17
	case q < 10:
		proto = 1
	}
	action := parse.ActionAccept
	if g.r.IntN(10) == 0 {
		action = parse.ActionReject
	}
	packets := uint64(1 + g.r.IntN(200))
	bytes := packets * uint64(40+g.r.IntN(1400))
	src, dst, sport, dport := client, server, eph, svc
	if g.r.IntN(2) == 0 { // the reply direction
		src, dst, sport, dport = server, client, svc, eph
	}
	*r = flow(iface, src, dst, sport, dport, proto, packets, bytes, start, action)
	if proto == 1 {
		r.SrcPort, r.DstPort = 0, 0
	}
	if g.r.IntN(500) == 0 { // a broken record: action "-" on an OK record
		r.Action = parse.ActionNone
		r.Present = r.Present.Without(parse.FieldAction)
	}
}
