package ingest

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flowd-dev/flowd/internal/checkpoint"
	"github.com/flowd-dev/flowd/internal/simulate"
)

// collectorState is what the test's consumer checkpoints (the aggregator's State in flowd).
type collectorState struct {
	IDs  map[string]int
	Keys map[string]int
}

// saveTestCheckpoint captures m's states and c's counts at one cut, as the app does with the
// aggregator, and writes them atomically with the checkpoint package.
func saveTestCheckpoint(ctx context.Context, path string, m *Manager, c *collector) error {
	var cp testCheckpoint
	err := m.Checkpoint(ctx, func(states []SourceState) error {
		cp.Sources = states
		var err error
		cp.Consumer, err = c.marshal()
		return err
	})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&cp); err != nil {
		return err
	}
	return checkpoint.WriteAtomic(path, buf.Bytes())
}

// testCheckpoint is the tests' checkpoint file: the sources' states and the collector's.
type testCheckpoint struct {
	Sources  []SourceState
	Consumer []byte
}

// readTestCheckpoint reads a file written by saveTestCheckpoint; a missing file is a first start.
func readTestCheckpoint(path string) ([]SourceState, []byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var cp testCheckpoint
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&cp); err != nil {
		return nil, nil, err
	}
	return cp.Sources, cp.Consumer, nil
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
			synctest.Test(t, func(t *testing.T) {
				env := newTestEnv(t, emuConfig())
				scfg := simulate.DefaultConfig()
				scfg.Start = env.base
				scfg.FlowsPerInterval = 100
				const group = "/aws/vpc/restart"
				f := newFeed(t, env.emu, group, scfg)
				opts := testOptions(GroupSpec{Name: group, AWS: env.spec()})
				path := filepath.Join(t.TempDir(), "checkpoint")

				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				feedDone := make(chan error, 1)
				go func() { feedDone <- f.run(ctx, env.clock, env.base.Add(14*time.Minute), 5*time.Second) }()

				m1, err := New(opts, env.clients(), env.clock, testLogger(t))
				if err != nil {
					t.Fatal(err)
				}
				c1 := newCollector()
				stop1 := runManager(t, m1, c1)
				time.Sleep(time.Until(env.base.Add(9 * time.Minute))) // virtual: the scenario's script
				if crash {
					if err := saveTestCheckpoint(ctx, path, m1, c1); err != nil {
						t.Fatalf("checkpoint: %v", err)
					}
					time.Sleep(3 * time.Minute)
					stop1()
				} else {
					stop1()
					if err := saveTestCheckpoint(ctx, path, m1, c1); err != nil {
						t.Fatalf("checkpoint: %v", err)
					}
				}
				emittedBefore := m1.Stats().EventsRead

				m2, c2, stop2 := startFromCheckpoint(t, env, opts, path)
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
		})
	}
}
