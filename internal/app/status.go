package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/metrics"
	"github.com/flowd-dev/flowd/internal/web"
)

// metricInputs connects the collector to the live state.
func (a *App) metricInputs() metrics.Inputs {
	snaps := func() *snapshots { return a.sets().snapshots() }
	primary := func() *aggregate.Snapshot { return a.sets().primary().agg.Snapshot() }
	records := func() recordCounts { return a.counts.load() }
	if a.cfg.Load().Checkpoint.Path != "" {
		snaps = a.published.Load
		primary = func() *aggregate.Snapshot { return a.published.Load().primary }
		records = func() recordCounts { return *a.publishedCounts.Load() }
	}
	in := metrics.Inputs{
		// The live view and the inventory's top addresses read one set: the one without
		// labels, else the first.
		Snapshot: primary,
		Ingest:   func() ingest.Stats { return a.currentSource().Stats() },
		Pipeline: func() metrics.PipelineStats {
			s := pipelineStats(records())
			s.WorkerPanics = a.counts.panics.Load()
			s.QueueDepth, s.QueueCapacity, s.Workers = len(a.queue), cap(a.queue), a.workers
			return s
		},
		Reload: func() metrics.ReloadStats {
			return metrics.ReloadStats{Successful: a.reloadOK.Load(), LastSuccess: time.UnixMilli(a.reloadTime.Load())}
		},
		Checkpoint: func() metrics.CheckpointStats {
			if a.ckpt == nil {
				return metrics.CheckpointStats{}
			}
			st := a.ckpt.Stats()
			return metrics.CheckpointStats{Enabled: true, LastSuccess: st.LastSuccess, Failures: st.Failures, Bytes: st.Bytes}
		},
	}
	if len(a.labelNames) > 0 {
		// Without labels the single set is published as Snapshot, as before labels existed.
		in.SourceLabels = a.labelNames
		in.Snapshots = func() []metrics.LabeledSnapshot { return snaps().all }
	}
	return in
}

// ready reports whether at least one source has had a successful FilterLogEvents call, and
// otherwise why not.
func (a *App) ready() error {
	st := a.currentSource().Stats()
	if len(st.Sources) == 0 {
		return errors.New("no source is running: discovery found no log group yet, or this shard owns none")
	}
	var failed uint64
	for _, s := range st.Sources {
		if s.API.Calls[ingest.OpFilterLogEvents][ingest.OutcomeOK] > 0 || !s.LastSuccessfulPoll.IsZero() {
			return nil
		}
		failed += s.API.Calls[ingest.OpFilterLogEvents][ingest.OutcomeError] + s.API.Calls[ingest.OpFilterLogEvents][ingest.OutcomeThrottled]
	}
	return fmt.Errorf("no source has been read successfully yet (%d sources, %d failed or throttled FilterLogEvents calls; see the log)", len(st.Sources), failed)
}

// status adds the version and the demo's hints to the live view.
func (a *App) status() web.Status {
	s := web.Status{Version: a.opts.Build.Version}
	if a.opts.StatusLines != nil {
		s.Extra = a.opts.StatusLines()
	}
	return s
}
