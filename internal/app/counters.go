package app

import (
	"sync/atomic"

	"github.com/flowd-dev/flowd/internal/checkpoint"
	"github.com/flowd-dev/flowd/internal/metrics"
	"github.com/flowd-dev/flowd/internal/parse"
)

// numKinds bounds parse.ErrorKind values counted by kind; larger ones count as unknown.
const numKinds = checkpoint.NumKinds

// counters are the parse workers' shared counters. Workers count a batch locally and add it
// here once per batch, so the per-record path touches no shared memory.
type counters struct {
	ok, noData, skipData, malformed, unmatched atomic.Uint64
	byKind                                     [numKinds]atomic.Uint64
	panics                                     atomic.Uint64
}

// batchCounts are one batch's counts, kept by the worker.
type batchCounts struct {
	ok, noData, skipData, malformed, unmatched uint64
	byKind                                     [numKinds]uint64
}

// recordCounts is a copy of the record counters, as the checkpoint keeps them: records by fate
// are counted exactly like the domain counters (restored on start, published with the
// checkpoint), so a restart neither resets nor re-counts flowd_records_total.
type recordCounts = checkpoint.Records

func (c *counters) add(b *batchCounts) {
	c.ok.Add(b.ok)
	c.noData.Add(b.noData)
	c.skipData.Add(b.skipData)
	c.malformed.Add(b.malformed)
	c.unmatched.Add(b.unmatched)
	for i, n := range b.byKind {
		if n != 0 {
			c.byKind[i].Add(n)
		}
	}
}

// load copies the record counters (not the panic count, which is about this process).
func (c *counters) load() recordCounts {
	rc := recordCounts{
		OK: c.ok.Load(), NoData: c.noData.Load(), SkipData: c.skipData.Load(),
		Malformed: c.malformed.Load(), Unmatched: c.unmatched.Load(),
	}
	for i := range c.byKind {
		rc.ByKind[i] = c.byKind[i].Load()
	}
	return rc
}

// seed sets the record counters to restored values, before any worker runs.
func (c *counters) seed(rc recordCounts) {
	c.ok.Store(rc.OK)
	c.noData.Store(rc.NoData)
	c.skipData.Store(rc.SkipData)
	c.malformed.Store(rc.Malformed)
	c.unmatched.Store(rc.Unmatched)
	for i := range c.byKind {
		c.byKind[i].Store(rc.ByKind[i])
	}
}

// kindLabels are the reason labels by kind index, computed once.
var kindLabels = func() (out [numKinds]string) {
	for i := range out {
		out[i] = parse.ErrorKind(i).String()
	}
	return out
}()

// pipelineStats returns the counts for the metrics collector; parse errors list every known reason,
// zeros included, so the series exist from the start.
func pipelineStats(rc recordCounts) metrics.PipelineStats {
	s := metrics.PipelineStats{
		Records: metrics.RecordCounts{
			OK: rc.OK, NoData: rc.NoData, SkipData: rc.SkipData,
			Malformed: rc.Malformed, Unmatched: rc.Unmatched,
		},
	}
	for i, n := range rc.ByKind {
		if kindLabels[i] == "unknown" && n == 0 {
			continue
		}
		s.ParseErrors = append(s.ParseErrors, metrics.ReasonCount{Reason: kindLabels[i], Count: n})
	}
	return s
}
