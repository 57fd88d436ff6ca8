package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/flowd-dev/flowd/internal/app"
	"github.com/flowd-dev/flowd/internal/awshttp"
	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/emulator"
	"github.com/flowd-dev/flowd/internal/emulator/ec2emu"
	"github.com/flowd-dev/flowd/internal/inventory"
	"github.com/flowd-dev/flowd/internal/parse"
	"github.com/flowd-dev/flowd/internal/simulate"
)

const (
	demoGroup    = "/flowd/demo/vpc-flow-logs"
	demoTGWGroup = "/flowd/demo/tgw-flow-logs" // a transit gateway's flow log (no action field)
	demoRegion   = "us-east-1"
)

// demoConfig is the flowd config of the demo. Delivery in the demo takes 5-20 s after each
// 1-minute capture window (AWS takes up to 10-15 minutes), so the passes are minutes shorter
// than the defaults and counts appear within seconds; everything else is the default. The
// checkpoint lives in a directory of its own run (the emulator starts empty every time), so the
// demo shows what production does: metrics publish what the last checkpoint committed. Where no
// temporary directory can be made (a read-only image without /tmp), it runs without one.
//
// The VPC's source is discovered: the EC2 emulator holds the simulated VPC's flow log (into
// %[1]s, with the simulator's exact format), so the demo shows what discover: flow_logs does
// against AWS, and the inventory names every interface (flowd_interface_info) and the top-K
// addresses (flowd_address_info, AWS services from a generated ip-ranges file).
const demoConfig = `sources:
  - discover: flow_logs
    region: %[2]s
    endpoint: %[3]s
    ec2_endpoint: %[8]s
  - log_group: %[6]s
    region: %[2]s
    endpoint: %[3]s
    log_format: "%[7]s"
ingest:
  poll_interval: 5s
  max_delay: 2m
  late_grace: 15s
  early_passes: [30s, 1m, 90s]
  max_defer: 0s
  start_position: -%[4]s
checkpoint:
  path: %[5]s
  interval: 2s
aggregate:
  dimensions: [vpc_id, subnet_id]
inventory:
  refresh_interval: 30s
  requests_per_second: 20
  ip_ranges_file: %[9]s
`

type demoCommand struct {
	common            *commonFlags
	web               *webFlags
	emulatorAddr      *string
	source            *string
	kinesisAddr       *string
	dynamoAddr        *string
	scenario          *string
	interfaces        *int
	seed              *uint64
	backfill          *time.Duration
	stopAfter         *time.Duration
	out, err          io.Writer
	simulatorFinished atomic.Bool
	// names are the EC2 Name tags of the simulated interfaces' instances, by interface id: what
	// the inventory must report in flowd_interface_info (served in /-/demo/truth).
	names map[string]string
}

func newDemoCommand(c *kingpin.CmdClause, common *commonFlags, stdout, stderr io.Writer) *demoCommand {
	return &demoCommand{
		common:       common,
		web:          addWebFlags(c, false),
		emulatorAddr: c.Flag("demo.emulator-address", "Address of the CloudWatch Logs emulator, for the AWS CLI or your own tools.").Default("127.0.0.1:4566").String(),
		source: c.Flag("demo.source", "How flowd reads the demo's log groups: cloudwatch (polls FilterLogEvents) or kinesis (subscription filters into a Kinesis stream, leases in DynamoDB; a shard is split on the way).").
			Default(demoSourceCloudWatch).Enum(demoSourceCloudWatch, demoSourceKinesis),
		kinesisAddr: c.Flag("demo.kinesis-address", "Address of the Kinesis emulator (--demo.source=kinesis).").Default("127.0.0.1:4567").String(),
		dynamoAddr:  c.Flag("demo.dynamodb-address", "Address of the DynamoDB emulator holding the lease table (--demo.source=kinesis).").Default("127.0.0.1:4568").String(),
		scenario:    c.Flag("demo.scenario", "Traffic scenario: "+strings.Join(simulate.ScenarioNames(), ", ")+".").Default(simulate.ScenarioDemo).Enum(simulate.ScenarioNames()...),
		interfaces:  c.Flag("demo.interfaces", "Network interfaces in the simulated VPC.").Default("20").Int(),
		seed:        c.Flag("demo.seed", "Seed of the simulated VPC and its traffic.").Default("1").Uint64(),
		backfill:    c.Flag("demo.backfill", "Simulated past delivered at start.").Default("15m").Duration(),
		stopAfter:   c.Flag("demo.stop-after", "Stop delivering new records after this long (0: never); /-/demo/truth then says complete. For tests.").Default("0s").Duration(),
		out:         stdout, err: stderr,
	}
}

