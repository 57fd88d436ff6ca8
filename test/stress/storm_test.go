//go:build stress

package stress

import (
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/flowd-dev/flowd/internal/emulator"
)

// stormQuota stands in front of the emulator: it records every FilterLogEvents request and,
// while active, lets through 1 request/s (burst 1), answering the others ThrottlingException in
// AWS's JSON shape, as CloudWatch Logs does when the account's quota is spent by other readers.
type stormQuota struct {
	active   atomic.Bool
	lim      *rate.Limiter
	rejected atomic.Int64
	mu       sync.Mutex
	arrivals []time.Time
}

func newStormQuota(perSecond float64) *stormQuota {
	return &stormQuota{lim: rate.NewLimiter(rate.Limit(perSecond), 1)}
}

func (q *stormQuota) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), "."+emulator.OpFilterLogEvents) {
			q.mu.Lock()
			q.arrivals = append(q.arrivals, time.Now())
			q.mu.Unlock()
			if q.active.Load() && !q.lim.Allow() {
				q.rejected.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.Header().Set("X-Amzn-Errortype", "ThrottlingException")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// maxInWindow is the most requests that arrived within any window of length d, and the number
// that arrived in [from, to).
func (q *stormQuota) maxInWindow(d time.Duration, from, to time.Time) (most, between int) {
	q.mu.Lock()
	a := append([]time.Time(nil), q.arrivals...)
	q.mu.Unlock()
	sort.Slice(a, func(i, j int) bool { return a[i].Before(a[j]) })
	j := 0
	for i := range a {
		for a[i].Sub(a[j]) >= d {
			j++
		}
		most = max(most, i-j+1)
		if !a[i].Before(from) && a[i].Before(to) {
			between++
		}
	}
	return most, between
}

// lagSample is flowd_ingest_lag_seconds at one scrape.
type lagSample struct {
	at  time.Time
	lag float64
}

// sampleLag scrapes every 500 ms until ctx ends and returns the lag samples.
func sampleLag(ctx context.Context, f *flowd, group string) func() []lagSample {
	var mu sync.Mutex
	var out []lagSample
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if s, err := f.scrape(); err == nil {
				mu.Lock()
				out = append(out, lagSample{s.at, s.value("flowd_ingest_lag_seconds", "log_group", group)})
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	return func() []lagSample {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}

// maxLag is the largest lag sampled in [from, to).
func maxLag(samples []lagSample, from, to time.Time) float64 {
	m := 0.0
	for _, s := range samples {
		if !s.at.Before(from) && s.at.Before(to) {
			m = max(m, s.lag)
		}
	}
	return m
}

// TestThrottlingStorm: for a bounded time the account's quota drops to 1 FilterLogEvents
// request/s and 30 % of the calls that pass it are answered ThrottlingException at random; small
// pages (100 events) make flowd need more than that quota. Then the quota comes back. flowd must
// lose nothing (exact counts), count every throttled answer, never send faster than its own
// limiter (5 requests/s), and its lag must come back to its calm level while records still flow.
func TestThrottlingStorm(t *testing.T) {
	t.Parallel()
	r := newResult(t, "throttling-storm")
	q := newStormQuota(1)
	c := newCloud(t, emulator.Config{Seed: 2, MaxPageEvents: 100}, "/stress/storm", q.wrap)
	feed := newSimFeed(t, c, simConfig(12, 40, scale(300, 300)))
	t0 := time.Now()
	f := startFlowd(t, c, simIngest())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calm, storm, recovery := 20*time.Second, scale(30*time.Second, 3*time.Minute), scale(40*time.Second, 2*time.Minute)
	stormStart := t0.Add(calm)
	stormEnd := stormStart.Add(storm)
	feedEnd := stormEnd.Add(recovery)
	wait := feed.runAsync(ctx, feedEnd)
	lags := sampleLag(ctx, f, c.group)

	time.Sleep(time.Until(stormStart))
	q.active.Store(true)
	if err := c.emu.SetFault(emulator.OpFilterLogEvents, emulator.Fault{Kind: emulator.FaultThrottle, Probability: 0.3}); err != nil {
		r.fatal("set fault: %v", err)
	}
	time.Sleep(time.Until(stormEnd))
	q.active.Store(false)
	c.emu.ClearFaults()
	if err := wait(); err != nil {
		r.fatal("feed: %v", err)
	}
	truth := feed.sim.Delivered()
	s, err := f.waitSettled(ctx, c.group, c.sink.maxTS.Load(), 4*time.Minute)
	cancel()
	samples := lags()
	if err != nil {
		r.fatal("%v", err)
	}
	compareTruth(r, s, truth)

	emu := c.filterCalls()
	most10, inStorm := q.maxInWindow(10*time.Second, stormStart, stormEnd)
	most1, _ := q.maxInWindow(time.Second, stormStart, stormEnd)
	flowdThrottled := s.value("flowd_ingest_api_requests_total", "operation", "FilterLogEvents", "outcome", "throttled")
	flowdCalls := s.value("flowd_ingest_api_requests_total", "operation", "FilterLogEvents")
	rejected := q.rejected.Load() + emu.Faulted + emu.Throttled
	_, arrivals := q.maxInWindow(time.Second, t0.Add(-time.Minute), time.Now())
	r.set("storm_s", storm.Seconds())
	r.set("rejected_quota", q.rejected.Load())
	r.set("rejected_fault", emu.Faulted)
	r.set("flowd_throttled", flowdThrottled)
	r.set("storm_req_per_s", float64(inStorm)/storm.Seconds())
	r.set("max_req_in_1s", most1)
	r.set("max_req_in_10s", most10)
	calmLag := maxLag(samples, t0.Add(10*time.Second), stormStart)
	stormLag := maxLag(samples, stormStart, stormEnd.Add(10*time.Second))
	endLag := maxLag(samples, feedEnd.Add(-8*time.Second), feedEnd)
	recoveredAfter := -1.0
	for _, x := range samples {
		if x.at.After(stormEnd) && x.lag <= calmLag+5 {
			recoveredAfter = x.at.Sub(stormEnd).Seconds()
			break
		}
	}
	r.set("lag_calm_max_s", calmLag)
	r.set("lag_storm_max_s", stormLag)
	r.set("lag_end_s", endLag)
	r.set("lag_recovered_after_s", recoveredAfter)
	r.check(q.rejected.Load() > 0 && emu.Faulted > 0, "the storm rejected nothing: it tests nothing")
	r.check(flowdThrottled == float64(rejected), "flowd counted %.0f throttled calls, the quota and the emulator rejected %d", flowdThrottled, rejected)
	r.check(flowdCalls == float64(arrivals), "flowd counted %.0f FilterLogEvents calls, %d arrived", flowdCalls, arrivals)
	// The limiter is 5 requests/s with a burst of 1: at most 51 in 10 s, plus 2 for scheduling jitter.
	r.check(most10 <= 53, "%d requests within 10 s: flowd exceeded its own limiter (5/s)", most10)
	r.check(stormLag > calmLag, "lag did not grow during the storm (calm %.1fs, storm %.1fs): the storm did not bite", calmLag, stormLag)
	r.check(recoveredAfter >= 0 && endLag <= calmLag+5, "lag did not recover: calm max %.1fs, last 8 s of the feed %.1fs", calmLag, endLag)
	r.set("duration_s", time.Since(t0).Seconds())
}
