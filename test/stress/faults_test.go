//go:build stress

package stress

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/emulator"
)

// TestFaults: 5xx answers (500 and 503), slow answers (1.5 s) and connections dropped in the
// middle of a 200 answer hit 30 % of the FilterLogEvents calls at random, the kind changing every
// 2 s (each kind once per 8 s, in a random order), for a bounded time. flowd must lose nothing and count nothing twice (exact counts), and
// survive (alive, no panic).
func TestFaults(t *testing.T) {
	t.Parallel()
	r := newResult(t, "faults")
	c := newCloud(t, emulator.Config{Seed: 3, MaxPageEvents: 500}, "/stress/faults", nil)
	feed := newSimFeed(t, c, simConfig(13, 30, scale(200, 300)))
	t0 := time.Now()
	f := startFlowd(t, c, simIngest())
	ctx := context.Background()
	faultFor := scale(40*time.Second, 4*time.Minute)
	faultEnd := t0.Add(5 * time.Second).Add(faultFor)
	wait := feed.runAsync(ctx, faultEnd.Add(10*time.Second))

	kinds := []emulator.Fault{
		{Kind: emulator.FaultInternalError, Probability: 0.3},
		{Kind: emulator.FaultUnavailable, Probability: 0.3},
		{Kind: emulator.FaultSlow, Probability: 0.3, Delay: 1500 * time.Millisecond},
		{Kind: emulator.FaultDisconnect, Probability: 0.3},
	}
	rng := rand.New(rand.NewPCG(3, 3))
	used := map[emulator.FaultKind]int{}
	time.Sleep(5 * time.Second)
	// Every kind once per round of len(kinds) periods, in a random order each round.
	var order []int
	for time.Now().Before(faultEnd) {
		if len(order) == 0 {
			order = rng.Perm(len(kinds))
		}
		k := kinds[order[0]]
		order = order[1:]
		used[k.Kind]++
		if err := c.emu.SetFault(emulator.OpFilterLogEvents, k); err != nil {
			r.fatal("set fault: %v", err)
		}
		time.Sleep(2 * time.Second)
	}
	c.emu.ClearFaults()
	if err := wait(); err != nil {
		r.fatal("feed: %v", err)
	}
	truth := feed.sim.Delivered()
	s, err := f.waitSettled(ctx, c.group, c.sink.maxTS.Load(), 4*time.Minute)
	if err != nil {
		r.fatal("%v", err)
	}
	compareTruth(r, s, truth)
	emu := c.filterCalls()
	r.set("fault_s", faultFor.Seconds())
	r.set("calls", emu.Calls)
	r.set("faulted", emu.Faulted)
	r.set("flowd_errors", s.value("flowd_ingest_api_requests_total", "operation", "FilterLogEvents", "outcome", "error"))
	r.set("flowd_retries", s.value("flowd_ingest_api_retries_total", "operation", "FilterLogEvents"))
	r.set("panics", s.value("flowd_worker_panics_total"))
	r.check(emu.Faulted > 0 && len(used) == len(kinds), "faults hit %d calls with %d kinds: the scenario tests too little", emu.Faulted, len(used))
	r.check(f.alive(), "flowd died")
	r.check(s.value("flowd_worker_panics_total") == 0 && f.logCount("panic") == 0, "panic under faults")
	r.set("duration_s", time.Since(t0).Seconds())
}
