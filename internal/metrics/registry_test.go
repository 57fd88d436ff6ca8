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

// TestHandlerSharesRendering: concurrent scrapes asking for the same format get one rendering:
// the collector runs once and every scraper gets the same complete exposition.
func TestHandlerSharesRendering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newBlockingCollector()
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		h := Handler(reg, 0)
		const scrapers = 20
		bodies := make([]string, scrapers)
		codes := make([]int, scrapers)
		scrape := func(i int) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			h.ServeHTTP(rec, req)
			codes[i], bodies[i] = rec.Code, rec.Body.String()
			if rec.Header().Get("Content-Encoding") != "gzip" {
				t.Errorf("scraper %d: Content-Encoding %q, want gzip", i, rec.Header().Get("Content-Encoding"))
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() { scrape(0) })
		<-c.entered
		for i := 1; i < scrapers; i++ {
			wg.Go(func() { scrape(i) })
		}
		synctest.Wait()
		close(c.release)
		wg.Wait()
		if n := c.calls.Load(); n != 1 {
			t.Errorf("%d Collect calls for %d concurrent scrapes, want 1", n, scrapers)
		}
		for i := range scrapers {
			if codes[i] != 200 || bodies[i] != bodies[0] || len(bodies[i]) == 0 {
				t.Errorf("scraper %d: %d, %d bytes; want 200 and the same %d bytes as the first", i, codes[i], len(bodies[i]), len(bodies[0]))
			}
		}
	})
}

// TestSharedRenderOnePerFormat: the rendering itself (not only the gather) runs once for
// concurrent requests of one format, and once more for another format.
func TestSharedRenderOnePerFormat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		entered, release := make(chan struct{}, 10), make(chan struct{})
		s := &sharedRender{next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			entered <- struct{}{}
			<-release
			w.Header().Set("Content-Type", r.Header.Get("Accept"))
			_, _ = w.Write([]byte("rendered for " + r.Header.Get("Accept")))
		})}
		get := func(accept string) *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.Header.Set("Accept", accept)
			s.ServeHTTP(rec, req)
			return rec
		}
		var wg sync.WaitGroup
		recs := make([]*httptest.ResponseRecorder, 11)
		wg.Go(func() { recs[0] = get("text/plain") })
		<-entered
		for i := 1; i < 10; i++ {
			wg.Go(func() { recs[i] = get("text/plain") })
		}
		wg.Go(func() { recs[10] = get("application/openmetrics-text") })
		<-entered
		synctest.Wait()
		close(release)
		wg.Wait()
		if n := calls.Load(); n != 2 {
			t.Errorf("%d renderings for 10 text and 1 OpenMetrics request, want 2", n)
		}
		for i, rec := range recs {
			want := "rendered for text/plain"
			if i == 10 {
				want = "rendered for application/openmetrics-text"
			}
			if rec.Code != 200 || rec.Body.String() != want || rec.Header().Get("Content-Type") == "" {
				t.Errorf("request %d: %d %q %q, want 200 %q", i, rec.Code, rec.Body.String(), rec.Header().Get("Content-Type"), want)
			}
		}
	})
}
