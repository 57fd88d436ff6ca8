package app

import (
	"sync/atomic"

	"github.com/flowd-dev/flowd/internal/metrics"
	"github.com/flowd-dev/flowd/internal/parse"
)

// numKinds bounds parse.ErrorKind values counted by kind; larger ones count as unknown.
const numKinds = 8

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

// kindLabels are the reason labels by kind index, computed once.
var kindLabels = func() (out [numKinds]string) {
	for i := range out {
		out[i] = parse.ErrorKind(i).String()
	}
	return out
}()

// stats returns the counters for the metrics collector; parse errors list every known reason,
// zeros included, so the series exist from the start.
func (c *counters) stats() metrics.PipelineStats {
	s := metrics.PipelineStats{
		Records: metrics.RecordCounts{
			OK: c.ok.Load(), NoData: c.noData.Load(), SkipData: c.skipData.Load(),
			Malformed: c.malformed.Load(), Unmatched: c.unmatched.Load(),
		},
		WorkerPanics: c.panics.Load(),
	}
	for i := range c.byKind {
		n := c.byKind[i].Load()
		if kindLabels[i] == "unknown" && n == 0 {
			continue
		}
		s.ParseErrors = append(s.ParseErrors, metrics.ReasonCount{Reason: kindLabels[i], Count: n})
	}
	return s
}
