package app

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/ingest"
)

// consumerState is what the app adds to ingest's checkpoint: everything counted from the events
// ingest has handed over, captured at the same cut as ingest's positions.
type consumerState struct {
	Aggregate *aggregate.State
	Records   recordCounts
}

// restore loads the checkpoint into the ingest manager, the aggregator and the record counters,
// and publishes the restored counts. A missing or unusable file is logged, never fatal.
func (a *App) restore(mgr *ingest.Manager, path string) {
	blob := mgr.RestoreFile(path)
	if blob != nil {
		var st consumerState
		err := gob.NewDecoder(bytes.NewReader(blob)).Decode(&st)
		if err == nil && st.Aggregate == nil {
			err = errors.New("no aggregator state")
		}
		if err == nil {
			err = a.agg.Restore(st.Aggregate)
		}
		if err == nil {
			a.counts.seed(st.Records)
		} else {
			// Positions are restored but counters are not: counters restart from zero, which
			// Prometheus reads as a counter reset rather than as a spike.
			a.log.Error("counts in the checkpoint unusable, counters start from zero", zap.String("path", path), zap.Error(err))
		}
	}
	rc := a.counts.load()
	a.publishedCounts.Store(&rc)
	a.published.Store(a.agg.Snapshot())
}

// checkpointLoop writes a checkpoint every interval until ctx ends (the final one is written
// by runPipeline after the queue is drained).
func (a *App) checkpointLoop(ctx context.Context, path string) {
	interval := a.cfg.Load().Checkpoint.Interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.clock.After(interval):
		}
		if err := a.saveCheckpoint(ctx, path); err != nil && ctx.Err() == nil {
			a.log.Warn("checkpoint failed, retrying at the next interval", zap.String("path", path), zap.Error(err))
		}
	}
}

// saveCheckpoint captures ingest positions and the aggregator state at one barrier and writes
// them atomically; only then is the snapshot taken at that cut published, so Prometheus never
// sees a count that a crash would make flowd count again.
func (a *App) saveCheckpoint(ctx context.Context, path string) error {
	a.ckptMu.Lock()
	defer a.ckptMu.Unlock()
	mgr := a.mgr.Load()
	var snap *aggregate.Snapshot
	var rc recordCounts
	err := mgr.SaveCheckpoint(ctx, path, func() ([]byte, error) {
		st := consumerState{Aggregate: a.agg.State(), Records: a.counts.load()}
		snap, rc = a.agg.Snapshot(), st.Records
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(st); err != nil {
			return nil, fmt.Errorf("encode aggregator state: %w", err)
		}
		return buf.Bytes(), nil
	})
	if err != nil {
		a.ckptFailures.Add(1)
		return err
	}
	a.ckptLast.Store(a.clock.Now().UnixMilli())
	a.ckptBytes.Store(mgr.Stats().CheckpointBytes)
	a.published.Store(snap)
	a.publishedCounts.Store(&rc)
	return nil
}

// checkpointTime returns when the last checkpoint was written (zero if never).
func (a *App) checkpointTime() time.Time {
	if ms := a.ckptLast.Load(); ms != 0 {
		return time.UnixMilli(ms)
	}
	return time.Time{}
}
