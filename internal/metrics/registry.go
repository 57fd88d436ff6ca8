package metrics

import (
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
// (promhttp_metric_handler_requests_total). Concurrent scrapes share one gather (one snapshot
// and one set of metric families: the memory of a scrape no longer grows with the number of
// scrapers), and at most maxRequests scrapes are served at once; the others get 503 at once,
// as exporters do with --web.max-requests. maxRequests <= 0 means no limit.
func Handler(reg *prometheus.Registry, maxRequests int) http.Handler {
	return promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(NewSharedGatherer(reg), promhttp.HandlerOpts{
		Registry:            reg,
		ErrorHandling:       promhttp.ContinueOnError,
		EnableOpenMetrics:   true,
		MaxRequestsInFlight: max(maxRequests, 0),
	}))
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
