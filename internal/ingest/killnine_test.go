package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flowd-dev/flowd/internal/simulate"
)

// TestKillNine kills a running ingest between two checkpoints, restarts it from the last
// committed checkpoint, and checks the counts the committed checkpoints carry (what flowd
// publishes to Prometheus): the killed process's last commit is a subset of the final one, and
// the final one holds every event exactly once.
//
// It runs in process, in virtual time: what SIGKILL takes away is everything after the last
// commit, and here the first Manager and its collector are abandoned with no final write, their
// in-memory counts lost; a torn temporary file left beside the checkpoint stands for a kill during
// a write. (The atomic replacement itself is tested in internal/checkpoint; the binary under
// kill -9 in test/stress.)
func TestKillNine(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testKillNine)
}

func testKillNine(t *testing.T) {
	env := newTestEnv(t, emuConfig())
	scfg := simulate.DefaultConfig()
	scfg.Start = env.base
	scfg.FlowsPerInterval = 100
	const group = "/aws/vpc/kill"
	f := newFeed(t, env.emu, group, scfg)
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint")
	opts := testOptions(GroupSpec{Name: group, AWS: env.spec()})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feedDone := make(chan error, 1)
	go func() { feedDone <- f.run(ctx, env.clock, env.base.Add(14*time.Minute), 5*time.Second) }()

	// First process: checkpoint every 30 s; after four commits holding events, die a third of the
	// way to the next one.
	m1, c1, kill := startFromCheckpoint(t, env, opts, path)
	commits, nonEmpty := 0, 0
	for nonEmpty < 4 {
		if commits == 20 {
			t.Fatalf("only %d of %d commits held events", nonEmpty, commits)
		}
		time.Sleep(30 * time.Second)
		if err := saveTestCheckpoint(ctx, path, m1, c1); err != nil {
			t.Fatalf("checkpoint: %v", err)
		}
		commits++
		if m1.Stats().EventsRead > 0 {
			nonEmpty++
		}
	}
	time.Sleep(10 * time.Second)
	kill()
	if err := os.WriteFile(filepath.Join(dir, ".checkpoint.tmp-1234"), []byte("FLOWD"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, blob, err := readTestCheckpoint(path)
	if err != nil {
		t.Fatalf("checkpoint after kill: %v", err)
	}
	before := newCollector()
	if err := before.restore(blob); err != nil {
		t.Fatal(err)
	}
	if len(before.ids) == 0 {
		t.Fatal("the killed process's last commit holds no events")
	}
	if err := <-feedDone; err != nil {
		t.Fatalf("feed: %v", err)
	}

	// Second process: resume from the checkpoint, run until everything is settled, stop
	// gracefully with a final checkpoint.
	m2, c2, stop := startFromCheckpoint(t, env, opts, path)
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatalf("not settled after %d checkpoints: %+v", i, m2.Stats().Sources)
		}
		time.Sleep(30 * time.Second)
		if err := saveTestCheckpoint(ctx, path, m2, c2); err != nil {
			t.Fatalf("checkpoint: %v", err)
		}
		settled := len(m2.Stats().Sources) > 0
		for _, s := range m2.Stats().Sources {
			if s.Watermark.UnixMilli() <= f.maxTS {
				settled = false
			}
		}
		if settled {
			break
		}
	}
	stop()
	if err := saveTestCheckpoint(ctx, path, m2, c2); err != nil {
		t.Fatalf("final checkpoint: %v", err)
	}
	_, blob, err = readTestCheckpoint(path)
	if err != nil {
		t.Fatalf("final checkpoint: %v", err)
	}
	after := newCollector()
	if err := after.restore(blob); err != nil {
		t.Fatal(err)
	}
	for id, n := range before.ids {
		if after.ids[id] != n {
			t.Errorf("event %s: %d in the killed process's last commit, %d in the final one", id, n, after.ids[id])
		}
	}
	verify(t, after, f)
	t.Logf("kill after %d commits: %d events in the last commit before the kill, %d in the final commit, %d put", commits, len(before.ids), len(after.ids), f.events)
}
