package metrics

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/inventory"
)

func goldenInventoryViews() []InventoryView {
	snap := inventory.NewSnapshot(testNow.Add(-90*time.Second),
		[]inventory.Interface{
			{ID: "eni-0aaa", Owner: inventory.OwnerInstance, Name: "web-1", Type: "interface", VPCID: "vpc-1", SubnetID: "subnet-1", InstanceID: "i-0aaa",
				Addrs: []netip.Addr{netip.MustParseAddr("10.0.1.5")}},
			{ID: "eni-0bbb", Owner: inventory.OwnerLoadBalancer, Name: "shop", Type: "interface", VPCID: "vpc-1", SubnetID: "subnet-2"},
		},
		[]inventory.Subnet{{ID: "subnet-1", VPCID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/20")}}},
		[]inventory.VPC{{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}},
		[]inventory.FlowLog{{ID: "fl-1", ResourceID: "vpc-1", DestinationType: "cloud-watch-logs", LogGroup: "/aws/vpc/flow-logs", TrafficType: "ALL", DeliverStatus: "SUCCESS"}},
		nil)
	var st inventory.Stats
	st.Calls[inventory.OpDescribeNetworkInterfaces][inventory.OutcomeOK] = 7
	st.Calls[inventory.OpDescribeNetworkInterfaces][inventory.OutcomeThrottled] = 2
	st.Calls[inventory.OpDescribeInstances][inventory.OutcomeUnauthorized] = 3
	st.Retries[inventory.OpDescribeNetworkInterfaces] = 2
	st.Unauthorized[inventory.OpDescribeInstances] = true
	st.Refreshes, st.FlowLogChanges = 3, 1
	st.LastRefresh = snap.Taken
	st.Interfaces, st.FlowLogs, st.DroppedInterfaces = 2, 1, 4
	return []InventoryView{{Name: "us-east-1", Snapshot: snap, Stats: st}, {Name: "eu-west-1", Snapshot: snap, Stats: inventory.Stats{}}}
}

// The inventory families: golden exposition (go test ./internal/metrics -run TestInventoryGolden -args -update),
// a pedantic registry, promtool's lint, and one info series per interface even when two
// inventories see it.
func TestInventoryGolden(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	addrs := func() []netip.Addr {
		return []netip.Addr{netip.MustParseAddr("10.0.1.5"), netip.MustParseAddr("10.0.9.9"), netip.MustParseAddr("52.216.8.1"), netip.MustParseAddr("198.51.100.7")}
	}
	reg.MustRegister(NewInventoryCollector(goldenInventoryViews, func() time.Time { return testNow }).WithAddresses(addrs))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join("testdata", "inventory.prom")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("exposition differs from %s (run with -args -update to accept):\n%s", path, buf.String())
	}
	out := buf.String()
	if !strings.Contains(out, `flowd_address_info{addr="10.0.1.5",interface_id="eni-0aaa",name="web-1",owner="ec2_instance",peer_kind="interface"`) ||
		!strings.Contains(out, `flowd_address_info{addr="198.51.100.7",interface_id="",name="",owner="",peer_kind="internet"`) {
		t.Errorf("address classification missing:\n%s", out)
	}
	if n := strings.Count(out, "flowd_interface_info{"); n != 2 {
		t.Errorf("%d flowd_interface_info series, want 2 (one per interface)", n)
	}
	if !strings.Contains(out, `flowd_inventory_age_seconds{inventory="us-east-1"} 90`) ||
		!strings.Contains(out, `flowd_inventory_permission_missing{inventory="us-east-1",operation="DescribeInstances"} 1`) {
		t.Errorf("age or permission gauge missing:\n%s", out)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(want)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	} else if os.Getenv("CI") == "true" {
		t.Error("promtool is not on PATH")
	}
}

func TestTopAddresses(t *testing.T) {
	t.Parallel()
	a, b, c := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("192.0.2.9")
	s := &aggregate.Snapshot{Windows: []aggregate.Window{
		{TopTalkers: []aggregate.Talker{{Src: b, Dst: a}}, TopRejectedSources: []aggregate.RejectedSource{{Src: c}}},
		{TopTalkers: []aggregate.Talker{{Src: a, Dst: b}}, ScanCandidates: []aggregate.RejectedSource{{Src: c}}},
	}}
	got := TopAddresses(s)
	if len(got) != 3 || got[0] != a || got[1] != b || got[2] != c {
		t.Errorf("TopAddresses = %v, want [%v %v %v]", got, a, b, c)
	}
	if TopAddresses(nil) != nil {
		t.Error("TopAddresses(nil) is not nil")
	}
}
