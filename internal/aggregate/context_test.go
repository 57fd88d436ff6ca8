package aggregate

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// withContext adds the version 3-5 fields the network context reads to a default-format record.
func withContext(r parse.Record, vpc, subnet, az, instance string) parse.Record {
	r.Present = r.Present.With(parse.FieldVPCID).With(parse.FieldSubnetID).With(parse.FieldAZID).With(parse.FieldInstanceID)
	r.VPCID, r.SubnetID, r.AZID, r.InstanceID = vpc, subnet, az, instance
	return r
}

func TestDirectionFromFieldAndInferred(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, nil)
	start := t0.Unix() - 60
	own, client, other := ip("10.0.0.5"), ip("203.0.113.7"), ip("198.51.100.9")
	// An interface without flow-direction: the first record cannot tell the sides apart; the
	// second (another client) leaves one candidate, 10.0.0.5, and decides.
	recs := []parse.Record{
		flow("eni-a", client, own, 40000, 443, 6, 1, 100, start, parse.ActionAccept), // unknown
		flow("eni-a", own, other, 443, 40001, 6, 1, 100, start, parse.ActionAccept),  // egress
		flow("eni-a", other, own, 40001, 443, 6, 1, 100, start, parse.ActionAccept),  // ingress
		flow("eni-a", own, client, 443, 40000, 6, 1, 100, start, parse.ActionAccept), // egress
	}
	// The field wins over inference.
	f := flow("eni-b", own, client, 443, 40000, 6, 1, 100, start, parse.ActionAccept)
	f.Present = f.Present.With(parse.FieldFlowDirection)
	f.FlowDirection = parse.FlowDirectionIngress
	recs = append(recs, f)
	a.AddBatch(recs)
	got := map[string]uint64{}
	for _, in := range a.Snapshot().InterfacesByDirection {
		got[in.InterfaceID+" "+in.Direction.String()] += in.Flows
	}
	want := map[string]uint64{"eni-a unknown": 1, "eni-a egress": 2, "eni-a ingress": 1, "eni-b ingress": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("interface flows by direction = %v, want %v", got, want)
	}
	var ports uint64
	for _, p := range a.Snapshot().PortsByDirection {
		if p.Port == 443 && p.Direction == DirectionEgress {
			ports += p.Flows
		}
	}
	if ports != 2 {
		t.Errorf("port 443 egress flows = %d, want 2", ports)
	}
}

func TestOwnGuessRestartsOnAnotherAddress(t *testing.T) {
	t.Parallel()
	var g ownGuess
	a, b, c, d := ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3"), ip("10.0.0.4")
	steps := []struct {
		src, dst netip.Addr
		want     Direction
	}{
		{a, b, DirectionUnknown}, {a, c, DirectionEgress}, {c, a, DirectionIngress},
		{d, c, DirectionUnknown}, // a is gone: start over with (d, c)
		{c, b, DirectionEgress},  // c is left
	}
	for i, s := range steps {
		if got := g.direction(s.src, s.dst); got != s.want {
			t.Errorf("step %d %s->%s: %s, want %s", i, s.src, s.dst, got, s.want)
		}
	}
}