func (c *demoCommand) exec() int {
	log, err := c.common.logger()
	if err != nil {
		fmt.Fprintf(c.err, "flowd: %v\n", err)
		return 1
	}
	defer func() { _ = log.Sync() }()
	logStarting(log)
	if err := c.run(log); err != nil {
		log.Error("demo failed", zap.Error(err))
		return 1
	}
	return 0
}

func (c *demoCommand) run(log *zap.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	emuCfg := emulator.Config{Region: demoRegion}
	var kin *demoKinesis
	if *c.source == demoSourceKinesis {
		var err error
		if kin, err = c.startKinesis(log); err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			kin.stop(sctx)
		}()
		emuCfg.SubscriptionSink, emuCfg.SubscriptionDuplicateProbability, emuCfg.Seed = kin.sink, demoDuplicates, int64(*c.seed)
	}
	emu, err := emulator.New(emuCfg)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	emuURL, stopEmu, err := emu.Start(*c.emulatorAddr)
	if err != nil {
		return fmt.Errorf("emulator (choose another address with --demo.emulator-address): %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = stopEmu(sctx)
	}()
	for _, group := range []string{demoGroup, demoTGWGroup} {
		if err := emu.CreateLogGroup(group); err != nil && !errors.Is(err, emulator.ErrResourceAlreadyExists) {
			return fmt.Errorf("emulator: %w", err)
		}
	}

	sim, err := c.simulator()
	if err != nil {
		return err
	}
	tc := simulate.DefaultTGWConfig()
	tc.Seed, tc.Start, tc.Region = *c.seed, time.Now().Add(-*c.backfill).Truncate(time.Minute), demoRegion
	tgw, err := simulate.NewTransitGateway(tc)
	if err != nil {
		return err
	}
	creds := demoCredentials
	logs := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region: demoRegion, BaseEndpoint: aws.String(emuURL), Credentials: creds, HTTPClient: awshttp.New(),
	})
	sink, err := simulate.NewCloudWatchSink(logs, demoGroup)
	if err != nil {
		return err
	}
	tgwSink, err := simulate.NewCloudWatchSink(logs, demoTGWGroup)
	if err != nil {
		return err
	}
	if kin != nil {
		kin.sink.records = func() int64 { return emu.Stats().Subscriptions.Records }
		if err := subscribe(ctx, logs, demoGroup, demoTGWGroup); err != nil {
			return fmt.Errorf("emulator: %w", err)
		}
	}

	ec2URL, stopEC2, err := c.startEC2(sim)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = stopEC2(sctx)
	}()

	checkpointPath, rangesPath := `""`, `""`
	if stateDir, err := os.MkdirTemp("", "flowd-demo-"); err != nil {
		log.Warn("demo runs without a checkpoint or AWS address names: no temporary directory", zap.Error(err))
	} else {
		defer func() { _ = os.RemoveAll(stateDir) }()
		checkpointPath = filepath.Join(stateDir, "checkpoint")
		if p, err := writeDemoIPRanges(stateDir); err != nil {
			log.Warn("demo runs without AWS address names", zap.Error(err))
		} else {
			rangesPath = p
		}
	}
	cfgText := fmt.Appendf(nil, demoConfig, demoGroup, demoRegion, emuURL,
		config.Duration(*c.backfill+5*time.Minute), checkpointPath, demoTGWGroup, parse.TransitGatewayDefaultFormat, ec2URL, rangesPath)
	if kin != nil {
		cfgText = fmt.Appendf(nil, demoKinesisConfig, demoStream, demoRegion, kin.kinURL, kin.dynamoURL, demoLeaseTable,
			demoGroup, sim.Format().String(), demoTGWGroup, parse.TransitGatewayDefaultFormat, checkpointPath, rangesPath)
	}
	cfg, err := config.Load(cfgText)
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	a, err := app.New(cfg, log, app.Options{
		ListenAddresses: *c.web.toolkit.WebListenAddresses,
		WebConfigFile:   *c.web.toolkit.WebConfigFile,
		Web:             c.web.options(),
		Pprof:           *c.common.pprof,
		Build:           buildInfo(),
		// The readers' HTTP client is ingest's own (internal/awshttp around the loaded config's).
		Clients: app.AWSClients(log, awsconfig.WithRegion(demoRegion), awsconfig.WithCredentialsProvider(creds)),
		// Every inventory is the EC2 emulator's: a Kinesis source names no EC2 endpoint (its
		// inventory comes from inventory.names).
		EC2Clients: func(context.Context, config.InventoryRule) (inventory.API, error) {
			return ec2.New(ec2.Options{Region: demoRegion, BaseEndpoint: aws.String(ec2URL), Credentials: creds,
				Retryer: aws.NopRetryer{}, HTTPClient: awshttp.New()}), nil
		},
		KinesisClients: kinesisClients(),
		Handlers:       map[string]http.Handler{"/-/demo/truth": c.truthHandler(sim, tgw, kin)},
		StatusLines: func() []string {
			if kin != nil {
				return []string{"Demo: a simulated VPC writes into a CloudWatch Logs emulator at " + emuURL + ", whose subscription filters put it into the Kinesis stream " + demoStream + " at " + kin.kinURL + "; /-/demo/truth is what it has delivered."}
			}
			return []string{"Demo: a simulated VPC writes into a CloudWatch Logs emulator at " + emuURL + "; /-/demo/truth is what it has delivered."}
		},
	})
	if err != nil {
		return err
	}
	c.banner(a.Addrs(), emuURL, kin)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.Run(gctx) })
	if kin != nil {
		g.Go(func() error {
			emu.RunSubscriptions(gctx) // delivers until flowd stops, also after the simulator stopped
			return nil
		})
	}
	g.Go(func() error {
		sctx := gctx
		if *c.stopAfter > 0 {
			var cancel context.CancelFunc
			sctx, cancel = context.WithTimeout(gctx, *c.stopAfter)
			defer cancel()
		}
		tg, tctx := errgroup.WithContext(sctx)
		tg.Go(func() error { return tgw.Run(tctx, simulate.SystemClock{}, tgwSink) })
		err := sim.Run(tctx, simulate.SystemClock{}, sink)
		if terr := tg.Wait(); err == nil {
			err = terr
		}
		if err == nil && gctx.Err() == nil {
			c.simulatorFinished.Store(true)
			log.Info("simulator stopped delivering (--demo.stop-after)")
		}
		return err
	})
	return g.Wait()
}

