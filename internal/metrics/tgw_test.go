package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/parse"
)

// TestTGWFamilies feeds transit gateway records through the real parser and aggregator (one
// attachment allowed, so the second folds) and checks the exposition of the TGW families; no
// VPC flow family may carry them.
func TestTGWFamilies(t *testing.T) {
	t.Parallel()
	cfg := aggregate.DefaultConfig()
	cfg.MaxTGWAttachments = 1
	agg, err := aggregate.New(cfg, fixedClock{testNow})
	if err != nil {
		t.Fatal(err)
	}
	f := parse.MustCompile(parse.TransitGatewayDefaultFormat)
	lines := []string{
		"6 TransitGateway 1 tgw-1 tgw-attach-a 1 - vpc-1 - subnet-1 - eni-1 - az1 - - 10.0.0.1 10.1.0.1 50000 443 6 10 1000 1718000000 1718000060 OK IPv4 0 0 0 0 2 us-east-1 egress - -",
		"6 TransitGateway 1 tgw-1 tgw-attach-a 1 - vpc-1 - subnet-1 - eni-1 - az1 - - 10.0.0.1 10.9.0.1 50001 22 6 4 240 1718000000 1718000060 OK IPv4 0 4 0 0 2 us-east-1 ingress - -",
		"6 TransitGatewayAttachment 1 tgw-1 tgw-attach-b 1 - vpc-2 - subnet-2 - eni-2 - az1 - - 10.2.0.1 10.3.0.1 50002 443 6 3 300 1718000000 1718000060 OK IPv4 3 0 0 0 2 us-east-1 ingress - -",
		"6 TransitGateway 1 tgw-1 tgw-attach-a - - - - - - - - - - - - - - - - - - 1718000060 1718000120 NODATA - - - - - - us-east-1 - - -",
	}
	var r parse.Record
	for _, l := range lines {
		if err := f.Parse(l, &r); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		agg.Add(&r)
	}
	snap := agg.Snapshot()
	c := NewCollector(Inputs{Snapshot: func() *aggregate.Snapshot { return snap }}, BuildInfo{})
	want := `
# HELP flowd_tgw_packets_lost_total Packets a transit gateway lost, by attachment and reason: no_route, blackhole, mtu_exceeded, ttl_expired.
# TYPE flowd_tgw_packets_lost_total counter
flowd_tgw_packets_lost_total{reason="blackhole",tgw_attachment_id="tgw-attach-a"} 4
flowd_tgw_packets_lost_total{reason="no_route",tgw_attachment_id="other"} 3
# HELP flowd_tgw_flows_total Transit gateway flow records counted, by attachment (folded attachments are "other"), resource type and direction.
# TYPE flowd_tgw_flows_total counter
flowd_tgw_flows_total{direction="egress",resource_type="transit_gateway",tgw_attachment_id="tgw-attach-a"} 1
flowd_tgw_flows_total{direction="ingress",resource_type="transit_gateway",tgw_attachment_id="tgw-attach-a"} 1
flowd_tgw_flows_total{direction="ingress",resource_type="transit_gateway_attachment",tgw_attachment_id="other"} 1
# HELP flowd_tgw_records_total Transit gateway flow log records read, by log-status: ok, nodata, skipdata.
# TYPE flowd_tgw_records_total counter
flowd_tgw_records_total{status="nodata"} 1
flowd_tgw_records_total{status="ok"} 3
flowd_tgw_records_total{status="skipdata"} 0
# HELP flowd_tgw_port_bytes_total Bytes of the counted transit gateway flow records, by protocol and service port.
# TYPE flowd_tgw_port_bytes_total counter
flowd_tgw_port_bytes_total{port="22",protocol="tcp"} 240
flowd_tgw_port_bytes_total{port="443",protocol="tcp"} 1300
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "flowd_tgw_packets_lost_total", "flowd_tgw_flows_total",
		"flowd_tgw_records_total", "flowd_tgw_port_bytes_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c, "flowd_flows_total", "flowd_interface_flows_total"); n != 0 {
		t.Errorf("%d VPC flow series from transit gateway records, want 0", n)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP flowd_aggregate_folded_records_total Flow records whose port or interface was folded into "other" by a cardinality cap.
# TYPE flowd_aggregate_folded_records_total counter
flowd_aggregate_folded_records_total{dimension="interface"} 0
flowd_aggregate_folded_records_total{dimension="port"} 0
flowd_aggregate_folded_records_total{dimension="tgw_attachment"} 1
`), "flowd_aggregate_folded_records_total"); err != nil {
		t.Error(err)
	}
}