// TestPortGovernorScanBeforeTraffic is issue 14's case: a scan of 20,000 ports arrives before
// the legitimate traffic; the legitimate ports still get their series, the scan gets at most
// MaxRejectOnlyPorts, nothing is reset, and a restart keeps it so.
func TestPortGovernorScanBeforeTraffic(t *testing.T) {
	t.Parallel()
	cfg := func(c *Config) { c.MaxPorts = 50; c.MaxRejectOnlyPorts = 10; c.ServicePorts = []uint16{8443} }
	a, _ := newTestAggregator(t, cfg)
	start := t0.Unix() - 60
	scanner, server := ip("198.51.100.66"), ip("10.0.0.5")
	var batch []parse.Record
	for p := range 20_000 {
		batch = append(batch, flow("eni-a", scanner, server, 55555, uint16(1+p), 6, 1, 44, start, parse.ActionReject))
	}
	a.AddBatch(batch)
	legit := []uint16{22, 80, 443, 5432, 8080, 9092, 8443}
	addLegit := func(a *Aggregator) {
		for _, p := range legit {
			a.Add(ptr(flow("eni-a", ip("203.0.113.1"), server, 40000, p, 6, 3, 300, start, parse.ActionAccept)))
		}
	}
	addLegit(a)
	s := a.Snapshot()
	check := func(s *Snapshot, when string) {
		t.Helper()
		have := map[uint16]bool{}
		rejectKeys := 0
		for _, p := range s.Ports {
			if p.Other || p.Protocol != 6 {
				continue
			}
			if p.Action == parse.ActionAccept {
				have[p.Port] = true
			} else if !legitPort(legit, p.Port) {
				rejectKeys++
			}
		}
		for _, p := range legit {
			if !have[p] {
				t.Errorf("%s: accepted port %d has no series of its own", when, p)
			}
		}
		if rejectKeys > 10 {
			t.Errorf("%s: %d reject-only port series, cap 10", when, rejectKeys)
		}
		if s.RejectOnlyPortKeys > 10 {
			t.Errorf("%s: RejectOnlyPortKeys = %d, cap 10", when, s.RejectOnlyPortKeys)
		}
		if s.PortFold.Records < uint64(20_000-10-len(legit)) {
			t.Errorf("%s: %d scan records folded, want at least %d", when, s.PortFold.Records, 20_000-10-len(legit))
		}
	}
	check(s, "before restart")
	// A restart: the state carries the governor's budgets, and a second scan stays folded.
	b, _ := newTestAggregator(t, cfg)
	if err := b.Restore(a.State()); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	b.AddBatch(batch)
	addLegit(b)
	s2 := b.Snapshot()
	check(s2, "after restart")
	after := map[PortCounts]uint64{}
	for _, q := range s2.Ports {
		after[PortCounts{Action: q.Action, Protocol: q.Protocol, Port: q.Port, Other: q.Other}] = q.Flows
	}
	for _, p := range s.Ports { // never reset: every series is still there and only grew
		if n, ok := after[PortCounts{Action: p.Action, Protocol: p.Protocol, Port: p.Port, Other: p.Other}]; !ok || n < p.Flows {
			t.Errorf("series %+v went to %d flows (present: %v)", p, n, ok)
		}
	}
}

func legitPort(ps []uint16, p uint16) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func ptr(r parse.Record) *parse.Record { return &r }

func TestRejectedRequestsAndReplies(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, func(c *Config) { c.MaxInterfacePorts = 3 })
	start := t0.Unix() - 60
	srv, cli := ip("10.0.1.10"), ip("10.0.2.20")
	a.AddBatch([]parse.Record{
		// An ACL drops the replies of 5432 leaving the server: accepted requests, rejected replies.
		flow("eni-db", cli, srv, 41000, 5432, 6, 2, 120, start, parse.ActionAccept),
		flow("eni-db", srv, cli, 5432, 41000, 6, 2, 120, start, parse.ActionReject),
		flow("eni-db", srv, cli, 5432, 41001, 6, 2, 120, start, parse.ActionReject),
		// A security group drops requests to 22.
		flow("eni-db", cli, srv, 41002, 22, 6, 1, 60, start, parse.ActionReject),
		// ICMP has no leg.
		flow("eni-db", cli, srv, 0, 0, 1, 1, 84, start, parse.ActionReject),
		// Past the cap of 3 keys: folded into (other, tcp other, request).
		flow("eni-web", cli, srv, 41003, 80, 6, 1, 60, start, parse.ActionReject),
	})
	got := map[string]uint64{}
	for _, r := range a.Snapshot().Rejected {
		port := fmt.Sprint(r.Port)
		if r.Other {
			port = "other"
		}
		got[fmt.Sprintf("%s %d/%s %s", r.InterfaceID, r.Protocol, port, r.Leg)] = r.Flows
	}
	want := map[string]uint64{"eni-db 6/5432 reply": 2, "eni-db 6/22 request": 1, "eni-db 1/0 unknown": 1, "other 6/other request": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rejected = %v, want %v", got, want)
	}
	for _, f := range a.Snapshot().Folds {
		if f.Dimension == "interface_port" && (f.Records != 1 || f.DistinctKeys != 1) {
			t.Errorf("interface_port fold = %+v, want 1 record, 1 key", f)
		}
	}
}

