package metrics

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus"
)

// blockingCollector counts its Collect calls and blocks each until release is closed.
type blockingCollector struct {
	desc    *prometheus.Desc
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func newBlockingCollector() *blockingCollector {
	return &blockingCollector{
		desc:    prometheus.NewDesc("test_value", "A value.", nil, nil),
		entered: make(chan struct{}, 100),
		release: make(chan struct{}),
	}
}

func (c *blockingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *blockingCollector) Collect(ch chan<- prometheus.Metric) {
	c.calls.Add(1)
	c.entered <- struct{}{}
	<-c.release
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1)
}

// TestSharedGathererSharesOneGather: scrapes that arrive while a gather runs wait for it and
// get its result; the collector runs once for all of them.
func TestSharedGathererSharesOneGather(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newBlockingCollector()
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		g := NewSharedGatherer(reg)
		const scrapers = 50
		var wg sync.WaitGroup
		results := make([]int, scrapers)
		wg.Add(1)
		go func() {
			defer wg.Done()
			mfs, err := g.Gather()
			if err == nil {
				results[0] = len(mfs)
			}
		}()
		<-c.entered // the first gather is in Collect
		for i := 1; i < scrapers; i++ {
			wg.Go(func() {
				mfs, err := g.Gather()
				if err == nil {
					results[i] = len(mfs)
				}
			})
		}
		synctest.Wait() // every scraper is waiting for the gather in flight
		close(c.release)
		wg.Wait()
		if n := c.calls.Load(); n != 1 {
			t.Errorf("%d Collect calls for %d concurrent scrapes, want 1", n, scrapers)
		}
		for i, n := range results {
			if n != 1 {
				t.Errorf("scraper %d got %d families, want 1", i, n)
			}
		}
		// A later gather runs anew (nothing is cached past the one in flight).
		c.release = make(chan struct{})
		close(c.release)
		if _, err := g.Gather(); err != nil {
			t.Fatal(err)
		}
		if n := c.calls.Load(); n != 2 {
			t.Errorf("%d Collect calls after a second, sequential gather, want 2", n)
		}
	})
}

// TestHandlerMaxRequests: over maxRequests scrapes in flight, the next one gets 503 at once.
func TestHandlerMaxRequests(t *testing.T) {
	t.Parallel()
	c := newBlockingCollector()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	h := Handler(reg, 1)
	first := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		first <- rec.Code
	}()
	<-c.entered // the first scrape holds the only slot
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("second scrape: %d, want 503", rec.Code)
	}
	close(c.release)
	if code := <-first; code != 200 {
		t.Errorf("first scrape: %d, want 200", code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Errorf("scrape after the first ended: %d, want 200", rec.Code)
	}
}
