// Package web is flowd's HTTP server: /metrics (from internal/metrics), /-/healthy, /-/ready,
// /-/reload (with --web.enable-lifecycle), the live view at / and its JSON document at
// /api/v1/live (docs/live-api.md), all under --web.route-prefix and behind exporter-toolkit's
// TLS and basic auth (--web.config.file).
//
// It bounds what clients can take: server timeouts, a connection limit (closing idle or silent
// connections first), a limit
// on concurrent scrapes and live documents (503 beyond), one rendering shared by concurrent
// scrapes, and a web config that becomes empty or invalid fails closed.
//
// The live view is plain HTML, CSS and JavaScript embedded in the binary (no CDN, no
// library); its chart comes from a bounded ring of samples of the aggregator's smallest window
// taken every 10 s in the process (History), never from Prometheus.
package web
