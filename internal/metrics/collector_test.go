package metrics

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/parse"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixedClock is a clock that never moves.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// goldenLines are default-format records covering every family: two actions, tcp/udp/icmp,
// a folded port and interface, NODATA/SKIPDATA, an uncounted record, a late record.
var goldenLines = []string{
	"2 123456789012 eni-aaa 10.0.0.1 10.0.1.5 49152 443 6 10 8400 %[1]d %[2]d ACCEPT OK",
	"2 123456789012 eni-aaa 10.0.0.2 10.0.1.5 49153 443 6 4 1200 %[1]d %[2]d ACCEPT OK",
	"2 123456789012 eni-aaa 198.51.100.7 10.0.1.5 51000 22 6 1 60 %[1]d %[2]d REJECT OK",
	"2 123456789012 eni-bbb 198.51.100.7 10.0.1.6 51001 23 6 1 60 %[1]d %[2]d REJECT OK",
	"2 123456789012 eni-bbb 10.0.1.6 10.0.0.53 40000 53 17 2 150 %[1]d %[2]d ACCEPT OK",
	"2 123456789012 eni-ccc 10.0.1.7 10.0.1.8 0 0 1 3 252 %[1]d %[2]d ACCEPT OK",
	"2 123456789012 eni-ddd 10.0.1.9 10.0.1.10 40001 8080 6 5 500 %[1]d %[2]d ACCEPT OK",
	"2 123456789012 eni-eee - - - - - - - %[1]d %[2]d - NODATA",
	"2 123456789012 eni-aaa - - - - - - - %[1]d %[2]d - SKIPDATA",
	"2 123456789012 eni-aaa 10.0.0.1 10.0.1.5 49152 443 6 - 100 %[1]d %[2]d ACCEPT OK",
	"2 123456789012 eni-aaa 10.0.0.1 10.0.1.5 49152 443 6 1 100 %[3]d %[4]d ACCEPT OK",
	"2 123456789012 eni-bbb 10.0.1.6 10.0.0.53 40002 53 17 1 90 %[5]d %[6]d ACCEPT OK",
}

// goldenSnapshot feeds goldenLines through a real aggregator with tight caps.
func goldenSnapshot(t testing.TB) *aggregate.Snapshot {
	t.Helper()
	cfg := aggregate.DefaultConfig()
	cfg.MaxPorts = 4
	cfg.MaxRejectOnlyPorts = 1
	cfg.MaxInterfaces = 5
	cfg.Dimensions = []aggregate.Dimension{aggregate.DimAccount}
	cfg.TopK = 2
	cfg.ScanPortThreshold = 2
	cfg.Windows = []time.Duration{time.Minute, 5 * time.Minute}
	agg, err := aggregate.New(cfg, fixedClock{testNow})
	if err != nil {
		t.Fatal(err)
	}
	f, err := parse.Compile(parse.DefaultFormat)
	if err != nil {
		t.Fatal(err)
	}
	start := testNow.Add(-3 * time.Minute).Unix()
	old := testNow.Add(-2 * time.Hour).Unix()
	// The newest record moves the watermark past the others, so the windows hold them.
	newest := testNow.Add(-10 * time.Second).Unix()
	var r parse.Record
	for _, l := range goldenLines {
		line := fmt.Sprintf(l, start, start+60, old, old+60, newest, newest+60)
		if err := f.Parse(line, &r); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		agg.Add(&r)
	}
	// Transit gateway records (no action) fill their own families.
	tgw := parse.MustCompile(parse.TransitGatewayDefaultFormat)
	for _, l := range goldenTGWLines {
		line := fmt.Sprintf(l, start, start+60)
		if err := tgw.Parse(line, &r); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		agg.Add(&r)
	}
	return agg.Snapshot()
}

// goldenTGWLines are transit gateway records: forwarded, lost to a blackhole and to no route,
// one without bytes (uncounted), and NODATA.
var goldenTGWLines = []string{
	"6 TransitGatewayAttachment 123456789012 tgw-1 tgw-attach-a 123456789012 - vpc-1 - subnet-1 - eni-1 - use1-az1 - - 10.0.0.1 10.1.0.1 50000 443 6 10 1000 %d %d OK IPv4 0 0 0 0 2 us-east-1 egress - -",
	"6 TransitGatewayAttachment 123456789012 tgw-1 tgw-attach-a 123456789012 - vpc-1 - subnet-1 - eni-1 - use1-az1 - - 10.0.0.1 10.9.0.1 50001 22 6 4 240 %d %d OK IPv4 0 4 0 0 2 us-east-1 ingress - -",
	"6 TransitGateway 123456789012 tgw-1 tgw-attach-b 123456789012 - vpc-2 - subnet-2 - eni-2 - use1-az2 - - 10.2.0.1 10.3.0.1 50002 5432 6 3 - %d %d OK IPv4 3 0 0 0 2 us-east-1 ingress - -",
	"6 TransitGateway 123456789012 tgw-1 tgw-attach-b - - - - - - - - - - - - - - - - - - %d %d NODATA - - - - - - us-east-1 - - -",
}

