package app

import (
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/parse"
)

func TestFormatTableLookup(t *testing.T) {
	t.Parallel()
	def := parse.MustCompile(parse.DefaultFormat)
	short := parse.MustCompile("${version} ${action}")
	table, err := newFormatTable([]config.Source{
		{LogGroup: "/vpc/a", Formats: []*parse.Format{def}},
		{LogGroup: "/vpc/b", LogStreamPrefix: "eni-", Formats: []*parse.Format{short}},
		{LogGroupARN: "arn:aws:logs:us-east-1:123456789012:log-group:/x", Formats: []*parse.Format{short}},
		{LogGroupPrefix: "/vpc/", Formats: []*parse.Format{short}},
		{LogGroupPrefix: "/vpc/prod-", Formats: []*parse.Format{def}},
		{LogGroupPrefix: "/streams/", LogStreamPrefix: "eni-", Formats: []*parse.Format{def}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		source string
		fields int // fields of the matched format; 0: no matcher at all
	}{
		{source: "/vpc/a", fields: 14},
		{source: "/vpc/b#eni-", fields: 2},
		{source: "/vpc/b", fields: 2}, // discovered by the /vpc/ prefix
		{source: "arn:aws:logs:us-east-1:123456789012:log-group:/x", fields: 2},
		{source: "/vpc/prod-eu", fields: 14}, // the longest prefix wins
		{source: "/vpc/other", fields: 2},
		{source: "/streams/g#eni-", fields: 14},
		{source: "/streams/g", fields: 0}, // that prefix reads only streams eni-
		{source: "/elsewhere", fields: 0},
	}
	for _, tc := range tests {
		t.Run(tc.source, func(t *testing.T) {
			t.Parallel()
			m := table.lookup(tc.source)
			if tc.fields == 0 {
				if m != nil {
					t.Fatalf("lookup(%q) = %v, want none", tc.source, m.Formats())
				}
				return
			}
			if m == nil || len(m.Formats()) != 1 || m.Formats()[0].NumFields() != tc.fields {
				t.Fatalf("lookup(%q) = %v, want a %d-field format", tc.source, m, tc.fields)
			}
		})
	}
}

// newWorkerApp is an App with just what a worker uses.
func newWorkerApp(t *testing.T, agg *aggregate.Aggregator) *App {
	t.Helper()
	log := zaptest.NewLogger(t)
	a := &App{log: log}
	a.malformedWarn = newWarnLimiter(log, "malformed", 0)
	a.unmatchedWarn = newWarnLimiter(log, "unmatched", 0)
	table, err := newFormatTable([]config.Source{{LogGroup: "g", Formats: []*parse.Format{parse.MustCompile(parse.DefaultFormat)}}})
	if err != nil {
		t.Fatal(err)
	}
	ls := &labelSet{agg: agg}
	table.sets = &labelSets{list: []*labelSet{ls}, byKey: map[string]*labelSet{"": ls}}
	a.formats.Store(table)
	return a
}

var workerLines = []string{
	"2 123456789012 eni-a 10.0.0.1 10.0.0.2 40000 443 6 1 60 1700000000 1700000060 ACCEPT OK",
	"2 123456789012 eni-a 10.0.0.1 10.0.0.2 40000 22 6 1 60 1700000000 1700000060 REJECT OK",
	"2 123456789012 eni-a - - - - - - - 1700000000 1700000060 - NODATA",
	"2 123456789012 eni-a - - - - - - - 1700000000 1700000060 - SKIPDATA",
	"2 123456789012 eni-a 10.0.0.1 10.0.0.2 40000 22 6 1 x 1700000000 1700000060 REJECT OK",
	"2 123456789012 eni-a 10.0.0.1 10.0.0.2 40000 22 6 1 60 1700000000 1700000060 MAYBE OK",
	"too short",
}

func batchOf(source string, lines []string) ingest.Batch {
	b := ingest.Batch{Source: source, Ack: func() {}}
	for _, l := range lines {
		b.Events = append(b.Events, ingest.Event{Message: l})
	}
	return b
}

func TestWorkerCounts(t *testing.T) {
	t.Parallel()
	agg, err := aggregate.New(aggregate.DefaultConfig(), ingest.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	a := newWorkerApp(t, agg)
	w := &worker{a: a, recs: make([]parse.Record, 2), cache: map[string]workerRoute{}} // 2: chunks are flushed mid-batch
	w.handle(batchOf("g", workerLines))
	w.handle(batchOf("unknown-source", workerLines[:2]))
	s := pipelineStats(a.counts.load())
	want := map[string]uint64{"ok": 2, "nodata": 1, "skipdata": 1, "malformed": 2, "unmatched": 3}
	got := map[string]uint64{"ok": s.Records.OK, "nodata": s.Records.NoData, "skipdata": s.Records.SkipData, "malformed": s.Records.Malformed, "unmatched": s.Records.Unmatched}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("records %s = %d, want %d", k, got[k], v)
		}
	}
	reasons := map[string]uint64{}
	for _, r := range s.ParseErrors {
		reasons[r.Reason] = r.Count
	}
	if reasons["bad_number"] != 1 || reasons["bad_enum"] != 1 || reasons["field_count"] != 0 {
		t.Errorf("parse errors = %v", s.ParseErrors)
	}
	snap := agg.Snapshot()
	if snap.Flows != 2 || snap.NoData != 1 || snap.SkipData != 1 {
		t.Errorf("aggregated flows %d nodata %d skipdata %d, want 2 1 1", snap.Flows, snap.NoData, snap.SkipData)
	}
}

// TestWorkerRecoversPanic checks that a panic in a batch is counted, does not kill the worker,
// and still acknowledges the batch (or a checkpoint would wait for it forever).
func TestWorkerRecoversPanic(t *testing.T) {
	t.Parallel()
	a := newWorkerApp(t, nil) // a nil aggregator panics on the first record
	w := &worker{a: a, recs: make([]parse.Record, 1), cache: map[string]workerRoute{}}
	acks := 0
	for range 2 {
		b := batchOf("g", workerLines[:1])
		b.Ack = func() { acks++ }
		w.handle(b)
	}
	if n := a.counts.panics.Load(); n != 2 {
		t.Errorf("panics = %d, want 2", n)
	}
	// Each batch is acknowledged through its own Ack, once, panic or not: the worker knows
	// nothing of the source that sent it.
	if acks != 2 {
		t.Errorf("acknowledgements = %d, want 2 (one per batch)", acks)
	}
}
