package simulate

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// scenarioRun delivers the first hour of a scenario (everything is due by then).
func scenarioRun(t *testing.T, scenario string) (*Simulator, []Delivery, Config) {
	t.Helper()
	cfg := testConfig(t)
	cfg.Scenario = scenario
	cfg.SkipDataRate = 0 // SKIPDATA drops records: keep the signatures exact
	s := newSim(t, cfg)
	return s, s.Advance(testStart.Add(time.Hour)), cfg
}

func rejectsByMinute(tr *Truth) map[int64]uint64 {
	out := map[int64]uint64{}
	for k, c := range tr.ByMinute {
		if k.Action == parse.ActionReject {
			out[k.Minute] += c.Flows
		}
	}
	return out
}

func TestScenarioRejectSpike(t *testing.T) {
	t.Parallel()
	steady, _, cfg := scenarioRun(t, ScenarioSteady)
	spike, _, _ := scenarioRun(t, ScenarioRejectSpike)
	base, got := rejectsByMinute(steady.Delivered()), rejectsByMinute(spike.Delivered())
	a, b := testStart.Add(cfg.EventAt).Unix(), testStart.Add(cfg.EventAt+cfg.EventDuration).Unix()
	for m := testStart.Unix() / 60 * 60; m < testStart.Add(50*time.Minute).Unix(); m += 60 {
		in, out := m >= a && m+60 <= b, m+60 <= a || m >= b
		switch {
		case in && got[m] < base[m]+100:
			t.Errorf("minute %d in the spike: %d rejects, steady %d", m, got[m], base[m])
		case out && got[m] != base[m]:
			t.Errorf("minute %d outside the spike: %d rejects, steady %d", m, got[m], base[m])
		}
	}
	// Accepted traffic is untouched: the scenario only adds.
	if s, r := steady.Delivered().ByAction[parse.ActionAccept], spike.Delivered().ByAction[parse.ActionAccept]; s != r {
		t.Errorf("accepted traffic changed: steady %+v, spike %+v", s, r)
	}
}

func TestScenarioPortScan(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		interval  time.Duration
		scanPorts int
		rejected  int // distinct rejected ports: all but the open 80 and 443 among 1..scanPorts
	}{
		{"1 minute windows, 300 ports", time.Minute, 300, 299},
		{"10 minute windows, 1000 ports", 10 * time.Minute, 1000, 998},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.Scenario, cfg.SkipDataRate = ScenarioPortScan, 0
			cfg.Interval, cfg.ScanPorts = tc.interval, tc.scanPorts
			s := newSim(t, cfg)
			ds := s.Advance(testStart.Add(2 * time.Hour))
			target := s.Interfaces()[0]
			a, b := testStart.Add(cfg.EventAt).Unix(), testStart.Add(cfg.EventAt+cfg.EventDuration).Unix()
			bySource := map[netip.Addr]map[uint16]bool{}
			for _, r := range parsed(t, cfg.Format, ds) {
				if r.Action != parse.ActionReject {
					continue
				}
				if bySource[r.SrcAddr] == nil {
					bySource[r.SrcAddr] = map[uint16]bool{}
				}
				bySource[r.SrcAddr][r.DstPort] = true
				if r.SrcAddr.As4()[0] == 192 && (r.InterfaceID != target.ID || r.Start < a || r.Start >= b) {
					t.Fatalf("scan record outside the event or the target: %+v", r)
				}
			}
			scanners := 0
			for src, ports := range bySource {
				if len(ports) >= 100 {
					scanners++
					if n := len(ports); n != tc.rejected {
						t.Errorf("scanner %v probed %d rejected ports, want %d", src, n, tc.rejected)
					}
				}
			}
			if scanners != 1 {
				t.Fatalf("%d sources with >= 100 rejected ports, want 1", scanners)
			}
		})
	}
	t.Run("no scanner in steady traffic", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t)
		for _, r := range parsed(t, cfg.Format, newSim(t, cfg).Advance(testStart.Add(time.Hour))) {
			if r.SrcAddr.Is4() && r.SrcAddr.As4()[0] == 192 {
				t.Fatalf("steady traffic has a scanner address: %+v", r)
			}
		}
	})
}

