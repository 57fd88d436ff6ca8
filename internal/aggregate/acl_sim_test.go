package aggregate

import (
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
	"github.com/flowd-dev/flowd/internal/simulate"
)

// TestACLScenarioAgainstTruth feeds the simulator's acl-block scenario (a network ACL drops the
// replies of the databases during the event) through an aggregator and checks the rejected
// replies by (interface, protocol, port) against the simulator's truth, exactly; the rejected
// requests of the same run are never counted as replies; the network family by VPC and subnet
// against the truth by interface; and the interface info against the simulated VPCs.
func TestACLScenarioAgainstTruth(t *testing.T) {
	t.Parallel()
	cfg := simulate.DefaultConfig()
	cfg.Start = t0.Add(-30 * time.Minute)
	cfg.Interfaces = 30
	cfg.VPCs = 2
	cfg.Scenario = simulate.ScenarioACLBlock
	cfg.EventAt, cfg.EventDuration = 5*time.Minute, 10*time.Minute
	cfg.StragglerFraction = 0
	f := parse.MustCompile(simulate.FullV5Format)
	cfg.Format = f
	sim, err := simulate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := newTestAggregator(t, func(c *Config) { c.Dimensions = []Dimension{DimVPC, DimSubnet} })
	var batch []parse.Record
	for _, d := range sim.Advance(t0.Add(10 * time.Minute)) {
		batch = batch[:0]
		for _, e := range d.Events {
			var r parse.Record
			if err := f.Parse(e.Message, &r); err != nil {
				t.Fatal(err)
			}
			batch = append(batch, r)
		}
		a.AddBatch(batch)
	}
	truth := sim.Delivered().RejectedReplies
	if len(truth) == 0 {
		t.Fatal("the scenario rejected no replies: the test checks nothing")
	}
	s := a.Snapshot()
	got := map[simulate.ReplyKey]uint64{}
	for _, r := range s.Rejected {
		if r.Leg == LegReply {
			got[simulate.ReplyKey{Interface: r.InterfaceID, Protocol: r.Protocol, Port: r.Port}] += r.Flows
		}
	}
	for k, c := range truth {
		if got[k] != c.Flows {
			t.Errorf("rejected replies of %s %d/%d: %d, truth %d", k.Interface, k.Protocol, k.Port, got[k], c.Flows)
		}
	}
	for k, n := range got {
		if _, ok := truth[k]; !ok {
			t.Errorf("rejected replies of %s %d/%d: %d, truth has none", k.Interface, k.Protocol, k.Port, n)
		}
	}
	// The interface info says what the VPC is.
	info := map[string]InterfaceInfo{}
	for _, in := range s.InterfaceInfo {
		info[in.InterfaceID] = in
	}
	for _, ifc := range sim.Interfaces() {
		in, ok := info[ifc.ID]
		if !ok {
			t.Errorf("no info for %s", ifc.ID)
			continue
		}
		if in.VPCID != ifc.VPCID || in.SubnetID != ifc.SubnetID || in.AZID != ifc.AZID || in.InstanceID != ifc.InstanceID || in.AccountID != cfg.AccountID {
			t.Errorf("info of %s = %+v, want vpc %s subnet %s az %s instance %s", ifc.ID, in, ifc.VPCID, ifc.SubnetID, ifc.AZID, ifc.InstanceID)
		}
	}
	// The network counts by (action, vpc, subnet) are the truth's interface counts summed by
	// the interfaces' VPC and subnet.
	type place struct {
		action      parse.Action
		vpc, subnet string
	}
	want := map[place]uint64{}
	byID := map[string]simulate.Interface{}
	for _, ifc := range sim.Interfaces() {
		byID[ifc.ID] = ifc
	}
	for k, c := range sim.Delivered().ByInterface {
		if k.Action == parse.ActionAccept || k.Action == parse.ActionReject {
			want[place{k.Action, byID[k.Interface].VPCID, byID[k.Interface].SubnetID}] += c.Flows
		}
	}
	have := map[place]uint64{}
	vpcs := map[string]bool{}
	for _, n := range s.Network {
		have[place{n.Action, n.Values[DimVPC], n.Values[DimSubnet]}] += n.Flows
		vpcs[n.Values[DimVPC]] = true
	}
	if len(vpcs) != 2 || len(have) != len(want) {
		t.Errorf("network keys: %d places in %d VPCs, truth %d places in 2", len(have), len(vpcs), len(want))
	}
	for p, n := range want {
		if have[p] != n {
			t.Errorf("network flows %+v: %d, truth %d", p, have[p], n)
		}
	}
}
