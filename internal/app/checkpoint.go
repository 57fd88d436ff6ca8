package app

import (
	"context"
	"errors"

	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/checkpoint"
	"github.com/flowd-dev/flowd/internal/ingest"
)

// restore loads the checkpoint into the source, the aggregator and the record counters, and
// publishes the restored counts. A missing or unusable file is logged, never fatal: the sources
// start at the configured start position.
func (a *App) restore(src ingest.Source, path string) {
	start := zap.String("start_position", a.cfg.Load().Ingest.StartPosition.String())
	st, err := checkpoint.Read(path)
	switch {
	case errors.Is(err, checkpoint.ErrNotFound):
		a.log.Info("no checkpoint, starting at the configured start position", zap.String("path", path), start)
	case err != nil:
		a.log.Error("checkpoint unusable, starting at the configured start position; counts since the last checkpoint may be lost or repeated", zap.String("path", path), start, zap.Error(err))
	default:
		src.Restore(st.Sources)
		a.log.Info("resuming from checkpoint", zap.String("path", path), zap.Time("written", st.Written), zap.Int("sources", len(st.Sources)))
		err := errors.New("no aggregator state")
		if st.Aggregate != nil {
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
func (a *App) checkpointLoop(ctx context.Context) {
	interval := a.cfg.Load().Checkpoint.Interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.clock.After(interval):
		}
		if err := a.saveCheckpoint(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("checkpoint failed, retrying at the next interval", zap.String("path", a.ckpt.Path()), zap.Error(err))
		}
	}
}

// saveCheckpoint captures the source's positions and the aggregator state at one cut and writes
// them atomically; only then is the snapshot taken at that cut published, so Prometheus never
// sees a count that a crash would make flowd count again.
func (a *App) saveCheckpoint(ctx context.Context) error {
	a.ckptMu.Lock()
	defer a.ckptMu.Unlock()
	src := a.currentSource()
	var (
		snap *aggregate.Snapshot
		rc   recordCounts
	)
	err := a.ckpt.Save(ctx, func(ctx context.Context) (*checkpoint.State, error) {
		var st *checkpoint.State
		err := src.Checkpoint(ctx, func(states []ingest.SourceState) error {
			rc = a.counts.load()
			st = &checkpoint.State{Sources: states, Aggregate: a.agg.State(), Records: rc}
			snap = a.agg.Snapshot()
			return nil
		})
		return st, err
	})
	if err != nil {
		return err
	}
	a.published.Store(snap)
	a.publishedCounts.Store(&rc)
	return nil
}
