//go:build stress

package stress

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/emulator"
	"github.com/flowd-dev/flowd/internal/parse"
)

// TestKillNine: flowd is killed with SIGKILL at five random moments while records flow, and
// restarted at once each time from its checkpoint (written every second). /metrics is scraped
// every 200 ms, as an impatient Prometheus would. What Prometheus sees must be right:
//   - the domain counters (flows, packets, bytes by port and by interface, NODATA, SKIPDATA,
//     records by status, parse errors), which flowd publishes from committed checkpoints and
//     restores at start, never go back, not even across a restart, and the last scrape of the
//     last run equals the ground truth: no event lost, none counted twice;
//   - the counters of the running process (ingest's) never go back within one run; they
//     restart from zero at a restart, which Prometheus reads as a reset.
func TestKillNine(t *testing.T) {
	t.Parallel()
	r := newResult(t, "kill-9")
	c := newCloud(t, emulator.Config{Seed: 4}, "/stress/kill", nil)
	feed := newSimFeed(t, c, simConfig(14, 30, scale(200, 300)))
	t0 := time.Now()
	f := startFlowd(t, c, simIngest())
	ctx := context.Background()
	runFor := scale(60*time.Second, 6*time.Minute)
	feedEnd := t0.Add(runFor)
	wait := feed.runAsync(ctx, feedEnd)

	// Five kills, one at a random moment in each fifth of the feed (after a first checkpoint).
	const kills = 5
	rng := rand.New(rand.NewPCG(4, 4))
	slot := (runFor - 5*time.Second) / kills
	var killAt []time.Time
	for i := range kills {
		killAt = append(killAt, t0.Add(5*time.Second+time.Duration(i)*slot+time.Duration(rng.Int64N(int64(slot-time.Second)))))
	}

	var prev *scrape
	prevRun := 0
	scrapes, backwards, runBackwards := 0, 0, 0
	observe := func() {
		s, err := f.scrape()
		if err != nil {
			return // a scrape failing right at the kill is what Prometheus sees too
		}
		scrapes++
		run := f.starts
		if prev != nil {
			before, after := prev.counters(domainFamilies...), s.counters(domainFamilies...)
			for k, v := range before {
				if after[k] < v {
					backwards++
					r.fail("run %d: %s went back from %.0f to %.0f", run, k, v, after[k])
				}
			}
			if run == prevRun {
				pb := prev.counters("flowd_ingest_events_total", "flowd_ingest_api_requests_total")
				pa := s.counters("flowd_ingest_events_total", "flowd_ingest_api_requests_total")
				for k, v := range pb {
					if pa[k] < v {
						runBackwards++
						r.fail("run %d: %s went back from %.0f to %.0f without a restart", run, k, v, pa[k])
					}
				}
			}
		}
		prev, prevRun = s, run
	}
	for _, at := range killAt {
		for time.Now().Before(at) {
			observe()
			time.Sleep(200 * time.Millisecond)
		}
		f.kill()
		f.start()
	}
	for time.Now().Before(feedEnd) {
		observe()
		time.Sleep(200 * time.Millisecond)
	}
	if err := wait(); err != nil {
		r.fatal("feed: %v", err)
	}
	truth := feed.sim.Delivered()
	// Keep scraping (and checking) until settled.
	settleCtx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = f.waitSettled(settleCtx, c.group, c.sink.maxTS.Load(), 4*time.Minute)
	}()
	for settled := false; !settled; {
		select {
		case <-done:
			settled = true
		case <-time.After(200 * time.Millisecond):
			observe()
		}
	}
	s, err := f.waitSettled(ctx, c.group, c.sink.maxTS.Load(), time.Minute)
	if err != nil {
		r.fatal("%v", err)
	}
	observe()
	// flowd_records_total is checkpointed like the domain counters: the last run's last scrape
	// holds every record exactly once.
	compareTruth(r, s, truth)
	r.set("kills", kills)
	r.set("runs", f.starts)
	r.set("scrapes", scrapes)
	r.set("domain_backwards", backwards)
	r.set("process_backwards_within_run", runBackwards)
	r.set("records_ok", s.value("flowd_records_total", "status", "ok"))
	r.set("records_ok_truth", truth.Records[parse.LogStatusOK])
	r.check(f.starts == kills+1, "%d runs, want %d", f.starts, kills+1)
	r.set("duration_s", time.Since(t0).Seconds())
}
