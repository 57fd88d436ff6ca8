package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/metrics"
	"github.com/flowd-dev/flowd/internal/parse"
	"github.com/flowd-dev/flowd/internal/simulate"
)

// testStart is the start of the simulated traffic of the fixture.
var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is the aggregator's clock; the fixture moves it.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

// fixture is a real aggregator fed by the simulator (demo scenario: steady traffic with
// reject spikes and port scans) for 20 simulated minutes, its history sampled every 10 s of
// simulated time, and fixed ingest, pipeline and checkpoint statistics. After build it never
// changes, so /metrics and /api/v1/live can be compared at leisure.
type fixture struct {
	snap    *aggregate.Snapshot
	history *History
	inputs  metrics.Inputs
	now     time.Time
}

// newFixture returns the fixture, built once per test binary: it never changes after.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	fixtureOnce.Do(func() { theFixture, fixtureErr = buildFixture() })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return theFixture
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
	fixtureErr  error
)

func buildFixture() (*fixture, error) {
	cfg := simulate.DefaultConfig()
	cfg.Seed = 7
	cfg.Start = testStart
	cfg.Interfaces = 12
	cfg.Scenario = simulate.ScenarioDemo
	cfg.DemoPeriod = 8 * time.Minute
	sim, err := simulate.New(cfg)
	if err != nil {
		return nil, err
	}
	clock := &fakeClock{t: testStart}
	acfg := aggregate.DefaultConfig()
	acfg.ScanPortThreshold = 10
	agg, err := aggregate.New(acfg, clock)
	if err != nil {
		return nil, err
	}
	format := parse.MustCompile(parse.DefaultFormat)
	f := &fixture{history: NewHistory(historyPoints)}
	var r parse.Record
	for now := testStart.Add(historyStep); !now.After(testStart.Add(23 * time.Minute)); now = now.Add(historyStep) {
		clock.t = now
		for _, d := range sim.Advance(now) {
			for _, e := range d.Events {
				if err := format.Parse(e.Message, &r); err != nil {
					return nil, fmt.Errorf("simulated record %q: %w", e.Message, err)
				}
				agg.Add(&r)
			}
		}
		f.history.Sample(now, agg.Snapshot())
		f.now = now
	}
	f.snap = agg.Snapshot()
	var throttled ingest.CallStats
	throttled.Calls[ingest.OpFilterLogEvents][ingest.OutcomeOK] = 120
	throttled.Calls[ingest.OpFilterLogEvents][ingest.OutcomeThrottled] = 4
	var failing ingest.CallStats
	failing.Calls[ingest.OpFilterLogEvents][ingest.OutcomeError] = 9
	f.inputs = metrics.Inputs{
		Snapshot: func() *aggregate.Snapshot { return f.snap },
		Ingest: func() ingest.Stats {
			return ingest.Stats{Sources: []ingest.SourceStats{
				{
					Name: "/aws/vpc/flow-logs", LogGroup: "/aws/vpc/flow-logs", EventsRead: 48213, API: throttled,
					Lag: 95 * time.Second, NewestIngestion: f.now.Add(-95 * time.Second), LastSuccessfulPoll: f.now.Add(-12 * time.Second),
				},
				{Name: "/aws/vpc/other-account", LogGroup: "/aws/vpc/other-account", API: failing},
			}}
		},
		Pipeline: func() metrics.PipelineStats {
			return metrics.PipelineStats{Records: metrics.RecordCounts{OK: f.snap.Flows}, QueueDepth: 1, QueueCapacity: 64, Workers: 2}
		},
		Reload: func() metrics.ReloadStats { return metrics.ReloadStats{Successful: true, LastSuccess: testStart} },
		Checkpoint: func() metrics.CheckpointStats {
			return metrics.CheckpointStats{Enabled: true, LastSuccess: f.now.Add(-20 * time.Second), Bytes: 81920}
		},
	}
	return f, nil
}

// registry is the real collector over the fixture's inputs.
func (f *fixture) registry(t testing.TB) *prometheus.Registry {
	t.Helper()
	reg, err := metrics.NewRegistry(metrics.NewCollector(f.inputs, metrics.BuildInfo{Version: "1.2.3", Revision: "abc", GoVersion: "go"}))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// start serves cfg (over the fixture when cfg has no inputs) and returns its base URL,
// prefix included, with a trailing slash.
func (f *fixture) start(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.ListenAddresses == nil {
		cfg.ListenAddresses = []string{"127.0.0.1:0"}
	}
	if cfg.Logger == nil {
		cfg.Logger = zaptest.NewLogger(t)
	}
	if cfg.Registry == nil {
		cfg.Registry = f.registry(t)
	}
	if cfg.Inputs.Snapshot == nil {
		cfg.Inputs = f.inputs
	}
	if cfg.Status == nil {
		cfg.Status = func() Status { return Status{Version: "1.2.3", Extra: []string{"demo hint"}} }
	}
	cfg.now = nowOf(f)
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's history replaces the (empty) one of the server.
	for _, p := range f.history.Points() {
		s.history.Add(p)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + s.Addrs()[0].String() + s.RoutePrefix()
	if base[len(base)-1] != '/' {
		base += "/"
	}
	return s, base
}

// nowOf is the fixture's fixed clock.
func nowOf(f *fixture) func() time.Time { return func() time.Time { return f.now } }
