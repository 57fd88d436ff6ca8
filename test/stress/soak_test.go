//go:build stress

package stress

import (
	"context"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/emulator"
)

// TestSoak runs flowd for -soak (e.g. 30m) at a steady rate (100 interfaces of the simulated
// VPC) and samples RSS, goroutines and heap every 30 s. Flat means: the mean of the last quarter
// of the samples is within 20 % (plus 8 MiB) of the first quarter's for RSS, and within 10
// goroutines; and the counts are exact at the end. It is not part of CI (-soak=0 skips it).
func TestSoak(t *testing.T) {
	if *soakFor <= 0 {
		t.Skip("soak runs only with -soak=<duration>, e.g. -soak=30m")
	}
	r := newResult(t, "soak")
	c := newCloud(t, emulator.Config{Seed: 7}, "/stress/soak", nil)
	feed := newSimFeed(t, c, simConfig(17, 100, 300))
	t0 := time.Now()
	f := startFlowd(t, c, simIngest())
	ctx := context.Background()
	wait := feed.runAsync(ctx, t0.Add(*soakFor))
	type sample struct{ rss, goroutines, heap float64 }
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
		samples = append(samples, sample{float64(rss), s.value("go_goroutines"), s.value("go_memstats_heap_inuse_bytes")})
	}
	if err := wait(); err != nil {
		r.fatal("feed: %v", err)
	}
	truth := feed.sim.Delivered()
	s, err := f.waitSettled(ctx, c.group, c.sink.maxTS.Load(), 4*time.Minute)
	if err != nil {
		r.fatal("%v", err)
	}
	compareTruth(r, s, truth, true)
	if len(samples) < 8 {
		r.fatal("only %d samples: soak for at least 4 minutes", len(samples))
	}
	q := len(samples) / 4
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
	first, last := samples[:q], samples[len(samples)-q:]
	r.set("soak_s", soakFor.Seconds())
	r.set("samples", len(samples))
	r.set("rss_first_mib", mean(first, rssOf)/(1<<20))
	r.set("rss_last_mib", mean(last, rssOf)/(1<<20))
	r.set("heap_first_mib", mean(first, heapOf)/(1<<20))
	r.set("heap_last_mib", mean(last, heapOf)/(1<<20))
	r.set("goroutines_first", mean(first, grOf))
	r.set("goroutines_last", mean(last, grOf))
	r.check(mean(last, rssOf) <= 1.2*mean(first, rssOf)+8<<20, "RSS grew: first quarter %.1f MiB, last %.1f MiB", mean(first, rssOf)/(1<<20), mean(last, rssOf)/(1<<20))
	r.check(mean(last, grOf) <= mean(first, grOf)+10, "goroutines grew: %.0f -> %.0f", mean(first, grOf), mean(last, grOf))
	r.set("duration_s", time.Since(t0).Seconds())
}