func goldenInputs(t testing.TB) Inputs {
	snap := goldenSnapshot(t)
	api := ingest.CallStats{}
	api.Calls[ingest.OpFilterLogEvents][ingest.OutcomeOK] = 40
	api.Calls[ingest.OpFilterLogEvents][ingest.OutcomeThrottled] = 3
	api.Calls[ingest.OpDescribeLogGroups][ingest.OutcomeOK] = 2
	api.Retries[ingest.OpFilterLogEvents] = 3
	api.Timeouts[ingest.OpFilterLogEvents] = 2
	api.Retries[ingest.OpDescribeLogGroups] = 1
	disc := ingest.CallStats{}
	disc.Retries[ingest.OpDescribeLogGroups] = 1
	disc.Calls[ingest.OpDescribeLogGroups][ingest.OutcomeOK] = 2
	return Inputs{
		Snapshot: func() *aggregate.Snapshot { return snap },
		Ingest: func() ingest.Stats {
			return ingest.Stats{
				API: api, Discovery: disc,
				Sources: []ingest.SourceStats{{
					Name: "/aws/vpc/flow-logs", LogGroup: "/aws/vpc/flow-logs",
					EventsRead: 11, DuplicatesDropped: 5, LateEvents: 1, PagesEmpty: 7, PagesNonEmpty: 9,
					Lag: 95 * time.Second, NewestIngestion: testNow.Add(-95 * time.Second), Watermark: testNow.Add(-20 * time.Minute),
					LastSuccessfulPoll: testNow.Add(-10 * time.Second), DedupEntries: 16, DedupBytes: 2048, Behind: true,
					API: api, Up: true,
				}, {
					// Never read successfully: no lag series (unknown, not 0), up 0 and the reason.
					Name: "/aws/vpc/new", LogGroup: "/aws/vpc/new", LastError: "throttled",
				}},
			}
		},
		Pipeline: func() PipelineStats {
			return PipelineStats{
				Records:     RecordCounts{OK: 9, NoData: 1, SkipData: 1, Malformed: 2, Unmatched: 1},
				ParseErrors: []ReasonCount{{"bad_address", 1}, {"field_count", 1}},
				QueueDepth:  3, QueueCapacity: 64, Workers: 2,
			}
		},
		Reload: func() ReloadStats { return ReloadStats{Successful: true, LastSuccess: testNow.Add(-time.Hour)} },
		Checkpoint: func() CheckpointStats {
			return CheckpointStats{Enabled: true, LastSuccess: testNow.Add(-30 * time.Second), Failures: 1, Bytes: 4096}
		},
	}
}

// steppingClock advances 250ms per call, so the scrape duration in the golden file is fixed.
func steppingClock() func() time.Time {
	t := testNow
	return func() time.Time { t = t.Add(250 * time.Millisecond); return t }
}

func goldenCollector(t testing.TB) *Collector {
	c := NewCollector(goldenInputs(t), BuildInfo{Version: "1.2.3", Revision: "abc1234", GoVersion: "go1.26"})
	c.now = steppingClock()
	return c
}

