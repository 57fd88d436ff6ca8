package app

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/parse"
)

// chunkRecords is how many parsed records a worker hands to the aggregator at once: large
// enough that the aggregator's lock is taken rarely, small enough that a worker's buffer stays
// a few hundred kilobytes whatever the page size.
const chunkRecords = 512

// worker is one parse worker: it owns its record buffer and its cache of source matchers.
type worker struct {
	a     *App
	recs  []parse.Record
	table *formatTable
	cache map[string]workerRoute
}

// workerRoute is a source's matcher and the aggregator of its label set.
type workerRoute struct {
	m   *parse.Matcher
	agg *aggregate.Aggregator
}

// runWorker parses batches until the queue is closed and drained.
func (a *App) runWorker(queue <-chan ingest.Batch) {
	w := &worker{a: a, recs: make([]parse.Record, chunkRecords), cache: make(map[string]workerRoute)}
	for b := range queue {
		w.handle(b)
	}
}

// handle processes one batch and acknowledges it (the batch's own Ack) whatever happens: a
// panic is recovered here (the batch's remaining records are lost and counted), never passed on.
func (w *worker) handle(b ingest.Batch) {
	defer b.Done()
	defer func() {
		if r := recover(); r != nil {
			w.a.counts.panics.Add(1)
			w.a.log.Error("parse worker panic recovered, batch dropped",
				zap.String("source", b.Source), zap.Int("events", len(b.Events)),
				zap.Error(fmt.Errorf("panic: %v", r)), zap.ByteString("stack", debug.Stack()))
		}
	}()
	w.process(b)
}

func (w *worker) route(source string) workerRoute {
	if t := w.a.formats.Load(); t != w.table {
		w.table = t
		clear(w.cache)
	}
	r, ok := w.cache[source]
	if !ok {
		tr := w.table.lookupRoute(source)
		r.m = tr.m
		if ls := w.table.sets.byKey[tr.key]; ls != nil {
			r.agg = ls.agg
		} else if r.m != nil {
			// Every route's set is built with the table, so this is a bug: count the records as
			// unmatched (and say why) rather than lose them silently.
			w.a.log.Error("source routes to a label set without aggregator; its records count as unmatched", zap.String("source", source), zap.String("labels", tr.key))
			r.m = nil
		}
		w.cache[source] = r
	}
	return r
}

func (w *worker) process(b ingest.Batch) {
	var c batchCounts
	r := w.route(b.Source)
	m, agg := r.m, r.agg
	n := 0
	for i := range b.Events {
		line := b.Events[i].Message
		var f *parse.Format
		if m != nil {
			f = m.Match(line)
		}
		if f == nil {
			c.unmatched++
			w.a.unmatchedWarn.warn(time.Now(), zap.String("source", b.Source), zap.Int("fields", parse.CountFields(line)))
			continue
		}
		r := &w.recs[n]
		if err := f.Parse(line, r); err != nil {
			c.malformed++
			var pe *parse.Error
			if errors.As(err, &pe) && int(pe.Kind) < numKinds {
				c.byKind[pe.Kind]++
			} else {
				c.byKind[0]++
			}
			w.a.malformedWarn.warn(time.Now(), zap.String("source", b.Source), zap.Error(err))
			continue
		}
		switch r.LogStatus {
		case parse.LogStatusNoData:
			c.noData++
		case parse.LogStatusSkipData:
			c.skipData++
		default:
			c.ok++
		}
		n++
		if n == len(w.recs) {
			agg.AddBatch(w.recs[:n])
			n = 0
		}
	}
	if n > 0 {
		agg.AddBatch(w.recs[:n])
	}
	w.a.counts.add(&c)
}
