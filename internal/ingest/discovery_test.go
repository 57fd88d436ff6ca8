package ingest

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flowd-dev/flowd/internal/simulate"
)

// TestDiscoveryAndSharding runs two replicas (shard 0/2 and 1/2) discovering groups by prefix.
// Two groups exist at start, two more are created while running (with new streams appearing as
// their interfaces first deliver), and one group outside the prefix must be ignored. Together the
// replicas must emit every event of the matching groups exactly once, and never the same event.
func TestDiscoveryAndSharding(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testDiscoveryAndSharding)
}

func testDiscoveryAndSharding(t *testing.T) {
	env := newTestEnv(t, emuConfig())
	clock := env.clock
	groups := []string{"/vpc/a", "/vpc/b", "/vpc/c", "/vpc/d"}
	sim := func(seed uint64, start time.Time) simulate.Config {
		c := simulate.DefaultConfig()
		c.Seed = seed
		c.Start = start
		c.Interfaces = 8
		c.FlowsPerInterval = 50
		return c
	}
	feeds := []*feed{
		newFeed(t, env.emu, groups[0], sim(1, env.base)),
		newFeed(t, env.emu, groups[1], sim(2, env.base)),
	}
	other := newFeed(t, env.emu, "/other/x", sim(3, env.base))

	owned := [2]int{}
	for _, g := range groups {
		for i := range owned {
			if (Shard{Index: i, Count: 2}).owns(g) {
				owned[i]++
			}
		}
	}
	if owned[0] == 0 || owned[1] == 0 {
		t.Fatalf("test groups all hash to one shard: %v", owned)
	}

	var managers [2]*Manager
	var collectors [2]*collector
	var stops [2]func()
	for i := range managers {
		opts := testOptions()
		opts.Discovery = []DiscoverySpec{{Prefix: "/vpc/", AWS: env.spec()}}
		opts.DiscoveryInterval = time.Minute
		opts.Shard = Shard{Index: i, Count: 2}
		m, err := New(opts, env.clients(), clock, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		managers[i] = m
		collectors[i] = newCollector()
		stops[i] = runManager(t, m, collectors[i])
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := env.base.Add(12 * time.Minute)
	errs := make(chan error, 8)
	run := func(f *feed) { go func() { errs <- f.run(ctx, clock, stop, 5*time.Second) }() }
	for _, f := range feeds {
		run(f)
	}
	run(other)
	time.Sleep(time.Until(env.base.Add(4 * time.Minute))) // virtual: the scenario's script
	// New groups appear while running; their first events are already two minutes old.
	for i, g := range groups[2:] {
		f := newFeed(t, env.emu, g, sim(uint64(10+i), clock.Now().Add(-2*time.Minute)))
		feeds = append(feeds, f)
		run(f)
	}
	for range len(feeds) + 1 {
		if err := <-errs; err != nil {
			t.Fatalf("feed: %v", err)
		}
	}
	var maxTS int64
	for _, f := range feeds {
		maxTS = max(maxTS, f.maxTS)
	}
	for i, m := range managers {
		waitSettled(t, m, owned[i], maxTS)
	}
	for _, s := range stops {
		s()
	}

	union := newCollector()
	for i, c := range collectors {
		for id, n := range c.ids {
			if union.ids[id] > 0 {
				t.Errorf("event %s emitted by both replicas", id)
			}
			union.ids[id] += n
		}
		for k, n := range c.keys {
			union.keys[k] += n
		}
		t.Logf("replica %d: %d sources, %d events", i, len(managers[i].Stats().Sources), len(c.ids))
	}
	verify(t, union, feeds...)
	for _, m := range managers {
		for _, s := range m.Stats().Sources {
			if s.LogGroup == "/other/x" {
				t.Errorf("group outside the prefix was read")
			}
		}
	}
	if other.events == 0 {
		t.Fatal("the group outside the prefix got no events: the test proves nothing about it")
	}
}
