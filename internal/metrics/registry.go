package metrics

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sync/singleflight"
)

// NewRegistry returns a registry of its own (never the global one) holding flowd's collector
// and the Go and process collectors.
func NewRegistry(c *Collector) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, col := range []prometheus.Collector{
		c,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// Handler serves reg's metrics, counting its own requests in reg
// (promhttp_metric_handler_requests_total, every request counted, shared or not).
//
// Concurrent scrapes share one rendering: scrapes that ask for the same format and encoding
// while one is being rendered wait for it and get the same bytes, and renderings of different
// formats share one gather (SharedGatherer). So N concurrent scrapers cost one snapshot and one
// encoding, and the memory of scraping does not grow with their number. At most maxRequests
// scrapes are in flight; the others get 503 at once, as exporters do with --web.max-requests.
// maxRequests <= 0 means no limit.
func Handler(reg *prometheus.Registry, maxRequests int) http.Handler {
	render := promhttp.HandlerFor(NewSharedGatherer(reg), promhttp.HandlerOpts{
		Registry:          reg,
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
	var h http.Handler = &sharedRender{next: render}
	if maxRequests > 0 {
		h = limitInFlight(maxRequests, h)
	}
	return promhttp.InstrumentMetricHandler(reg, h)
}

// limitInFlight answers 503 at once to requests beyond n in flight.
func limitInFlight(n int, next http.Handler) http.Handler {
	sem := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
			next.ServeHTTP(w, r)
		default:
			http.Error(w, fmt.Sprintf("Limit of concurrent scrapes reached (%d, --web.max-requests), try again later.", n), http.StatusServiceUnavailable)
		}
	})
}

// sharedRender runs one rendering for concurrent requests that would get the same bytes:
// same format and encoding negotiated (Accept, Accept-Encoding) and same query.
type sharedRender struct {
	next  http.Handler
	group singleflight.Group
}

// rendering is a recorded response.
type rendering struct {
	code   int
	header http.Header
	body   []byte
}

func (s *sharedRender) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Accept") + "\x00" + r.Header.Get("Accept-Encoding") + "\x00" + r.URL.RawQuery
	v, _, _ := s.group.Do(key, func() (any, error) {
		rec := &recorder{header: http.Header{}}
		s.next.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		return &rendering{code: rec.code, header: rec.header, body: rec.body.Bytes()}, nil
	})
	out := v.(*rendering)
	h := w.Header()
	for k, vs := range out.header {
		h[k] = append([]string(nil), vs...)
	}
	w.WriteHeader(out.code)
	_, _ = w.Write(out.body)
}

// recorder is a ResponseWriter that keeps the response in memory.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(p)
}

// SharedGatherer is a Gatherer whose concurrent Gather calls share one call of the gatherer
// it wraps: a scrape that arrives while a gather is running waits for that gather and gets
// its result, so N concurrent scrapes cost one snapshot, not N. The families returned are
// shared between the callers and must be treated as read-only (the exposition encoders only
// read them).
type SharedGatherer struct {
	g     prometheus.Gatherer
	group singleflight.Group
}

// NewSharedGatherer wraps g.
func NewSharedGatherer(g prometheus.Gatherer) *SharedGatherer { return &SharedGatherer{g: g} }

// gathered carries Gather's two results through singleflight.
type gathered struct {
	mfs []*dto.MetricFamily
	err error
}

// Gather returns the result of the gather in flight, or of a new one if none is.
func (s *SharedGatherer) Gather() ([]*dto.MetricFamily, error) {
	v, _, _ := s.group.Do("gather", func() (any, error) {
		mfs, err := s.g.Gather()
		return gathered{mfs, err}, nil
	})
	r := v.(gathered)
	return r.mfs, r.err
}
