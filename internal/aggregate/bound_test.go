package aggregate

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"unsafe"

	"github.com/flowd-dev/flowd/internal/parse"
)

// attack fills r with the i-th record of a cardinality attack: a new source, destination,
// interface id, port pair and protocol every time, rejected one time in three, start times
// spread over an hour (so the ring turns over many times).
func attack(i int, iface []byte, r *parse.Record) {
	x := uint32(i)
	src := netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
	dst := netip.AddrFrom4([4]byte{10, byte(x >> 16), byte(x >> 8), byte(x)})
	action := parse.ActionAccept
	if i%3 == 0 {
		action = parse.ActionReject
	}
	protos := [...]uint8{6, 17, 132, 33, 136, 47}
	iface = append(iface[:0], "eni-"...)
	for sh := 64; sh > 0; sh -= 4 {
		iface = append(iface, "0123456789abcdef"[uint64(i)>>(sh-4)&15])
	}
	iface = append(iface, '0')
	*r = flow(unsafeString(iface), src, dst, uint16(x*7919), uint16(x*104729), protos[i%len(protos)], 1, 100, t0.Unix()-3600+int64(i%3600), action)
	if i%1000 == 0 {
		r.Protocol = uint8(x >> 10) // every protocol number, sometimes
	}
	r.Present = r.Present.With(parse.FieldVPCID) // a new VPC id every time too
	r.VPCID = r.InterfaceID
}

// unsafeString views b as a string without copying, as a parser's record strings do.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// checkBounds fails if any structure of a is larger than the caps allow.
func checkBounds(t *testing.T, a *Aggregator) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	cfg := a.cfg
	maxPortKeys := cfg.MaxPorts + cfg.MaxRejectOnlyPorts + 256 // the caps plus one "other" per protocol
	checks := []struct {
		what      string
		got, high int
	}{
		{"port keys", len(a.ports.keys), maxPortKeys},
		{"port map", len(a.ports.index), maxPortKeys},
		{"port counters", len(a.portCounts), maxPortKeys},
		{"interface ids", len(a.ifaces.ids), cfg.MaxInterfaces + ifaceFirst},
		{"interface map", a.ifaces.used, cfg.MaxInterfaces},
		{"interface table", len(a.ifaces.slots), 4 * max(cfg.MaxInterfaces, 32)},
		{"interface counters", len(a.ifaceCounts), cfg.MaxInterfaces + ifaceFirst},
		{"rejected keys", len(a.rejects.keys), cfg.MaxInterfacePorts + 3*256},
		{"network keys", len(a.dims.keys), cfg.MaxNetworkKeys + 1},
		{"vpc values", len(a.dims.vals[DimVPC].ids), cfg.MaxDimensionValues + ifaceFirst},
		{"ring", len(a.ring), int(ringLen(cfg.BucketWidth, cfg.Windows[len(cfg.Windows)-1], cfg.AllowedLateness))},
	}
	for i := range a.ring {
		b := &a.ring[i]
		checks = append(checks,
			struct {
				what      string
				got, high int
			}{fmt.Sprintf("bucket %d ports", i), len(b.ports), maxPortKeys},
			struct {
				what      string
				got, high int
			}{fmt.Sprintf("bucket %d talkers", i), len(b.talkers.entries), 2 * cfg.capacity()},
			struct {
				what      string
				got, high int
			}{fmt.Sprintf("bucket %d rejected", i), len(b.rejected.entries), 2 * cfg.capacity()},
		)
	}
	for _, c := range checks {
		if c.got > c.high {
			t.Errorf("%s: %d entries, bound %d", c.what, c.got, c.high)
		}
	}
}

func TestMemoryBoundedUnderCardinalityAttack(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, func(c *Config) { c.Dimensions = []Dimension{DimAccount, DimVPC} })
	const n = 1_000_000
	// The interface ids of every batch are built in the same buffers: if the aggregator kept the
	// strings instead of copying them, the ids it reports would change under it.
	batch := make([]parse.Record, 1000)
	ifaces := make([][]byte, len(batch))
	for j := range ifaces {
		ifaces[j] = make([]byte, 0, 32)
	}
	for i := 0; i < n; i += len(batch) {
		for j := range batch {
			attack(i+j, ifaces[j], &batch[j])
		}
		a.AddBatch(batch)
	}
	checkBounds(t, a)
	s := a.Snapshot()
	if s.Flows != n {
		t.Errorf("flows = %d, want %d", s.Flows, n)
	}
	// Folds: exact record counts, distinct keys estimated within 5%.
	if want := uint64(n - a.cfg.MaxInterfaces); s.InterfaceFold.Records != want || !near(s.InterfaceFold.DistinctKeys, want, 0.05) {
		t.Errorf("interface fold = %+v, want %d records and about as many keys", s.InterfaceFold, want)
	}
	var inOther uint64
	for _, p := range s.Ports {
		if p.Other {
			inOther += p.Flows
		}
	}
	if s.PortFold.Records != inOther || s.PortFold.Records < n/2 || s.PortFold.DistinctKeys < 50_000 {
		t.Errorf("port fold = %+v, %d flows in the other keys; want them equal, and most records and keys folded", s.PortFold, inOther)
	}
	for i, in := range s.Interfaces[:10] {
		if in.InterfaceID != OtherInterface && (len(in.InterfaceID) != 21 || in.InterfaceID[:4] != "eni-") {
			t.Errorf("interface %d id %q was not copied", i, in.InterfaceID)
		}
	}
}

func near(got, want uint64, rel float64) bool {
	d := float64(got) - float64(want)
	return d <= rel*float64(want) && -d <= rel*float64(want)
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, nil)
	records := generated(9, 40_000)
	var wg sync.WaitGroup
	const writers = 4
	for w := range writers {
		wg.Go(func() {
			part := records[w*len(records)/writers : (w+1)*len(records)/writers]
			for i := 0; i < len(part); i += 100 {
				a.AddBatch(part[i:min(i+100, len(part))])
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			s := a.Snapshot()
			_ = a.State()
			var sum uint64
			for _, tot := range s.Totals {
				sum += tot.Flows
			}
			if sum != s.Flows {
				t.Errorf("snapshot totals %d != flows %d: not consistent", sum, s.Flows)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()

	ref, _ := newTestAggregator(t, nil)
	ref.AddBatch(records)
	got, want := a.Snapshot(), ref.Snapshot()
	if got.Flows != want.Flows || fmt.Sprint(got.Ports) != fmt.Sprint(want.Ports) || fmt.Sprint(got.Interfaces) != fmt.Sprint(want.Interfaces) {
		t.Errorf("concurrent counts differ from sequential ones")
	}
	for i := range got.Windows {
		if fmt.Sprint(got.Windows[i].Ports) != fmt.Sprint(want.Windows[i].Ports) {
			t.Errorf("window %s differs from sequential", got.Windows[i].Width)
		}
	}
}