// startEC2 serves the simulated VPC's EC2 view (its flow log into the demo group, with the
// simulator's exact format) on a free port, and keeps the names it gives the interfaces.
func (c *demoCommand) startEC2(sim *simulate.Simulator) (string, func(context.Context) error, error) {
	srv, err := ec2emu.New(ec2emu.Config{Region: demoRegion})
	if err != nil {
		return "", nil, fmt.Errorf("ec2 emulator: %w", err)
	}
	inv := ec2emu.FromSimulator(sim, ec2emu.SeedOptions{Region: demoRegion, LogGroup: demoGroup, LogFormat: sim.Format().String(), MaxAggregationInterval: 60})
	if err := srv.Load(inv); err != nil {
		return "", nil, fmt.Errorf("ec2 emulator: %w", err)
	}
	instanceName := map[string]string{}
	for _, in := range inv.Instances {
		for _, tag := range in.Tags {
			if tag.Key == "Name" {
				instanceName[in.ID] = tag.Value
			}
		}
	}
	c.names = map[string]string{}
	for _, f := range sim.Interfaces() {
		c.names[f.ID] = instanceName[f.InstanceID]
	}
	url, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("ec2 emulator: %w", err)
	}
	return url, stop, nil
}

// writeDemoIPRanges writes an ip-ranges.json of the simulator's AWS services into dir.
func writeDemoIPRanges(dir string) (string, error) {
	var ranges []inventory.IPRange
	for _, p := range simulate.AWSServicePrefixes() {
		ranges = append(ranges, inventory.IPRange{Prefix: p.Prefix, Service: p.Service, Region: demoRegion})
	}
	path := filepath.Join(dir, "ip-ranges.json")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := inventory.WriteIPRanges(f, ranges, time.Now()); err != nil {
		_ = f.Close()
		return "", err
	}
	return path, f.Close()
}

