package inventory

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/flowd-dev/flowd/internal/awshttp"
	"github.com/flowd-dev/flowd/internal/emulator/ec2emu"
	"github.com/flowd-dev/flowd/internal/parse"
	"github.com/flowd-dev/flowd/internal/simulate"
)

// The format discovery reports is exactly the one the records are written in: every record
// the simulator delivers parses with it, and every interface id in them has a name.
func TestDiscoveredFormatParsesTheRecords(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cfg := simulate.DefaultConfig()
		cfg.Start = time.Now().Add(-20 * time.Minute)
		cfg.Interfaces = 8
		cfg.Format = parse.MustCompile(simulate.FullV5Format)
		sim, err := simulate.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := ec2emu.New(ec2emu.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Load(ec2emu.FromSimulator(sim, ec2emu.SeedOptions{LogGroup: "/aws/vpc/flow-logs", LogFormat: sim.Format().String(), MaxAggregationInterval: 60})); err != nil {
			t.Fatal(err)
		}
		hc, url, closeFn := srv.InMemory()
		defer closeFn()
		client := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Retryer: aws.NopRetryer{},
			Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), HTTPClient: awshttp.Wrap(hc)})
		inv := newInventory(t, client, Options{}, nil)
		if err := inv.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		snap := inv.Snapshot()
		groups := snap.LogGroups()
		if len(groups) != 1 || len(groups[0].Formats) != 1 {
			t.Fatalf("groups %+v", groups)
		}
		g := &groups[0]
		if g.FlowLogs[0].AggregationInterval != time.Minute {
			t.Errorf("aggregation interval %v", g.FlowLogs[0].AggregationInterval)
		}
		format, err := parse.Compile(g.Formats[0])
		if err != nil {
			t.Fatal(err)
		}
		if format.String() != sim.Format().String() {
			t.Fatalf("discovered %q, records written in %q", format.String(), sim.Format().String())
		}
		records := 0
		var r parse.Record
		for _, d := range sim.Advance(time.Now()) {
			fl, ok := snap.FlowLogForStream(g, d.Stream)
			if !ok || fl.Format != g.Formats[0] {
				t.Fatalf("stream %s: flow log %+v %v", d.Stream, fl, ok)
			}
			for _, ev := range d.Events {
				if err := format.Parse(ev.Message, &r); err != nil {
					t.Fatalf("record %q does not parse with the discovered format: %v", ev.Message, err)
				}
				if r.InterfaceID != "" {
					if n, ok := snap.Interface(r.InterfaceID); !ok || n.Owner != OwnerInstance || n.Name == "" {
						t.Fatalf("record interface %s: %+v", r.InterfaceID, n)
					}
				}
				records++
			}
		}
		if records == 0 {
			t.Fatal("the simulator delivered nothing")
		}
	})
}
