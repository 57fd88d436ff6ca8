//go:build stress

package stress

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/emulator"
)

var perf = flag.Bool("perf", false, "run the ingest performance measurements (TestThroughput, TestAPIEfficiency); scripts/bench.sh sets it")

// flowLine renders a plausible default-format record number i starting at ts (Unix seconds).
func flowLine(i int, ts int64) string {
	return fmt.Sprintf("2 123456789012 eni-%017x 198.51.%d.%d 10.0.%d.%d %d %d 6 %d %d %d %d ACCEPT OK",
		i%500, i/250%250, i%250+1, i%4, i%250+1, 32768+i%28000, []int{443, 80, 22, 5432, 3306}[i%5], 1+i%50, 100+i%9000, ts, ts+30)
}

// TestThroughput measures the events/s one flowd reads, parses and aggregates from the
// emulator: a backlog of events (the last 10 minutes of 4 log groups) is put before flowd
// starts, and the clock runs from start until flowd_records_total{status="ok"} holds them all.
// Once with the quota lifted (emulator unlimited, requests_per_second 1000) and once with the
// AWS quota of 5 FilterLogEvents requests/s (emulator and flowd). The emulator runs in the test
// process on the same machine, so the two share the CPU.
func TestThroughput(t *testing.T) {
	if !*perf {
		t.Skip("performance measurement: run with -perf (scripts/bench.sh)")
	}
	for _, tc := range []struct {
		name  string
		quota float64 // emulator FilterLogEvents req/s; <0 unlimited
		rps   float64
	}{{"throughput-unlimited", -1, 1000}, {"throughput-quota-5", 5, 5}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newResult(t, tc.name)
			const groups = 4
			total := scale(1_000_000, 4_000_000)
			c := newCloud(t, emulator.Config{Seed: 8, RateLimits: map[string]float64{emulator.OpFilterLogEvents: tc.quota}}, "/stress/tp-0", nil)
			names := []string{c.group}
			for g := 1; g < groups; g++ {
				names = append(names, fmt.Sprintf("/stress/tp-%d", g))
				if err := c.emu.CreateLogGroup(names[g]); err != nil {
					r.fatal("%v", err)
				}
			}
			now := time.Now()
			base := now.Add(-10 * time.Minute).UnixMilli()
			const chunk = 10000
			sinks := make([]*emuSink, groups)
			for g := range sinks {
				sinks[g] = &emuSink{emu: c.emu, group: names[g], streams: map[string]bool{}}
			}
			for k := range total / chunk {
				sink := sinks[k%groups]
				events := make([]emulator.InputEvent, chunk)
				span := int64(9 * 60 * 1000)
				for j := range events {
					i := k*chunk + j
					ts := base + span*int64(i)/int64(total)
					events[j] = emulator.InputEvent{Timestamp: ts, Message: flowLine(i, ts/1000)}
				}
				if err := sink.put(fmt.Sprintf("eni-%02d", k/groups%100), events); err != nil {
					r.fatal("put: %v", err)
				}
			}
			p := ingestParams{PollInterval: "30s", MaxDelay: "10s", LateGrace: "5s", EarlyPasses: "[]", MaxDefer: "0s",
				StartPosition: "-15m", RequestsPerSecond: tc.rps, MaxInFlight: 4, CheckpointInterval: "5s", Groups: names}
			t0 := time.Now()
			f := startFlowd(t, c, p)
			var s *scrape
			for {
				var err error
				s, err = f.scrape()
				if err == nil && s.value("flowd_records_total", "status", "ok") >= float64(total) {
					break
				}
				if time.Since(t0) > 10*time.Minute {
					r.fatal("not done after 10 minutes")
				}
				time.Sleep(100 * time.Millisecond)
			}
			elapsed := time.Since(t0)
			cpu, err := f.cpuSeconds()
			if err != nil {
				r.fatal("%v", err)
			}
			_, peak, _ := f.memory()
			calls := s.value("flowd_ingest_api_requests_total", "operation", "FilterLogEvents")
			ok := s.value("flowd_records_total", "status", "ok")
			r.set("groups", groups)
			r.set("events", total)
			r.set("seconds", elapsed.Seconds())
			r.set("events_per_s", float64(total)/elapsed.Seconds())
			r.set("flowd_cpu_s", cpu)
			r.set("events_per_cpu_s", float64(total)/cpu)
			r.set("calls", calls)
			minCalls := 0.0
			for _, sk := range sinks {
				minCalls += minPages(sk)
			}
			r.set("calls_min", minCalls)
			r.set("peak_rss_mib", float64(peak)/(1<<20))
			r.check(ok == float64(total), "flowd counted %.0f records, %d put", ok, total)
		})
	}
}

