package ingest

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flowd-dev/flowd/internal/emulator"
	"github.com/flowd-dev/flowd/internal/simulate"
)

// testPageEvents scales the page limit down (AWS: 10,000) so that a few tens of thousands of
// events exercise multi-page passes; ingest's PageLimit is set to the same value.
const testPageEvents = 1000

// scenario is one end-to-end run: simulator -> emulator -> real SDK -> ingest -> collector.
type scenario struct {
	emu     emulator.Config
	sim     func(*simulate.Config)
	opts    func(*Options)
	feedFor time.Duration
	// backfill starts the simulation that long before ingest starts, so ingest begins behind.
	backfill time.Duration
	// during runs while the feed runs (fault scripts).
	during func(ctx context.Context, e *testEnv)
}

type scenarioResult struct {
	took  time.Duration // virtual time from the start of ingest to all settled
	stats Stats
	feed  *feed
	emu   emulator.Stats
}

// emuConfig is the emulator configuration of the end-to-end tests.
func emuConfig() emulator.Config { return emulator.Config{MaxPageEvents: testPageEvents} }

func runScenario(t *testing.T, sc scenario) scenarioResult {
	t.Helper()
	if sc.emu.MaxPageEvents == 0 {
		sc.emu.MaxPageEvents = testPageEvents
	}
	env := newTestEnv(t, sc.emu)
	clock := env.clock
	scfg := simulate.DefaultConfig()
	scfg.Start = env.base.Add(-sc.backfill)
	scfg.Interfaces = 20
	scfg.FlowsPerInterval = 100
	if sc.sim != nil {
		sc.sim(&scfg)
	}
	const group = "/aws/vpc/flow-logs"
	f := newFeed(t, env.emu, group, scfg)

	opts := testOptions(GroupSpec{Name: group, AWS: env.spec()})
	opts.StartOffset = -sc.backfill - 5*time.Minute
	if sc.opts != nil {
		sc.opts(&opts)
	}
	m, err := New(opts, env.clients(), clock, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Deliver the backfill before ingest starts, as it would be in CloudWatch Logs already.
	if err := f.step(clock.Now()); err != nil {
		t.Fatalf("feed: %v", err)
	}
	c := newCollector()
	began := time.Now()
	stop := runManager(t, m, c)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if sc.during != nil {
		go sc.during(ctx, env)
	}
	if err := f.run(ctx, clock, env.base.Add(sc.feedFor), 5*time.Second); err != nil {
		t.Fatalf("feed: %v", err)
	}
	if f.events == 0 {
		t.Fatal("the feed put no events")
	}
	waitSettled(t, m, 1, f.maxTS)
	cancel()
	env.emu.ClearFaults()
	stop()
	verify(t, c, f)
	return scenarioResult{took: time.Since(began), stats: m.Stats(), feed: f, emu: env.emu.Stats()}
}

func TestScenarios(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sc   scenario
		// maxRatio bounds FilterLogEvents calls over the page minimum (0: not checked).
		maxRatio float64
		check    func(t *testing.T, r scenarioResult)
	}{
		{
			name: "steady",
			sc: scenario{
				feedFor: 12 * time.Minute,
				sim:     func(c *simulate.Config) { c.FlowsPerInterval = 400 },
			},
			// (1 + f) x minimum with f, the fraction visible at the early pass, close to 1 under
			// realistic delivery (1-6 min): the price of counts 5-7 min after the flow.
			maxRatio: 2.6,
		},
		{
			name: "late delivery across 200 streams",
			sc: scenario{
				feedFor: 20 * time.Minute,
				sim: func(c *simulate.Config) {
					c.Interfaces = 200
					c.FlowsPerInterval = 10
					c.DelayMin = 0
					c.DelayMax = 13 * time.Minute // + the 60 s interval: 0-14 min after the timestamp
					c.StragglerFraction = 0
				},
			},
			check: func(t *testing.T, r scenarioResult) {
				if r.stats.DuplicatesDropped == 0 {
					t.Error("no duplicates dropped: the early pass never overlapped the final one")
				}
			},
		},
		{
			name: "throttling storm",
			sc: scenario{
				feedFor:  8 * time.Minute,
				backfill: 20 * time.Minute,
				emu:      emulator.Config{RateLimits: map[string]float64{emulator.OpFilterLogEvents: 1}},
				during: func(ctx context.Context, e *testEnv) {
					_ = e.emu.SetFault(emulator.OpFilterLogEvents, emulator.Fault{Kind: emulator.FaultThrottle, Probability: 0.3})
				},
			},
			check: func(t *testing.T, r scenarioResult) {
				if r.stats.API.Calls[OpFilterLogEvents][OutcomeThrottled] == 0 {
					t.Error("no throttled calls counted")
				}
				if th := r.emu.Ops[emulator.OpFilterLogEvents].Throttled; th == 0 {
					t.Error("the emulator's 1 req/s quota never throttled: the storm did not happen")
				}
			},
		},
		{
			name: "5xx and dropped connections",
			sc: scenario{
				feedFor: 10 * time.Minute,
				during: func(ctx context.Context, e *testEnv) {
					kinds := []emulator.FaultKind{emulator.FaultInternalError, emulator.FaultUnavailable, emulator.FaultDisconnect}
					for i := 0; ; i++ {
						_ = e.emu.SetFault(emulator.OpFilterLogEvents, emulator.Fault{Kind: kinds[i%len(kinds)], Probability: 0.3})
						select {
						case <-ctx.Done():
							return
						case <-time.After(6 * time.Second):
						}
					}
				},
			},
			check: func(t *testing.T, r scenarioResult) {
				if r.stats.API.Calls[OpFilterLogEvents][OutcomeError] == 0 || r.stats.API.Retries[OpFilterLogEvents] == 0 {
					t.Error("no failed and retried calls counted")
				}
			},
		},
		{
			name: "expired nextToken",
			sc: scenario{
				feedFor: 10 * time.Minute,
				emu:     emulator.Config{MaxPageEvents: 100},
				opts:    func(o *Options) { o.PageLimit = 100 },
				during: func(ctx context.Context, e *testEnv) {
					kinds := []emulator.FaultKind{emulator.FaultExpiredToken, emulator.FaultInvalidToken}
					for i := 0; ; i++ {
						_ = e.emu.SetFault(emulator.OpFilterLogEvents, emulator.Fault{Kind: kinds[i%2], Count: 1})
						select {
						case <-ctx.Done():
							return
						case <-time.After(30 * time.Second):
						}
					}
				},
			},
			check: func(t *testing.T, r scenarioResult) {
				var restarts uint64
				for _, s := range r.stats.Sources {
					restarts += s.TokenRestarts
				}
				if restarts == 0 {
					t.Error("no pass range was restarted after a rejected nextToken")
				}
				t.Logf("token restarts: %d", restarts)
			},
		},
		{
			// Three answers that would take an hour each: each is abandoned at the 30 s deadline
			// and retried, so the source keeps up (an hour's stall each would take hours).
			name: "slow answers hit the deadline",
			sc: scenario{
				feedFor: 10 * time.Minute,
				during: func(ctx context.Context, e *testEnv) {
					_ = e.emu.SetFault(emulator.OpFilterLogEvents, emulator.Fault{Kind: emulator.FaultSlow, Count: 3, Delay: time.Hour})
				},
			},
			check: func(t *testing.T, r scenarioResult) {
				if n := r.stats.API.Timeouts[OpFilterLogEvents]; n != 3 {
					t.Errorf("timeouts = %d, want 3 (one per slow answer)", n)
				}
				if r.took > time.Hour {
					t.Errorf("settled after %s of virtual time: the slow answers stalled the source", r.took)
				}
			},
		},
		{
			name: "steady without early pass",
			sc: scenario{
				feedFor: 12 * time.Minute,
				sim:     func(c *simulate.Config) { c.FlowsPerInterval = 400 },
				opts:    func(o *Options) { o.EarlyPasses = []time.Duration{} },
			},
			maxRatio: 1.5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r scenarioResult
			synctest.Test(t, func(t *testing.T) { r = runScenario(t, tt.sc) })
			_, ratio := reportCost(t, tt.name, r.stats, r.feed, testPageEvents)
			if tt.maxRatio > 0 && ratio > tt.maxRatio {
				t.Errorf("API calls %.2fx the minimum, want <= %.2fx", ratio, tt.maxRatio)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}