// simulator configures the simulated VPC with demo delivery delays and a backfill.
func (c *demoCommand) simulator() (*simulate.Simulator, error) {
	sc := simulate.DefaultConfig()
	sc.Seed = *c.seed
	sc.Interfaces = *c.interfaces
	sc.Scenario = *c.scenario
	sc.VPCs = 2 // two peered VPCs: the network context (issue 14) has something to tell apart
	// Every field of versions 2-5 (VPC, subnet, AZ, flow direction), so the demo's network
	// dimensions, directions and record info have something to show.
	sc.Format = parse.MustCompile(simulate.FullV5Format)
	sc.Start = time.Now().Add(-*c.backfill).Truncate(time.Minute)
	sc.DelayMin, sc.DelayMax = 5*time.Second, 20*time.Second
	sc.StragglerFraction, sc.StragglerMax = 0.01, 40*time.Second
	sc.Region = demoRegion
	sim, err := simulate.New(sc)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	return sim, nil
}

// truth is the JSON of /-/demo/truth: what the simulator has delivered into the emulator.
type truth struct {
	// Complete is true once the simulator has stopped (--demo.stop-after): the counts are final.
	Complete    bool                   `json:"complete"`
	Events      uint64                 `json:"events"`
	ByAction    map[string]truthCounts `json:"by_action"`
	ByInterface map[string]uint64      `json:"flows_by_action_interface"`
	Records     map[string]uint64      `json:"records_by_status"`
	// InterfaceNames are the names the EC2 emulator gives the simulated interfaces; LogGroup
	// and LogFormat are the simulated VPC flow log's group and exact format.
	InterfaceNames map[string]string `json:"interface_names"`
	LogGroup       string            `json:"log_group"`
	LogFormat      string            `json:"log_format"`
	// Source is --demo.source; Kinesis, with kinesis, the stream flowd reads.
	Source  string        `json:"source"`
	Kinesis *kinesisTruth `json:"kinesis,omitempty"`
	// TGW is what the transit gateway simulator delivered into demoTGWGroup.
	TGW struct {
		Flows        uint64            `json:"flows"`
		ByAttachment map[string]uint64 `json:"flows_by_attachment"`
		Lost         map[string]uint64 `json:"packets_lost_by_attachment_reason"`
	} `json:"tgw"`
}

// kinesisTruth says where the subscription filters deliver and whether the shard was split.
type kinesisTruth struct {
	Stream     string `json:"stream"`
	Endpoint   string `json:"endpoint"`
	SplitShard string `json:"split_shard"`
	Split      bool   `json:"split"` // SplitShard has been split (after a third of the backfill's records)
}

