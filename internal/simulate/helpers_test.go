package simulate

import (
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// testStart is a fixed start of simulated time (2023-11-14T22:13:20Z).
var testStart = time.Unix(1700000000, 0).UTC()

// testConfig is a small, fast configuration with short delays.
func testConfig(t testing.TB) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Start = testStart
	cfg.Interfaces = 12
	cfg.FlowsPerInterval = 15
	cfg.DelayMin = 10 * time.Second
	cfg.DelayMax = 2 * time.Minute
	cfg.StragglerFraction = 0.05
	cfg.StragglerMax = 5 * time.Minute
	cfg.SkipDataRate = 0.02
	cfg.IPv6Fraction = 0.2
	cfg.TruthByPort = true
	cfg.Format = mustCompile(t, parse.DefaultFormat)
	return cfg
}

func newSim(t testing.TB, cfg Config) *Simulator {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func mustCompile(t testing.TB, spec string) *parse.Format {
	t.Helper()
	f, err := parse.Compile(spec)
	if err != nil {
		t.Fatalf("Compile(%q): %v", spec, err)
	}
	return f
}

// recount builds a Truth from the delivered messages by parsing them: the independent
// count the simulator's own Truth must equal.
func recount(t testing.TB, f *parse.Format, ds []Delivery, byPort bool) *Truth {
	t.Helper()
	out := &Truth{
		Records:     map[parse.LogStatus]uint64{},
		ByAction:    map[parse.Action]Counts{},
		ByInterface: map[InterfaceKey]Counts{},
		ByMinute:    map[MinuteKey]Counts{},
		ByStream:    map[string]uint64{},
	}
	if byPort {
		out.ByPort = map[PortKey]Counts{}
	}
	var r parse.Record
	for _, d := range ds {
		for _, e := range d.Events {
			if err := f.Parse(e.Message, &r); err != nil {
				t.Fatalf("stream %s: parse %q: %v", d.Stream, e.Message, err)
			}
			c := Counts{Flows: 1, Packets: r.Packets, Bytes: r.Bytes}
			out.Events++
			out.ByStream[d.Stream]++
			out.Records[r.LogStatus]++
			addKey(out.ByAction, r.Action, c)
			addKey(out.ByInterface, InterfaceKey{Action: r.Action, Interface: r.InterfaceID}, c)
			addKey(out.ByMinute, MinuteKey{Minute: e.Timestamp / 60000 * 60, Action: r.Action}, c)
			if byPort {
				addKey(out.ByPort, PortKey{Protocol: r.Protocol, SrcPort: r.SrcPort, DstPort: r.DstPort, Action: r.Action}, c)
			}
		}
	}
	return out
}

// parsed returns every delivered record, parsed (their strings keep the messages alive).
func parsed(t testing.TB, f *parse.Format, ds []Delivery) []parse.Record {
	t.Helper()
	var out []parse.Record
	for _, d := range ds {
		for _, e := range d.Events {
			var r parse.Record
			if err := f.Parse(e.Message, &r); err != nil {
				t.Fatalf("parse %q: %v", e.Message, err)
			}
			out = append(out, r)
		}
	}
	return out
}