func TestCollectorGolden(t *testing.T) {
	t.Parallel()
	golden := filepath.Join("testdata", "collector.prom")
	if *update {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(goldenCollector(t))
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
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testutil.CollectAndCompare(goldenCollector(t), f); err != nil {
		t.Fatal(err)
	}
	// The pedantic registry checks descriptors against metrics and label consistency.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(goldenCollector(t))
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

// TestGoldenPromtool lints the golden exposition with promtool (naming, units, help).
func TestGoldenPromtool(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is not on PATH; scripts/ci.d/00-deps.sh installs it")
		}
		t.Skip("promtool not on PATH (CI installs it and fails without it)")
	}
	data, err := os.ReadFile(filepath.Join("testdata", "collector.prom"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestContractFamilies checks that every family of the contract in docs/architecture.md is
// emitted by the golden collector.
func TestContractFamilies(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(doc)
	if i := strings.Index(section, "## metrics (contract"); i >= 0 {
		section = section[i:]
	} else {
		t.Fatal("docs/architecture.md has no metrics contract section")
	}
	if i := strings.Index(section[3:], "\n## "); i >= 0 {
		section = section[:i+3]
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(goldenCollector(t), NewKinesisCollector(func() []KinesisView { return []KinesisView{{Stream: "flow-logs"}} }))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	n := 0
	for _, field := range strings.Split(section, "`") {
		if !strings.HasPrefix(field, "flowd_") || strings.ContainsAny(field, " {=") {
			continue
		}
		n++
		if !have[field] {
			t.Errorf("contract family %s is not emitted", field)
		}
	}
	if n < 20 {
		t.Errorf("found only %d families in the contract section", n)
	}
}

// TestLabelBoundsUnderCaps floods an aggregator with default caps with far more ports,
// interfaces and sources than the caps allow and checks the series counts stay bounded.
func TestLabelBoundsUnderCaps(t *testing.T) {
	t.Parallel()
	cfg := aggregate.DefaultConfig()
	cfg.Dimensions = aggregate.Dimensions()
	snap := fullSnapshot(t, cfg)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(Inputs{Snapshot: func() *aggregate.Snapshot { return snap }}, BuildInfo{}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, mf := range mfs {
		count[mf.GetName()] = len(mf.GetMetric())
	}
	// The worst cases of docs/architecture.md, with P = 2 protocols (the test traffic uses tcp
	// and udp; each has at most one "other" key) and D = 3 directions.
	const protos, dirs = 2, 3
	portKeys := cfg.MaxPorts + cfg.MaxRejectOnlyPorts + protos
	portSeries := 2 * dirs * portKeys
	ifaceSeries := 2 * (cfg.MaxInterfaces + 2)
	nw := len(cfg.Windows)
	bounds := map[string]int{
		"flowd_flows_total":                         portSeries,
		"flowd_bytes_total":                         portSeries,
		"flowd_interface_flows_total":               ifaceSeries,
		"flowd_interface_bytes_total":               ifaceSeries,
		"flowd_network_flows_total":                 2 * dirs * (cfg.MaxNetworkKeys + 1),
		"flowd_interface_port_rejected_flows_total": cfg.MaxInterfacePorts + 3*protos,
		"flowd_interface_record_info":               cfg.MaxInterfaces,
		"flowd_interface_direction_bytes_total":     dirs * (cfg.MaxInterfaces + 2),
		"flowd_window_flows":                        nw * 2 * portKeys,
		"flowd_window_top_talker_bytes":             nw * cfg.TopK,
		"flowd_window_top_rejected_source_flows":    nw * cfg.TopK,
		"flowd_window_scan_candidate_ports":         nw * cfg.TopK,
		"flowd_window_scan_candidate_target_flows":  nw * cfg.TopK * aggregate.MaxScanTargets,
	}
	for name, bound := range bounds {
		if count[name] == 0 || count[name] > bound {
			t.Errorf("%s has %d series, want 1..%d", name, count[name], bound)
		}
	}
	if snap.PortFold.Records == 0 || snap.InterfaceFold.Records == 0 {
		t.Errorf("the caps folded nothing (ports %d, interfaces %d): the test does not exercise them", snap.PortFold.Records, snap.InterfaceFold.Records)
	}
	for _, f := range snap.Folds {
		if f.Records == 0 && f.Dimension != "account_id" && f.Dimension != "az_id" {
			t.Errorf("the %s cap folded nothing: the test does not exercise it", f.Dimension)
		}
	}
}

// fullSnapshot fills an aggregator to full cardinality: more ports and interfaces than the
// caps, many talkers and scanners, in every window.
func fullSnapshot(t testing.TB, cfg aggregate.Config) *aggregate.Snapshot {
	t.Helper()
	agg, err := aggregate.New(cfg, fixedClock{testNow})
	if err != nil {
		t.Fatal(err)
	}
	base := testNow.Add(-10 * time.Minute).Unix()
	records := make([]parse.Record, 0, 1024)
	flush := func() {
		agg.AddBatch(records)
		records = records[:0]
	}
	n := 2 * (cfg.MaxPorts + cfg.MaxInterfaces)
	for i := range n {
		r := parse.Record{
			Version: 2, InterfaceID: fmt.Sprintf("eni-%08x", i%(cfg.MaxInterfaces+500)),
			SrcAddr: netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}),
			DstAddr: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
			SrcPort: 60000, DstPort: uint16(1 + i%(cfg.MaxPorts+300)), Protocol: 6 + 11*uint8(i%2),
			Packets: 1, Bytes: uint64(40 + i), Start: base + int64(i%600), End: base + int64(i%600) + 60,
			Action: parse.ActionAccept + parse.Action(i%2), LogStatus: parse.LogStatusOK,
		}
		for f := parse.FieldVersion; f <= parse.FieldLogStatus; f++ {
			r.Present = r.Present.With(f)
		}
		// The network context past its caps: dimension values, combinations and directions.
		r.Present = r.Present.With(parse.FieldVPCID).With(parse.FieldSubnetID).With(parse.FieldAZID).
			With(parse.FieldInstanceID).With(parse.FieldFlowDirection)
		r.VPCID = fmt.Sprintf("vpc-%08x", i%(cfg.MaxDimensionValues+20))
		r.SubnetID = fmt.Sprintf("subnet-%08x", i%(cfg.MaxDimensionValues+30))
		r.AZID = fmt.Sprintf("use1-az%d", i%6)
		r.InstanceID = fmt.Sprintf("i-%08x", i%(cfg.MaxInterfaces+500))
		r.FlowDirection = parse.FlowDirection(i % 3)
		records = append(records, r)
		if len(records) == cap(records) {
			flush()
		}
	}
	// Rejected requests and replies on more (interface, port) pairs than MaxInterfacePorts.
	for i := range cfg.MaxInterfacePorts + 100 {
		r := parse.Record{
			Version: 2, InterfaceID: fmt.Sprintf("eni-%08x", i%cfg.MaxInterfaces),
			SrcAddr: netip.AddrFrom4([4]byte{198, 51, 100, 1}), DstAddr: netip.AddrFrom4([4]byte{10, 0, 0, 1}),
			SrcPort: 60000, DstPort: uint16(1 + (i/cfg.MaxInterfaces)%cfg.MaxPorts), Protocol: 6,
			Packets: 1, Bytes: 40, Start: base + 300, End: base + 360, Action: parse.ActionReject, LogStatus: parse.LogStatusOK,
		}
		for f := parse.FieldVersion; f <= parse.FieldLogStatus; f++ {
			r.Present = r.Present.With(f)
		}
		records = append(records, r)
		if len(records) == cap(records) {
			flush()
		}
	}
	// Scanners: each rejected on many distinct ports.
	for s := range 3 * cfg.TopK {
		for p := range cfg.ScanPortThreshold + 5 {
			r := parse.Record{
				Version: 2, InterfaceID: "eni-scan", SrcAddr: netip.AddrFrom4([4]byte{203, 0, 113, byte(s)}),
				DstAddr: netip.AddrFrom4([4]byte{10, 9, 9, 9}), SrcPort: 55555, DstPort: uint16(1000 + p), Protocol: 6,
				Packets: 1, Bytes: 40, Start: base + 300, End: base + 360, Action: parse.ActionReject, LogStatus: parse.LogStatusOK,
			}
			for f := parse.FieldVersion; f <= parse.FieldLogStatus; f++ {
				r.Present = r.Present.With(f)
			}
			records = append(records, r)
			if len(records) == cap(records) {
				flush()
			}
		}
	}
	flush()
	return agg.Snapshot()
}

// TestSourceLabels publishes two aggregators' snapshots under different source labels: every
// family built from a snapshot carries the labels, and the two sets stay apart.
func TestSourceLabels(t *testing.T) {
	t.Parallel()
	snap := goldenSnapshot(t)
	in := Inputs{
		SourceLabels: []string{"env", "log_group"},
		Snapshots: func() []LabeledSnapshot {
			return []LabeledSnapshot{{Values: []string{"prod", "/vpc/a"}, Snapshot: snap}, {Values: []string{"dev", ""}, Snapshot: snap}}
		},
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(in, BuildInfo{}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "flowd_") || mf.GetName() == "flowd_build_info" || mf.GetName() == "flowd_scrape_duration_seconds" {
			continue
		}
		envs := map[string]int{}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "env" {
					envs[l.GetValue()]++
				}
			}
		}
		if envs["prod"] == 0 || envs["prod"] != envs["dev"] || envs["prod"]+envs["dev"] != len(mf.GetMetric()) {
			t.Errorf("%s: series by env %v of %d", mf.GetName(), envs, len(mf.GetMetric()))
		}
		n++
	}
	if n < 20 {
		t.Errorf("only %d families checked", n)
	}
}