// TestAPIEfficiency measures FilterLogEvents calls per million events in a steady run against
// the minimum (minPages: 10,000 events or 1 MiB per page): events arrive at a steady rate, each 5-35 s after its
// timestamp, and flowd runs the default pass schedule scaled down 10 times (poll_interval 3s,
// max_delay 90s, late_grace 30s, max_defer 12s), once with the early pass (30s, the scaled 5m)
// and once without.
func TestAPIEfficiency(t *testing.T) {
	if !*perf {
		t.Skip("performance measurement: run with -perf (scripts/bench.sh)")
	}
	for _, tc := range []struct {
		name  string
		early string
	}{{"api-efficiency-early-pass", "[30s]"}, {"api-efficiency-no-early-pass", "[]"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newResult(t, tc.name)
			c := newCloud(t, emulator.Config{Seed: 9}, "/stress/"+tc.name, nil)
			p := ingestParams{PollInterval: "3s", MaxDelay: "90s", LateGrace: "30s", EarlyPasses: tc.early, MaxDefer: "12s",
				StartPosition: "-1m", RequestsPerSecond: 5, MaxInFlight: 4, CheckpointInterval: "5s"}
			t0 := time.Now()
			f := startFlowd(t, c, p)
			rate := scale(2000, 4000) // events/s
			runFor := scale(2*time.Minute, 5*time.Minute)
			rng := rand.New(rand.NewPCG(9, 9))
			const streams = 50
			pending := map[int][]emulator.InputEvent{}
			i := 0
			for time.Since(t0) < runFor {
				tick := time.Now()
				for range rate / 10 {
					ts := tick.Add(-time.Duration(5000+rng.IntN(30000)) * time.Millisecond).UnixMilli()
					st := i % streams
					pending[st] = append(pending[st], emulator.InputEvent{Timestamp: ts, Message: flowLine(i, ts/1000)})
					i++
				}
				for st, evs := range pending {
					// PutLogEvents wants time order within a call.
					sortEvents(evs)
					if err := c.sink.put(fmt.Sprintf("eni-%02d", st), evs); err != nil {
						r.fatal("put: %v", err)
					}
					delete(pending, st)
				}
				time.Sleep(time.Until(tick.Add(100 * time.Millisecond)))
			}
			s, err := f.waitSettled(context.Background(), c.group, c.sink.maxTS.Load(), 5*time.Minute)
			if err != nil {
				r.fatal("%v", err)
			}
			events := float64(c.sink.events.Load())
			calls := s.value("flowd_ingest_api_requests_total", "operation", "FilterLogEvents")
			okCalls := s.value("flowd_ingest_api_requests_total", "operation", "FilterLogEvents", "outcome", "ok")
			r.set("events", events)
			r.set("rate_per_s", rate)
			r.set("calls", calls)
			r.set("calls_per_million", okCalls*1e6/events)
			r.set("min_per_million", minPages(c.sink)*1e6/events)
			r.set("ratio_to_min", okCalls/minPages(c.sink))
			r.set("throttled", s.value("flowd_ingest_api_requests_total", "operation", "FilterLogEvents", "outcome", "throttled"))
			r.set("duplicates_dropped", s.value("flowd_ingest_duplicate_events_total"))
			got := s.value("flowd_records_total", "status", "ok")
			r.check(got == events, "flowd counted %.0f records, %0.f put", got, events)
		})
	}
}

// minPages is the fewest FilterLogEvents pages that can return what sink put: pages hold at
// most 10,000 events and 1 MiB (message bytes + 26 per event).
func minPages(sink *emuSink) float64 {
	return max(math.Ceil(float64(sink.events.Load())/10000), math.Ceil(float64(sink.bytes.Load())/(1<<20)))
}

// sortEvents orders events by timestamp (insertion sort: the batches are small and nearly sorted).
func sortEvents(evs []emulator.InputEvent) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Timestamp < evs[j-1].Timestamp; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}
