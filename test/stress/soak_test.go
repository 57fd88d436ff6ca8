//go:build stress

package stress

import (
	"context"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/emulator"
)

// TestSoak runs flowd for -soak (e.g. 30m) at a steady rate (100 interfaces of the simulated
// VPC, about 450 records/s) and samples RSS, goroutines and heap every 30 s. Memory grows at
// first by design: the window ring (15m window + 2m allowed lateness = 17 minutes of 10 s
// buckets, each with its sketches) and the dedup hashes of the unsettled horizon fill up. So
// flatness is judged after a warm-up of 19 minutes: the mean of the last third of the later
// samples must be within 10 % (plus 4 MiB) of the first third's for RSS, and within 5 goroutines;
// and the counts must be exact at the end. Every sample is logged. It is not part of CI
// (-soak=0 skips it); -soak must be at least 25m.
func TestSoak(t *testing.T) {
	if *soakFor <= 0 {
		t.Skip("soak runs only with -soak=<duration>, e.g. -soak=30m")
	}
	const warmup = 19 * time.Minute
	if *soakFor < warmup+6*time.Minute {
		t.Fatalf("-soak=%s: at least %s (a %s warm-up, then the flat part)", *soakFor, warmup+6*time.Minute, warmup)
	}
	r := newResult(t, "soak")
	c := newCloud(t, emulator.Config{Seed: 7}, "/stress/soak", nil)
	feed := newSimFeed(t, c, simConfig(17, 100, 300))
	t0 := time.Now()
	f := startFlowd(t, c, simIngest())
	ctx := context.Background()
	wait := feed.runAsync(ctx, t0.Add(*soakFor))
	type sample struct {
		at                    time.Duration
		rss, goroutines, heap float64
	}
	var samples []sample
	for time.Since(t0) < *soakFor {
		time.Sleep(30 * time.Second)
		s, err := f.scrape()
		if err != nil {
			r.fail("scrape: %v", err)
			continue
		}
		rss, _, err := f.memory()
		if err != nil {
			r.fatal("memory: %v", err)
		}
		x := sample{time.Since(t0).Round(time.Second), float64(rss), s.value("go_goroutines"), s.value("go_memstats_heap_inuse_bytes")}
		samples = append(samples, x)
		t.Logf("soak sample t=%s rss_mib=%.1f heap_inuse_mib=%.1f goroutines=%.0f", x.at, x.rss/(1<<20), x.heap/(1<<20), x.goroutines)
	}
	if err := wait(); err != nil {
		r.fatal("feed: %v", err)
	}
	truth := feed.sim.Delivered()
	s, err := f.waitSettled(ctx, c.group, c.sink.maxTS.Load(), 4*time.Minute)
	if err != nil {
		r.fatal("%v", err)
	}
	compareTruth(r, s, truth)
	var flat []sample
	for _, x := range samples {
		if x.at >= warmup {
			flat = append(flat, x)
		}
	}
	if len(flat) < 6 {
		r.fatal("only %d samples after the warm-up", len(flat))
	}
	q := len(flat) / 3
	mean := func(ss []sample, get func(sample) float64) float64 {
		sum := 0.0
		for _, x := range ss {
			sum += get(x)
		}
		return sum / float64(len(ss))
	}
	rssOf := func(x sample) float64 { return x.rss }
	grOf := func(x sample) float64 { return x.goroutines }
	heapOf := func(x sample) float64 { return x.heap }
	first, last := flat[:q], flat[len(flat)-q:]
	r.set("rss_at_start_mib", samples[0].rss/(1<<20))
	r.set("soak_s", soakFor.Seconds())
	r.set("samples", len(samples))
	r.set("rss_first_mib", mean(first, rssOf)/(1<<20))
	r.set("rss_last_mib", mean(last, rssOf)/(1<<20))
	r.set("heap_first_mib", mean(first, heapOf)/(1<<20))
	r.set("heap_last_mib", mean(last, heapOf)/(1<<20))
	r.set("goroutines_first", mean(first, grOf))
	r.set("goroutines_last", mean(last, grOf))
	r.check(mean(last, rssOf) <= 1.1*mean(first, rssOf)+4<<20, "RSS grew after the warm-up: first third %.1f MiB, last third %.1f MiB", mean(first, rssOf)/(1<<20), mean(last, rssOf)/(1<<20))
	r.check(mean(last, grOf) <= mean(first, grOf)+5, "goroutines grew: %.0f -> %.0f", mean(first, grOf), mean(last, grOf))
	r.set("duration_s", time.Since(t0).Seconds())
}
