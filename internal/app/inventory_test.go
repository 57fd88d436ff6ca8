package app

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"go.uber.org/zap/zaptest"

	"github.com/flowd-dev/flowd/internal/awshttp"
	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/emulator/ec2emu"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/inventory"
	"github.com/flowd-dev/flowd/internal/parse"
	"github.com/flowd-dev/flowd/internal/sourcelabel"
)

// A discover: flow_logs source finds the group and its exact format through the EC2 emulator,
// reads it, and the interface gets its name in flowd_interface_info.
func TestAppDiscoversFlowLogsAndNamesInterfaces(t *testing.T) {
	env := newEnv(t)
	ec2srv, err := ec2emu.New(ec2emu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ec2srv.PutVPC(ec2emu.VPC{ID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.0.0/16")}))
	must(ec2srv.PutSubnet(ec2emu.Subnet{ID: "subnet-1", VPCID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")}))
	must(ec2srv.PutInstance(ec2emu.Instance{ID: "i-aaa", Tags: []ec2emu.Tag{{Key: "Name", Value: "web-1"}}}))
	must(ec2srv.PutNetworkInterface(ec2emu.NetworkInterface{ID: "eni-aaa", VPCID: "vpc-1", SubnetID: "subnet-1",
		PrivateIPs: []netip.Addr{netip.MustParseAddr("10.0.1.5")}, Attachment: &ec2emu.Attachment{InstanceID: "i-aaa"}}))
	must(ec2srv.PutFlowLog(ec2emu.FlowLog{ID: "fl-1", ResourceID: "vpc-1", LogGroupName: group, LogFormat: parse.DefaultFormat}))
	must(ec2srv.PutFlowLog(ec2emu.FlowLog{ID: "fl-s3", ResourceID: "vpc-1", LogDestinationType: "s3", LogDestination: "arn:aws:s3:::b"}))
	ec2url, stopEC2, err := ec2srv.Start("127.0.0.1:0")
	must(err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = stopEC2(ctx)
	})

	body := fmt.Sprintf(`sources:
  - discover: flow_logs
    region: us-east-1
    endpoint: %s
    ec2_endpoint: %s
ingest:
  poll_interval: 2s
  max_defer: 0s
  max_delay: 2s
  late_grace: 1s
  early_passes: []
  requests_per_second: 1000
  start_position: -30m
inventory:
  refresh_interval: 1s
  requests_per_second: 50
workers: 2
`, env.url, ec2url)
	path := filepath.Join(env.dir, "discover.yml")
	must(os.WriteFile(path, []byte(body), 0o600))
	cfg, err := config.LoadFile(path)
	must(err)
	a, err := New(cfg, zaptest.NewLogger(t), Options{
		ConfigFile: path, ListenAddresses: []string{"127.0.0.1:0"}, Clients: env.clients,
		EC2Clients: func(_ context.Context, r config.InventoryRule) (inventory.API, error) {
			return ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(r.AWS.Endpoint), Retryer: aws.NopRetryer{},
				Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: awshttp.New()}), nil
		},
	})
	must(err)
	base := "http://" + a.Addrs()[0].String()
	run(t, a)

	m := waitFor(t, base, "the discovered group read", func(m map[string]float64) bool {
		return m[`flowd_records_total{status="ok"}`] == 30
	})
	info := `flowd_interface_info{instance_id="i-aaa",interface_id="eni-aaa",name="web-1",owner="ec2_instance",subnet_id="subnet-1",type="interface",vpc_id="vpc-1"}`
	checks := map[string]float64{
		info: 1,
		`flowd_flows_total{action="reject",port="443",protocol="tcp"}`:    float64(env.rejected),
		`flowd_inventory_objects{inventory="us-east-1",kind="flow_logs"}`: 2,
		`flowd_flow_log_info{deliver_status="SUCCESS",destination_type="cloud-watch-logs",flow_log_id="fl-1",log_group="` + group + `",resource_id="vpc-1",traffic_type="ALL"}`: 1,
		`flowd_inventory_permission_missing{inventory="us-east-1",operation="DescribeInstances"}`:                                                                               0,
	}
	for k, want := range checks {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if m[`flowd_inventory_api_requests_total{inventory="us-east-1",operation="DescribeFlowLogs",outcome="ok"}`] < 1 {
		t.Error("no DescribeFlowLogs call counted")
	}
}

// Formats that differ in field count share one source; formats of one count split the group
// by interface stream, each with its flow log's format; a group a configured source reads is
// left out.
func TestDiscoveredFrom(t *testing.T) {
	t.Parallel()
	rule := config.InventoryRule{Name: "us-east-1", AWS: ingest.AWSSpec{Region: "us-east-1"}, Discover: true, LogsEndpoint: "http://logs",
		Labels: sourcelabel.Set{{Name: "env", Value: "prod"}}}
	ifaces := []inventory.Interface{{ID: "eni-1", SubnetID: "subnet-1", VPCID: "vpc-1"}, {ID: "eni-2", SubnetID: "subnet-2", VPCID: "vpc-1"}}
	fl := func(id, res, group, format string) inventory.FlowLog {
		return inventory.FlowLog{ID: id, ResourceID: res, DestinationType: "cloud-watch-logs", LogGroup: group, Format: format}
	}
	snap := inventory.NewSnapshot(time.Now(), ifaces, nil, nil, []inventory.FlowLog{
		fl("fl-a", "vpc-1", "/mixed", "${version} ${action}"),
		fl("fl-b", "eni-1", "/mixed", "${version} ${interface-id} ${action}"),
		fl("fl-c", "vpc-1", "/same", "${version} ${srcaddr} ${action}"),
		fl("fl-d", "subnet-2", "/same", "${version} ${dstaddr} ${action}"),
		fl("fl-e", "vpc-1", "/configured", parse.DefaultFormat),
	}, nil)
	configured := []config.Source{{LogGroup: "/configured", Region: "us-east-1", Endpoint: "http://logs"}}
	out, overlaps := discoveredFrom(rule, snap, configured, zaptest.NewLogger(t))
	got := map[string][]string{}
	for _, s := range out {
		if s.Region != "us-east-1" || s.Endpoint != "http://logs" || s.Labels.Key() != "env=prod" {
			t.Errorf("source %+v lost the rule's place or labels", s)
		}
		got[s.LogGroup+"#"+s.LogStreamPrefix] = s.FormatSpecs
	}
	want := map[string][]string{
		"/mixed#":     {"${version} ${action}", "${version} ${interface-id} ${action}"},
		"/same#eni-1": {"${version} ${srcaddr} ${action}"},
		"/same#eni-2": {"${version} ${dstaddr} ${action}"},
	}
	if len(got) != len(want) {
		t.Errorf("sources %v, want %v", got, want)
	}
	for k, w := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(w) {
			t.Errorf("%s: formats %v, want %v", k, got[k], w)
		}
	}
	if len(overlaps) != 1 || overlaps[0] != "/configured" {
		t.Errorf("overlaps %v", overlaps)
	}
	if sameSources(out, out[:1]) || !sameSources(out, append([]config.Source(nil), out...)) {
		t.Error("sameSources")
	}
}