func TestDimensionsCapped(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, func(c *Config) {
		c.Dimensions = []Dimension{DimSubnet, DimVPC}
		c.MaxDimensionValues = 2
		c.MaxNetworkKeys = 3
	})
	start := t0.Unix() - 60
	rec := func(vpc, subnet string) parse.Record {
		return withContext(flow("eni-a", ip("10.0.0.1"), ip("10.0.0.2"), 40000, 443, 6, 1, 10, start, parse.ActionAccept), vpc, subnet, "use1-az1", "i-1")
	}
	a.AddBatch([]parse.Record{
		rec("vpc-1", "subnet-1"), rec("vpc-1", "subnet-2"), rec("vpc-2", "subnet-1"),
		rec("vpc-3", "subnet-3"), // both values past their caps: other/other, a 4th key past 3
		rec("vpc-2", "subnet-2"), // a new combination past the key cap
	})
	s := a.Snapshot()
	if fmt.Sprint(s.NetworkDimensions) != "[vpc_id subnet_id]" {
		t.Errorf("NetworkDimensions = %v", s.NetworkDimensions)
	}
	got := map[string]uint64{}
	for _, n := range s.Network {
		got[n.Values[DimVPC]+"/"+n.Values[DimSubnet]+"/"+n.Values[DimAccount]] += n.Flows
	}
	want := map[string]uint64{"vpc-1/subnet-1/": 1, "vpc-1/subnet-2/": 1, "vpc-2/subnet-1/": 1, "other/other/": 2}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("network flows = %v, want %v", got, want)
	}
	folds := map[string]Fold{}
	for _, f := range s.Folds {
		folds[f.Dimension] = f.Fold
	}
	if folds["vpc_id"].Records != 1 || folds["subnet_id"].Records != 1 || folds["network"].Records != 2 {
		t.Errorf("folds = %+v", folds)
	}
}

func TestInterfaceInfoExpires(t *testing.T) {
	t.Parallel()
	a, clock := newTestAggregator(t, func(c *Config) { c.MaxInterfaces = 2; c.InterfaceInfoTTL = 10 * time.Minute })
	start := t0.Unix() - 60
	withType := withContext(flow("eni-a", ip("10.0.0.1"), ip("10.0.0.2"), 40000, 443, 6, 1, 10, start, parse.ActionAccept), "vpc-1", "subnet-1", "use1-az1", "i-1")
	withType.Present = withType.Present.With(parse.FieldInterfaceType)
	withType.InterfaceType = "nat_gateway"
	a.AddBatch([]parse.Record{
		withType,
		withContext(flow("eni-b", ip("10.0.0.3"), ip("10.0.0.2"), 40000, 443, 6, 1, 10, start, parse.ActionAccept), "vpc-1", "subnet-2", "use1-az2", "-"),
		withContext(flow("eni-c", ip("10.0.0.4"), ip("10.0.0.2"), 40000, 443, 6, 1, 10, start, parse.ActionAccept), "vpc-1", "subnet-2", "use1-az2", "i-3"), // past the cap
	})
	info := a.Snapshot().InterfaceInfo
	if len(info) != 2 || info[0].InterfaceID != "eni-a" || info[0].VPCID != "vpc-1" || info[0].SubnetID != "subnet-1" ||
		info[0].AZID != "use1-az1" || info[0].InstanceID != "i-1" || info[0].AccountID != "123456789012" || info[0].IType != "nat_gateway" ||
		info[1].InstanceID != "" || info[1].IType != "" {
		t.Fatalf("info = %+v", info)
	}
	clock.set(t0.Add(5 * time.Minute))
	a.Add(ptr(statusRecord("eni-b", parse.LogStatusNoData, start+300)))
	clock.set(t0.Add(11 * time.Minute))
	info = a.Snapshot().InterfaceInfo
	if len(info) != 1 || info[0].InterfaceID != "eni-b" {
		t.Errorf("after 11 minutes info = %+v, want eni-b only (seen 6 minutes ago)", info)
	}
}

func TestContextConfigErrors(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Dimensions = []Dimension{DimVPC, DimVPC, 9}
	cfg.MaxRejectOnlyPorts = -1
	cfg.MaxNetworkKeys = 0
	err := cfg.Validate()
	for _, want := range []string{"Dimensions[1]", "Dimensions[2]", "MaxRejectOnlyPorts", "MaxNetworkKeys"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want an error naming %s", err, want)
		}
	}
	if d, ok := DimensionByName("vpc-id"); !ok || d != DimVPC {
		t.Errorf("DimensionByName(vpc-id) = %v, %v", d, ok)
	}
	if _, ok := DimensionByName("vpcid"); ok {
		t.Errorf("DimensionByName(vpcid) accepted")
	}
}