func TestScenarioLateBurst(t *testing.T) {
	t.Parallel()
	s, ds, cfg := scenarioRun(t, ScenarioLateBurst)
	a, b := testStart.Add(cfg.EventAt), testStart.Add(cfg.EventAt+cfg.EventDuration)
	release := b.Add(cfg.DelayMax)
	held, atRelease := 0, 0
	for _, d := range ds {
		if d.WindowStart.Before(a) || !d.WindowStart.Before(b) {
			continue
		}
		held++
		if d.DeliverAt.Before(release) {
			t.Fatalf("held batch of %s delivered at %v, before the release %v", d.Stream, d.DeliverAt, release)
		}
		if d.DeliverAt.Equal(release) {
			atRelease++
		}
	}
	if held < cfg.Interfaces*2 || atRelease*10 < held*9 {
		t.Fatalf("%d held batches, %d released together at %v", held, atRelease, release)
	}
	// Steady and late-burst generate the same records; only delivery differs.
	steady, _, _ := scenarioRun(t, ScenarioSteady)
	if g1, g2 := steady.Generated(), s.Generated(); g1.Events != g2.Events || g1.Total() != g2.Total() {
		t.Fatalf("late-burst generated %+v, steady %+v", g2.Total(), g1.Total())
	}
	// Just before the release, late-burst has delivered less than steady.
	c1, c2 := testConfig(t), testConfig(t)
	c1.SkipDataRate, c2.SkipDataRate, c2.Scenario = 0, 0, ScenarioLateBurst
	x, y := newSim(t, c1), newSim(t, c2)
	x.Advance(release.Add(-time.Second))
	y.Advance(release.Add(-time.Second))
	if dx, dy := x.Delivered().Events, y.Delivered().Events; dy >= dx {
		t.Fatalf("before the release: late-burst delivered %d events, steady %d", dy, dx)
	}
}

func TestScenarioDemo(t *testing.T) {
	t.Parallel()
	steady, _, _ := scenarioRun(t, ScenarioSteady)
	demo, ds, cfg := scenarioRun(t, ScenarioDemo)
	base, got := rejectsByMinute(steady.Delivered()), rejectsByMinute(demo.Delivered())
	period := int64(cfg.DemoPeriod.Seconds())
	start := testStart.Unix()
	for n := int64(0); n < 6; n++ {
		// The spike covers the period's second fifth: take the first minute starting in it.
		spikeMinute := (start + n*period + period/5 + 59) / 60 * 60
		if got[spikeMinute] < base[spikeMinute]+100 {
			t.Errorf("period %d: %d rejects in minute %d, steady %d", n, got[spikeMinute], spikeMinute, base[spikeMinute])
		}
	}
	scanners := map[netip.Addr]map[uint16]bool{}
	for _, r := range parsed(t, cfg.Format, ds) {
		if r.Action == parse.ActionReject && r.SrcAddr.Is4() && r.SrcAddr.As4()[0] == 192 {
			if scanners[r.SrcAddr] == nil {
				scanners[r.SrcAddr] = map[uint16]bool{}
			}
			scanners[r.SrcAddr][r.DstPort] = true
		}
	}
	big := 0
	for _, ports := range scanners {
		if len(ports) >= 100 {
			big++
		}
	}
	if big < 3 {
		t.Fatalf("%d scanners with >= 100 ports in an hour of demo (period %v)", big, cfg.DemoPeriod)
	}
}

func TestScenariosListed(t *testing.T) {
	t.Parallel()
	names := ScenarioNames()
	if len(names) != len(Scenarios()) || names[0] != ScenarioSteady {
		t.Fatalf("names %v", names)
	}
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			if sc.Description == "" {
				t.Fatal("no description")
			}
			cfg := testConfig(t)
			cfg.Scenario = sc.Name
			s := newSim(t, cfg)
			if ds := s.Advance(testStart.Add(15 * time.Minute)); len(ds) == 0 {
				t.Fatal("no deliveries")
			}
		})
	}
}
