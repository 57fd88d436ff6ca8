package simulate

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/parse"
)

func tgwTestConfig() TGWConfig {
	cfg := DefaultTGWConfig()
	cfg.Start = time.Unix(1_718_000_000, 0).UTC()
	return cfg
}

// TestTransitGatewayTruth counts the delivered messages with strings.Fields (no flowd parser)
// and checks the truth, and that the records have no action and carry drops.
func TestTransitGatewayTruth(t *testing.T) {
	t.Parallel()
	g, err := NewTransitGateway(tgwTestConfig())
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(strings.NewReplacer("${", "", "}", "").Replace(parse.TransitGatewayDefaultFormat))
	col := func(n string) int { return slices.Index(names, n) }
	var events uint64
	byAtt := map[string]Counts{}
	lost := map[string]map[string]uint64{}
	for _, d := range g.Advance(tgwTestConfig().Start.Add(30 * time.Minute)) {
		for _, e := range d.Events {
			events++
			f := strings.Fields(e.Message)
			if len(f) != len(names) {
				t.Fatalf("%d fields: %q", len(f), e.Message)
			}
			if f[col("tgw-attachment-id")] != d.Stream {
				t.Fatalf("record of %s in stream %s", f[col("tgw-attachment-id")], d.Stream)
			}
			if f[col("log-status")] != "OK" {
				continue
			}
			p, _ := strconv.ParseUint(f[col("packets")], 10, 64)
			b, _ := strconv.ParseUint(f[col("bytes")], 10, 64)
			c := byAtt[d.Stream]
			c.Flows, c.Packets, c.Bytes = c.Flows+1, c.Packets+p, c.Bytes+b
			byAtt[d.Stream] = c
			for _, r := range []string{"packets-lost-no-route", "packets-lost-blackhole", "packets-lost-mtu-exceeded", "packets-lost-ttl-expired"} {
				if n, _ := strconv.ParseUint(f[col(r)], 10, 64); n > 0 {
					if lost[d.Stream] == nil {
						lost[d.Stream] = map[string]uint64{}
					}
					lost[d.Stream][r] += n
				}
			}
		}
	}
	got := g.Delivered()
	if got.Events != events || events == 0 {
		t.Errorf("truth has %d events, messages %d", got.Events, events)
	}
	for k, w := range byAtt {
		if got.ByAttachment[k] != w {
			t.Errorf("%s: truth %+v, messages %+v", k, got.ByAttachment[k], w)
		}
	}
	atts := g.Attachments()
	if lost[atts[0]]["packets-lost-blackhole"] == 0 || lost[atts[1]]["packets-lost-no-route"] == 0 {
		t.Errorf("no drops on the blackholed and unrouted attachments: %v", lost)
	}
	for k, m := range lost {
		for r, n := range m {
			if got.Lost[k][r] != n {
				t.Errorf("lost %s %s: truth %d, messages %d", k, r, got.Lost[k][r], n)
			}
		}
	}
}

// TestTransitGatewayDeterministic checks that the output does not depend on how Advance is called.
func TestTransitGatewayDeterministic(t *testing.T) {
	t.Parallel()
	cfg := tgwTestConfig()
	a, _ := NewTransitGateway(cfg)
	b, _ := NewTransitGateway(cfg)
	end := cfg.Start.Add(20 * time.Minute)
	var one, many []string
	for _, d := range a.Advance(end) {
		for _, e := range d.Events {
			one = append(one, e.Message)
		}
	}
	for at := cfg.Start; !at.After(end); at = at.Add(7 * time.Second) {
		for _, d := range b.Advance(at) {
			for _, e := range d.Events {
				many = append(many, e.Message)
			}
		}
	}
	if !slices.Equal(one, many) || len(one) == 0 {
		t.Errorf("%d and %d messages differ", len(one), len(many))
	}
}

// TestTransitGatewayThroughAggregator parses every delivered message and counts it with the
// real aggregator: its TGW snapshot must equal the truth, and no VPC flow may appear.
func TestTransitGatewayThroughAggregator(t *testing.T) {
	t.Parallel()
	cfg := tgwTestConfig()
	g, _ := NewTransitGateway(cfg)
	agg, err := aggregate.New(aggregate.DefaultConfig(), fixedNow{cfg.Start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var r parse.Record
	for _, d := range g.Advance(cfg.Start.Add(30 * time.Minute)) {
		for _, e := range d.Events {
			if err := g.Format().Parse(e.Message, &r); err != nil {
				t.Fatal(err)
			}
			agg.Add(&r)
		}
	}
	s := agg.Snapshot()
	truth := g.Delivered()
	if s.Flows != 0 || s.TGW.Records != truth.Events || s.TGW.NoData != truth.Records[parse.LogStatusNoData] {
		t.Errorf("vpc flows %d, tgw records %d nodata %d; truth %+v", s.Flows, s.TGW.Records, s.TGW.NoData, truth.Records)
	}
	byAtt := map[string]Counts{}
	for _, a := range s.TGW.Attachments {
		c := byAtt[a.AttachmentID]
		c.add(Counts{Flows: a.Flows, Packets: a.Packets, Bytes: a.Bytes})
		byAtt[a.AttachmentID] = c
	}
	if len(byAtt) != len(truth.ByAttachment) {
		t.Errorf("%d attachments, truth %d", len(byAtt), len(truth.ByAttachment))
	}
	for k, w := range truth.ByAttachment {
		if byAtt[k] != w {
			t.Errorf("%s: %+v, truth %+v", k, byAtt[k], w)
		}
	}
	reason := map[aggregate.LostReason]string{aggregate.LostNoRoute: "packets-lost-no-route", aggregate.LostBlackhole: "packets-lost-blackhole",
		aggregate.LostMTUExceeded: "packets-lost-mtu-exceeded", aggregate.LostTTLExpired: "packets-lost-ttl-expired"}
	n := 0
	for _, l := range s.TGW.Lost {
		n++
		if truth.Lost[l.AttachmentID][reason[l.Reason]] != l.Packets {
			t.Errorf("lost %+v, truth %d", l, truth.Lost[l.AttachmentID][reason[l.Reason]])
		}
	}
	want := 0
	for _, m := range truth.Lost {
		want += len(m)
	}
	if n != want || n == 0 {
		t.Errorf("%d lost entries, truth %d", n, want)
	}
}

type fixedNow struct{ t time.Time }

func (f fixedNow) Now() time.Time { return f.t }

// TestTransitGatewayConfigErrors checks that bad configs name their field.
func TestTransitGatewayConfigErrors(t *testing.T) {
	t.Parallel()
	cfg := tgwTestConfig()
	cfg.Attachments, cfg.FlowsPerWindow, cfg.AccountID = 1, 0, "x"
	_, err := NewTransitGateway(cfg)
	for _, want := range []string{"TGWConfig.Attachments = 1", "TGWConfig.FlowsPerWindow = 0", "TGWConfig.AccountID = x"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
