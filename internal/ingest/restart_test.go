package ingest

import (
	"bytes"
	"context"
	"encoding/gob"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/simulate"
)

// collectorState is what the test's consumer checkpoints (the aggregator's State in flowd).
type collectorState struct {
	IDs  map[string]int
	Keys map[string]int
}

func (c *collector) marshal() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(collectorState{IDs: c.ids, Keys: c.keys})
	return buf.Bytes(), err
}

func (c *collector) restore(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	var st collectorState
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.IDs != nil {
		c.ids = st.IDs
	}
	if st.Keys != nil {
		c.keys = st.Keys
	}
	return nil
}

// TestRestartFromCheckpoint stops ingest mid-stream and starts a new Manager from the
// checkpoint. "graceful" writes the checkpoint at shutdown; "crash" writes one mid-stream, keeps
// running (those later counts die with the process, as the consumer state is taken from the
// checkpoint), and stops without a final checkpoint. Both must end with every event counted once.
func TestRestartFromCheckpoint(t *testing.T) {
	t.Parallel()
	for _, crash := range []bool{false, true} {
		name := "graceful"
		if crash {
			name = "crash"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := newVClock(300)
			env := newTestEnv(t, clock, emuConfig())
			scfg := simulate.DefaultConfig()
			scfg.Start = clock.base
			scfg.FlowsPerInterval = 100
			const group = "/aws/vpc/restart"
			f := newFeed(t, env.emu, group, scfg)
			opts := Options{Groups: []GroupSpec{{Name: group, AWS: env.spec()}}, StartPosition: "-1m", PageLimit: testPageEvents}
			path := filepath.Join(t.TempDir(), "checkpoint")

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			feedDone := make(chan error, 1)
			go func() { feedDone <- f.run(ctx, clock, clock.base.Add(14*time.Minute), 5*time.Second) }()

			m1, err := New(opts, env.clients(), clock, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			c1 := newCollector(m1.Barrier())
			stop1 := runManager(t, m1, c1)
			waitVirtual(clock, clock.base.Add(9*time.Minute))
			if crash {
				if err := m1.SaveCheckpoint(ctx, path, c1.marshal); err != nil {
					t.Fatalf("SaveCheckpoint: %v", err)
				}
				waitVirtual(clock, clock.Now().Add(3*time.Minute))
				stop1()
			} else {
				stop1()
				if err := m1.SaveCheckpoint(ctx, path, c1.marshal); err != nil {
					t.Fatalf("SaveCheckpoint: %v", err)
				}
			}
			emittedBefore := m1.Stats().EventsRead

			m2, c2, stop2 := startFromCheckpoint(t, env, opts, clock, path)
			if err := <-feedDone; err != nil {
				t.Fatalf("feed: %v", err)
			}
			waitSettled(t, m2, 1, f.maxTS)
			stop2()
			verify(t, c2, f)
			st := m2.Stats()
			t.Logf("%s: %d events put; first process emitted %d, second %d (duplicates dropped %d)", name, f.events, emittedBefore, st.EventsRead, st.DuplicatesDropped)
			if crash && emittedBefore+st.EventsRead <= uint64(f.events) {
				t.Errorf("the crash lost nothing after the checkpoint (%d + %d <= %d): the test did not exercise re-reading", emittedBefore, st.EventsRead, f.events)
			}
		})
	}
}

// waitVirtual sleeps until the virtual clock reaches t.
func waitVirtual(c *vclock, t time.Time) {
	if d := t.Sub(c.Now()); d > 0 {
		<-c.After(d)
	}
}
