//go:build stress

package stress

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/emulator"
)

// TestLateDelivery: a long tail of late records. With max_delay 62s and late_grace 8s the
// final pass of a 2 s slice runs 70 s after its end. The simulator's records become visible 1-65
// s after their timestamp, 5 % of the batches up to 69 s: every record arriving after max_delay
// but before the final pass must be counted exactly once and reported in
// flowd_ingest_late_events_total (expected: the events of the emulator's ground truth with
// ingestionTime - timestamp > 62 s). Records arriving after the final pass of their slice are
// beyond the contract: they are not read. The scenario puts a few such records (100 s old, after
// flowd has passed their slices) and checks that they are not counted, which is what
// docs/operations.md tells operators (raise max_delay or late_grace when late events show up).
func TestLateDelivery(t *testing.T) {
	t.Parallel()
	r := newResult(t, "late-delivery")
	c := newCloud(t, emulator.Config{Seed: 1}, "/stress/late", nil)
	scfg := simConfig(11, scale(30, 60), scale(200, 400))
	scfg.StragglerFraction, scfg.StragglerMax = 0.05, 9*time.Second
	feed := newSimFeed(t, c, scfg)
	p := simIngest()
	p.MaxDelay, p.LateGrace = "62s", "8s"
	const maxDelayMS = 62000
	t0 := time.Now()
	f := startFlowd(t, c, p)
	ctx := context.Background()
	runFor := scale(40*time.Second, 5*time.Minute)
	wait := feed.runAsync(ctx, t0.Add(runFor))

	// Beyond the contract: records 100 s old put 15 s after start, when flowd has long read
	// their slices for the last time (at start-up, over the backlog of start_position).
	time.Sleep(15 * time.Second)
	const beyondIface = "eni-0bbbbbbbbbbbbbbbb"
	beyondTS := time.Now().Add(-100 * time.Second).Unix()
	var beyond []emulator.InputEvent
	for i := range 5 {
		ts := beyondTS + int64(i)
		beyond = append(beyond, emulator.InputEvent{Timestamp: ts * 1000,
			Message: fmt.Sprintf("2 123456789012 %s 203.0.113.%d 10.0.0.9 40000 22 6 3 180 %d %d REJECT OK", beyondIface, i+1, ts, ts+10)})
	}
	if err := c.sink.put(beyondIface+"-all", beyond); err != nil {
		r.fatal("put beyond-contract events: %v", err)
	}
	if err := wait(); err != nil {
		r.fatal("feed: %v", err)
	}
	truth := feed.sim.Delivered()
	s, err := f.waitSettled(ctx, c.group, c.sink.maxTS.Load(), 3*time.Minute)
	if err != nil {
		r.fatal("%v", err)
	}
	compareTruth(r, s, truth)

	wantLate := 0
	for _, e := range c.emu.GroundTruth(c.group) {
		if !strings.HasPrefix(e.LogStreamName, beyondIface) && e.IngestionTime-e.Timestamp > maxDelayMS {
			wantLate++
		}
	}
	gotLate := s.value("flowd_ingest_late_events_total", "log_group", c.group)
	r.set("late_expected", wantLate)
	r.set("late_counted", gotLate)
	r.check(wantLate > 0, "the scenario produced no late events: it tests nothing")
	r.check(gotLate == float64(wantLate), "flowd_ingest_late_events_total: %.0f, want %d", gotLate, wantLate)
	r.check(s.value("flowd_ingest_events_total") == float64(truth.Events),
		"flowd_ingest_events_total %.0f, delivered %d", s.value("flowd_ingest_events_total"), truth.Events)
	gotBeyond := s.value("flowd_interface_flows_total", "interface_id", beyondIface)
	r.set("beyond_put", len(beyond))
	r.set("beyond_counted", gotBeyond)
	r.check(gotBeyond == 0, "records put after their slice's final pass were counted (%.0f): the contract says they are not read", gotBeyond)
	r.set("duplicates_dropped", s.value("flowd_ingest_duplicate_events_total"))
	r.set("duration_s", time.Since(t0).Seconds())
}
