package app

import (
	"context"
	"errors"
	"fmt"

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
		err := a.restoreSets(st, path)
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
	a.published.Store(a.sets().snapshots())
}

// restoreSets restores each label set's aggregator from the checkpoint: the set without labels
// from Aggregate (all a version 2 file has), the others from Labeled by their labels. States
// of sets no longer configured are dropped (logged); a configured set the file lacks starts
// from zero. The error names the sets whose state could not be restored.
func (a *App) restoreSets(st *checkpoint.State, path string) error {
	sets := a.sets()
	if st.Aggregate == nil && len(st.Labeled) == 0 {
		return errors.New("no aggregator state")
	}
	states := map[string]*aggregate.State{}
	if st.Aggregate != nil {
		states[""] = st.Aggregate
	}
	for _, l := range st.Labeled {
		states[l.Labels.Key()] = l.State
	}
	var errs []error
	for key, s := range states {
		ls := sets.byKey[key]
		if ls == nil {
			a.log.Warn("checkpoint holds the counts of a label set no source has now; dropped", zap.String("path", path), zap.String("labels", key))
			continue
		}
		if err := ls.agg.Restore(s); err != nil {
			errs = append(errs, fmt.Errorf("label set %q: %w", key, err))
		}
	}
	return errors.Join(errs...)
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
	return a.writeCheckpoint(ctx, a.currentSource(), nil)
}

// writeCheckpoint is saveCheckpoint of src with ckptMu held; handOver, if set, is given the
// states at the same cut (a source switch: the new source resumes exactly there).
//
// The file is written inside the source's capture, not after it: a source acts on a
// successful capture when its Checkpoint returns (a Kinesis source then moves its lease
// checkpoints), so that must come after the counts it covers are on disk. The other order let
// a lease checkpoint land before the file: a kill -9 in between lost those batches' counts
// (the next owner read on after them, the restart restored the previous file).
func (a *App) writeCheckpoint(ctx context.Context, src ingest.Source, handOver func([]ingest.SourceState)) error {
	var (
		snaps *snapshots
		rc    recordCounts
	)
	err := src.Checkpoint(ctx, func(states []ingest.SourceState) error {
		return a.ckpt.Save(ctx, func(context.Context) (*checkpoint.State, error) {
			if handOver != nil {
				handOver(states)
			}
			rc = a.counts.load()
			st := &checkpoint.State{Sources: states, Records: rc}
			for _, ls := range a.sets().list {
				if len(ls.labels) == 0 {
					st.Aggregate = ls.agg.State()
				} else {
					st.Labeled = append(st.Labeled, checkpoint.LabeledAggregate{Labels: ls.labels, State: ls.agg.State()})
				}
			}
			snaps = a.sets().snapshots()
			return st, nil
		})
	})
	if err != nil {
		return err
	}
	a.published.Store(snaps)
	a.publishedCounts.Store(&rc)
	return nil
}
