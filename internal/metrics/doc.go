// Package metrics is flowd's only importer of client_golang. It turns the aggregator's snapshot
// and the pipeline's own statistics into Prometheus metrics at scrape time (as node_exporter's
// collectors do: const metrics, so stale series vanish and no per-record metric call exists),
// keeps them in a registry of its own, and gives the /metrics handler (one rendering shared by
// concurrent scrapes, a bound on scrapes in flight). internal/web serves it.
//
// The metric names and labels are a public contract; see docs/architecture.md.
package metrics