// truthCounts are simulate.Counts with JSON names.
type truthCounts struct {
	Flows   uint64 `json:"flows"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

func (c *demoCommand) truthHandler(sim *simulate.Simulator, tgw *simulate.TransitGateway, kin *demoKinesis) http.Handler {
	actions := map[parse.Action]string{parse.ActionAccept: "accept", parse.ActionReject: "reject", parse.ActionNone: "none"}
	statuses := map[parse.LogStatus]string{parse.LogStatusOK: "ok", parse.LogStatusNoData: "nodata", parse.LogStatusSkipData: "skipdata", parse.LogStatusNone: "none"}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		complete := c.simulatorFinished.Load() // read before the truth, so complete never covers more than it says
		d, td := sim.Delivered(), tgw.Delivered()
		t := truth{Complete: complete, Events: d.Events, ByAction: map[string]truthCounts{},
			ByInterface: map[string]uint64{}, Records: map[string]uint64{}, InterfaceNames: c.names,
			LogGroup: demoGroup, LogFormat: sim.Format().String(), Source: *c.source}
		if kin != nil {
			t.Kinesis = &kinesisTruth{Stream: demoStream, Endpoint: kin.kinURL, SplitShard: demoSplitShard, Split: kin.sink.done.Load()}
		}
		t.TGW.ByAttachment, t.TGW.Lost = map[string]uint64{}, map[string]uint64{}
		for id, n := range td.ByAttachment {
			t.TGW.Flows += n.Flows
			t.TGW.ByAttachment[id] = n.Flows
		}
		for id, m := range td.Lost {
			for reason, n := range m {
				t.TGW.Lost[id+"/"+reason] = n
			}
		}
		for a, n := range d.ByAction {
			t.ByAction[actions[a]] = truthCounts{Flows: n.Flows, Packets: n.Packets, Bytes: n.Bytes}
		}
		for k, n := range d.ByInterface {
			if k.Action != parse.ActionNone {
				t.ByInterface[actions[k.Action]+"/"+k.Interface] = n.Flows
			}
		}
		for s, n := range d.Records {
			t.Records[statuses[s]] = n
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(t)
	})
}

// readingNote is the banner's paragraph on how flowd reads the demo's groups.
func (c *demoCommand) readingNote(kin *demoKinesis) string {
	if kin == nil {
		return fmt.Sprintf(`Demo timing: records arrive 5-20s after each 1-minute capture window (AWS: up to 10-15 minutes),
so this demo reads with max_delay 2m and early passes at 30s, 1m and 90s, and backfills the last
%s at start. Keep the defaults (max_delay 15m, early pass 5m) against AWS.
`, *c.backfill)
	}
	return fmt.Sprintf(`Source: kinesis. Subscription filters on both groups put every event into the Kinesis
stream %[1]s (%[2]d shards; emulator at %[3]s), which flowd reads with leases in
the DynamoDB table %[4]s (emulator at %[5]s). %[6]s is split once a
third of the backfill's records are in: flowd reads the parent to its end before its children.
About %.0[7]f%% of the records are delivered twice (at least once, as AWS does); flowd drops the
repeats by log event id (flowd_kinesis_duplicate_events_total).
    AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo aws --region %[8]s --endpoint-url %[3]s \
      kinesis list-shards --stream-name %[1]s
`, demoStream, demoShards, kin.kinURL, demoLeaseTable, kin.dynamoURL, demoSplitShard, demoDuplicates*100, demoRegion)
}

// banner tells the user what to open and what to try.
func (c *demoCommand) banner(addrs []net.Addr, emuURL string, kin *demoKinesis) {
	base := "http://localhost:9820"
	if len(addrs) > 0 {
		if tcp, ok := addrs[0].(*net.TCPAddr); ok {
			host := "localhost"
			if !tcp.IP.IsUnspecified() {
				host = tcp.IP.String()
			}
			base = fmt.Sprintf("http://%s", net.JoinHostPort(host, fmt.Sprint(tcp.Port)))
		}
	}
	fmt.Fprintf(c.out, `flowd demo: a simulated VPC (%d interfaces, scenario %q) writes flow logs into a local
CloudWatch Logs emulator, and flowd reads them back through the AWS SDK, as it reads AWS.

  metrics      %[3]s/metrics      (counters appear within seconds)
  status       %[3]s/
  truth        %[3]s/-/demo/truth  (what the simulator delivered, to compare)
  emulator     %[4]s
    AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo aws --region %[5]s --endpoint-url %[4]s \
      logs filter-log-events --log-group-name %[6]s --limit 5

%[9]s
PromQL to try (point Prometheus at %[3]s/metrics):
  sum by (action) (rate(flowd_flows_total[1m]))
  topk(5, sum by (port) (rate(flowd_flows_total{action="reject"}[5m])))
  flowd_window_scan_candidate_ports{window="5m"}
  sum by (tgw_attachment_id, reason) (rate(flowd_tgw_packets_lost_total[5m]))   (transit gateway %[8]s)

Ctrl-C stops.
`, *c.interfaces, *c.scenario, base, emuURL, demoRegion, demoGroup, *c.backfill, demoTGWGroup, c.readingNote(kin))
	if f, ok := c.out.(*os.File); ok {
		_ = f.Sync()
	}
}
