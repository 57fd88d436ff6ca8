package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/metrics"
	"github.com/flowd-dev/flowd/internal/parse"
)

// LivePath is the path of the live view's JSON document (docs/live-api.md).
const LivePath = "/api/v1/live"

// LiveSchemaVersion is the version of the document's schema. Fields may be added within a
// version; a field that changes meaning or goes away makes a new version (and a new path).
const LiveSchemaVersion = 1

// How much of each list the document carries, and what "spiking" means: a key whose rate in
// the smallest window is at least spikeFactor times its rate over the largest window, with at
// least spikeMinFlows flows in the smallest window.
const (
	liveTopN      = 10
	spikeFactor   = 2.0
	spikeMinFlows = 10
)

// Live is the document served on LivePath.
type Live struct {
	SchemaVersion int       `json:"schema_version"`
	GeneratedAt   time.Time `json:"generated_at"`
	Version       string    `json:"flowd_version,omitempty"`
	// HasEvents is false until the first record with a start time; Watermark is meaningful
	// only then.
	HasEvents bool      `json:"has_events"`
	Watermark time.Time `json:"watermark,omitzero"`
	// Totals are the cumulative counts by action (flowd_flows_total etc. summed by action).
	Totals map[string]LiveCounts `json:"totals"`
	// History is the chart: flows per second over the smallest window, one point per step.
	History LiveHistory `json:"history"`
	// Spiking lists what is spiking now: rejected flows overall, ports, sources.
	Spiking LiveSpiking `json:"spiking"`
	// Windows are the sliding windows, smallest first.
	Windows []LiveWindow `json:"windows"`
	// Interfaces are the interfaces with the most rejected flows (cumulative).
	Interfaces []LiveInterface `json:"interfaces"`
	Sources    []LiveSource    `json:"sources"`
	Checkpoint *LiveCheckpoint `json:"checkpoint,omitempty"`
	Pipeline   *LivePipeline   `json:"pipeline,omitempty"`
	Reload     *LiveReload     `json:"reload,omitempty"`
	Endpoints  []LiveEndpoint  `json:"endpoints"`
	Notes      []string        `json:"notes,omitempty"`
}

// LiveCounts are flows, packets and bytes.
type LiveCounts struct {
	Flows   uint64 `json:"flows"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// LiveHistory is the chart's series.
type LiveHistory struct {
	StepSeconds float64     `json:"step_seconds"`
	Window      string      `json:"window"`
	Points      []LivePoint `json:"points"`
}

// LivePoint is one chart point.
type LivePoint struct {
	Time            time.Time `json:"t"`
	Watermark       time.Time `json:"watermark"`
	AcceptPerSecond float64   `json:"accept_per_second"`
	RejectPerSecond float64   `json:"reject_per_second"`
}

// LiveSpiking compares the smallest window (Now) with the largest (Baseline).
type LiveSpiking struct {
	Now      string `json:"now_window,omitempty"`
	Baseline string `json:"baseline_window,omitempty"`
	// Rejected is true when all rejected flows together spike.
	Rejected bool     `json:"rejected"`
	Ports    []string `json:"ports"`
	Sources  []string `json:"sources"`
}

// LiveWindow is one sliding window.
type LiveWindow struct {
	Window             string         `json:"window"`
	Start              time.Time      `json:"start,omitzero"`
	End                time.Time      `json:"end,omitzero"`
	AcceptFlows        uint64         `json:"accept_flows"`
	RejectFlows        uint64         `json:"reject_flows"`
	TopRejectedPorts   []LivePort     `json:"top_rejected_ports"`
	TopRejectedSources []LiveRejected `json:"top_rejected_sources"`
	ScanCandidates     []LiveScan     `json:"scan_candidates"`
}

// LivePort is a port's rejected flows in a window (flowd_window_flows{action="reject"}).
type LivePort struct {
	Port    string `json:"port"`
	Flows   uint64 `json:"flows"`
	Spiking bool   `json:"spiking"`
}

// LiveRejected is a source's rejected flows in a window (flowd_window_top_rejected_source_flows).
type LiveRejected struct {
	Src     string `json:"src_addr"`
	Flows   uint64 `json:"flows"`
	Spiking bool   `json:"spiking"`
}

// LiveScan is a scan candidate (flowd_window_scan_candidate_ports).
type LiveScan struct {
	Src           string `json:"src_addr"`
	DistinctPorts int    `json:"distinct_ports"`
	// Saturated means "at least DistinctPorts": more ports than flowd counts exactly.
	Saturated bool `json:"saturated"`
}

// LiveInterface is an interface's cumulative flows (flowd_interface_flows_total).
type LiveInterface struct {
	ID          string `json:"interface_id"`
	AcceptFlows uint64 `json:"accept_flows"`
	RejectFlows uint64 `json:"reject_flows"`
}

// LiveSource is the health of one ingest source.
type LiveSource struct {
	Name     string `json:"name"`
	LogGroup string `json:"log_group"`
	Events   uint64 `json:"events_read"`
	// LagSeconds is null while the source has read no event (the lag is unknown, not 0).
	LagSeconds  *float64  `json:"lag_seconds"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	Behind      bool      `json:"behind"`
	// Calls are the FilterLogEvents attempts by outcome (ok, throttled, error).
	Calls   map[string]uint64 `json:"filter_log_events_calls"`
	Retries uint64            `json:"retries"`
	// Up is whether the latest API attempt succeeded; LastError is why it failed (one of a few
	// fixed reasons, as flowd_ingest_source_last_error_info), "" when it did not.
	Up        bool   `json:"up"`
	LastError string `json:"last_error,omitempty"`
}

// LiveCheckpoint is the state of checkpoint writes.
type LiveCheckpoint struct {
	LastSuccess time.Time `json:"last_success,omitzero"`
	// AgeSeconds is null before the first successful write.
	AgeSeconds *float64 `json:"age_seconds"`
	Failures   uint64   `json:"failures"`
	SizeBytes  int64    `json:"size_bytes"`
}

// LivePipeline is the state of the parse pipeline.
type LivePipeline struct {
	Records       map[string]uint64 `json:"records"`
	QueueDepth    int               `json:"queue_depth"`
	QueueCapacity int               `json:"queue_capacity"`
}

// LiveReload is the state of config reloads.
type LiveReload struct {
	Successful  bool      `json:"successful"`
	LastSuccess time.Time `json:"last_success,omitzero"`
}

// LiveEndpoint is a link the page lists, relative to the route prefix.
type LiveEndpoint struct {
	Path        string `json:"path"`
	Description string `json:"description"`
}

// liveBuilder builds the document from the inputs.
type liveBuilder struct {
	in        metrics.Inputs
	status    func() Status
	history   *History
	endpoints []LiveEndpoint
	now       func() time.Time
}

// build assembles the document at the current moment.
func (b *liveBuilder) build() *Live {
	now := b.now()
	l := &Live{
		SchemaVersion: LiveSchemaVersion,
		GeneratedAt:   now.UTC(),
		Totals:        map[string]LiveCounts{"accept": {}, "reject": {}},
		Windows:       []LiveWindow{},
		Interfaces:    []LiveInterface{},
		Sources:       []LiveSource{},
		Endpoints:     b.endpoints,
		History:       LiveHistory{StepSeconds: historyStep.Seconds(), Points: []LivePoint{}},
		Spiking:       LiveSpiking{Ports: []string{}, Sources: []string{}},
	}
	if b.status != nil {
		st := b.status()
		l.Version, l.Notes = st.Version, st.Extra
	}
	var snap *aggregate.Snapshot
	if b.in.Snapshot != nil {
		snap = b.in.Snapshot()
	}
	if snap != nil {
		b.addSnapshot(l, snap)
	}
	for _, p := range b.history.Points() {
		l.History.Points = append(l.History.Points, LivePoint{
			Time: p.Time.UTC(), Watermark: p.Watermark.UTC(), AcceptPerSecond: p.Accept, RejectPerSecond: p.Reject,
		})
	}
	if b.in.Ingest != nil {
		l.Sources = liveSources(b.in.Ingest())
	}
	if b.in.Checkpoint != nil {
		if cp := b.in.Checkpoint(); cp.Enabled {
			c := &LiveCheckpoint{LastSuccess: cp.LastSuccess.UTC(), Failures: cp.Failures, SizeBytes: cp.Bytes}
			if !cp.LastSuccess.IsZero() {
				age := now.Sub(cp.LastSuccess).Seconds()
				c.AgeSeconds = &age
			} else {
				c.LastSuccess = time.Time{}
			}
			l.Checkpoint = c
		}
	}
	if b.in.Pipeline != nil {
		p := b.in.Pipeline()
		l.Pipeline = &LivePipeline{
			Records: map[string]uint64{
				"ok": p.Records.OK, "nodata": p.Records.NoData, "skipdata": p.Records.SkipData,
				"malformed": p.Records.Malformed, "unmatched": p.Records.Unmatched,
			},
			QueueDepth: p.QueueDepth, QueueCapacity: p.QueueCapacity,
		}
	}
	if b.in.Reload != nil {
		r := b.in.Reload()
		l.Reload = &LiveReload{Successful: r.Successful, LastSuccess: r.LastSuccess.UTC()}
	}
	return l
}

func (b *liveBuilder) addSnapshot(l *Live, s *aggregate.Snapshot) {
	for _, t := range s.Totals {
		l.Totals[metrics.ActionLabel(t.Action)] = LiveCounts{Flows: t.Flows, Packets: t.Packets, Bytes: t.Bytes}
	}
	l.Interfaces = topInterfaces(s.Interfaces)
	if !s.HasEvents {
		return
	}
	l.HasEvents = true
	l.Watermark = s.Watermark.UTC()
	small, large := smallestWindow(s), largestWindow(s)
	if small != nil {
		l.History.Window = metrics.WindowLabel(small.Width)
	}
	spikes := spikesOf(small, large)
	if small != nil && large != nil && small.Width < large.Width {
		l.Spiking.Now, l.Spiking.Baseline = metrics.WindowLabel(small.Width), metrics.WindowLabel(large.Width)
		l.Spiking.Rejected = spikes.rejected
		l.Spiking.Ports = sortedKeys(spikes.ports)
		l.Spiking.Sources = sortedKeys(spikes.sources)
	}
	ws := slices.Clone(s.Windows)
	slices.SortStableFunc(ws, func(a, b aggregate.Window) int { return cmp.Compare(a.Width, b.Width) })
	for _, w := range ws {
		acc, rej := actionFlows(w.Ports)
		lw := LiveWindow{
			Window: metrics.WindowLabel(w.Width), Start: w.Start.UTC(), End: w.End.UTC(),
			AcceptFlows: acc, RejectFlows: rej,
			TopRejectedPorts:   []LivePort{},
			TopRejectedSources: []LiveRejected{},
			ScanCandidates:     []LiveScan{},
		}
		for _, p := range rejectedPorts(w.Ports) {
			if len(lw.TopRejectedPorts) == liveTopN {
				break
			}
			lw.TopRejectedPorts = append(lw.TopRejectedPorts, LivePort{Port: p.port, Flows: p.flows, Spiking: spikes.ports[p.port]})
		}
		for _, r := range w.TopRejectedSources[:min(len(w.TopRejectedSources), liveTopN)] {
			src := r.Src.String()
			lw.TopRejectedSources = append(lw.TopRejectedSources, LiveRejected{Src: src, Flows: r.Flows, Spiking: spikes.sources[src]})
		}
		for _, r := range w.ScanCandidates[:min(len(w.ScanCandidates), liveTopN)] {
			lw.ScanCandidates = append(lw.ScanCandidates, LiveScan{Src: r.Src.String(), DistinctPorts: r.DistinctPorts, Saturated: r.PortsSaturated})
		}
		l.Windows = append(l.Windows, lw)
	}
}

// portFlows is a port label and its flows.
type portFlows struct {
	port  string
	flows uint64
}

// rejectedPorts sums the rejected flows of each port over its protocols (as the
// flowd_window_flows family does), most flows first.
func rejectedPorts(ports []aggregate.PortCounts) []portFlows {
	sums := map[string]uint64{}
	for _, p := range ports {
		if p.Action == parse.ActionReject && p.Flows > 0 {
			sums[metrics.PortLabel(p.Port, p.Other)] += p.Flows
		}
	}
	out := make([]portFlows, 0, len(sums))
	for k, v := range sums {
		out = append(out, portFlows{k, v})
	}
	slices.SortFunc(out, func(a, b portFlows) int {
		if c := cmp.Compare(b.flows, a.flows); c != 0 {
			return c
		}
		return cmp.Compare(a.port, b.port)
	})
	return out
}

// spikeSet is what spikes in the smallest window against the largest.
type spikeSet struct {
	rejected bool
	ports    map[string]bool
	sources  map[string]bool
}

// spiking reports whether n flows in now (seconds) are at least spikeFactor times the rate of
// base flows in baseline (seconds). The baseline window contains the smaller one, so its count
// is at least n even when a top-K list does not show it.
func spiking(n, base uint64, now, baseline float64) bool {
	if n < spikeMinFlows || now <= 0 || baseline <= 0 {
		return false
	}
	base = max(base, n)
	return float64(n)/now >= spikeFactor*float64(base)/baseline
}

func spikesOf(small, large *aggregate.Window) spikeSet {
	s := spikeSet{ports: map[string]bool{}, sources: map[string]bool{}}
	if small == nil || large == nil || small.Width >= large.Width {
		return s
	}
	ns, nl := small.Width.Seconds(), large.Width.Seconds()
	_, rs := actionFlows(small.Ports)
	_, rl := actionFlows(large.Ports)
	s.rejected = spiking(rs, rl, ns, nl)
	base := map[string]uint64{}
	for _, p := range rejectedPorts(large.Ports) {
		base[p.port] = p.flows
	}
	for _, p := range rejectedPorts(small.Ports) {
		if spiking(p.flows, base[p.port], ns, nl) {
			s.ports[p.port] = true
		}
	}
	baseSrc := map[string]uint64{}
	for _, r := range large.TopRejectedSources {
		baseSrc[r.Src.String()] = r.Flows
	}
	for _, r := range small.TopRejectedSources {
		src := r.Src.String()
		if spiking(r.Flows, baseSrc[src], ns, nl) {
			s.sources[src] = true
		}
	}
	return s
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// topInterfaces are the liveTopN interfaces with the most rejected flows, then accepted.
func topInterfaces(ifaces []aggregate.InterfaceCounts) []LiveInterface {
	by := map[string]*LiveInterface{}
	var order []string
	for _, i := range ifaces {
		li, ok := by[i.InterfaceID]
		if !ok {
			li = &LiveInterface{ID: i.InterfaceID}
			by[i.InterfaceID] = li
			order = append(order, i.InterfaceID)
		}
		switch i.Action {
		case parse.ActionAccept:
			li.AcceptFlows += i.Flows
		case parse.ActionReject:
			li.RejectFlows += i.Flows
		}
	}
	out := make([]LiveInterface, 0, len(order))
	for _, id := range order {
		out = append(out, *by[id])
	}
	slices.SortFunc(out, func(a, b LiveInterface) int {
		if c := cmp.Compare(b.RejectFlows, a.RejectFlows); c != 0 {
			return c
		}
		if c := cmp.Compare(b.AcceptFlows, a.AcceptFlows); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if len(out) > liveTopN {
		out = out[:liveTopN]
	}
	return out
}

// liveSources is the health of every source.
func liveSources(st ingest.Stats) []LiveSource {
	out := make([]LiveSource, 0, len(st.Sources))
	for _, src := range st.Sources {
		ls := LiveSource{
			Name: src.Name, LogGroup: src.LogGroup, Events: src.EventsRead,
			LastSuccess: src.LastSuccessfulPoll.UTC(), Behind: src.Behind,
			Calls:   map[string]uint64{},
			Retries: src.API.Retries[ingest.OpFilterLogEvents],
			Up:      src.Up, LastError: src.LastError,
		}
		if src.LastSuccessfulPoll.IsZero() {
			ls.LastSuccess = time.Time{}
		}
		if !src.NewestIngestion.IsZero() {
			lag := src.Lag.Seconds()
			ls.LagSeconds = &lag
		}
		for _, oc := range []ingest.Outcome{ingest.OutcomeOK, ingest.OutcomeThrottled, ingest.OutcomeError} {
			ls.Calls[oc.String()] = src.API.Calls[ingest.OpFilterLogEvents][oc]
		}
		out = append(out, ls)
	}
	return out
}

// liveMaxAge is how long a built document is served again: the page refreshes every 5 s, so a
// document up to 1 s old changes nothing for it, and a client fetching in a loop costs one
// build per second instead of one per request.
const liveMaxAge = time.Second

// liveHandler serves the document. Concurrent requests share one build, a build is reused for
// liveMaxAge, and at most limit requests are served at once (503 beyond), so a wall of open
// browser tabs costs what one does and scrapes are not slowed.
type liveHandler struct {
	b     *liveBuilder
	group singleflight.Group
	sem   chan struct{}

	mu      sync.Mutex
	cached  []byte
	builtAt time.Time // wall clock, monotonic
}

func newLiveHandler(cfg Config, h *History, extra []string, limit int) *liveHandler {
	eps := []LiveEndpoint{
		{"metrics", "the metrics, for Prometheus"},
		{LivePath[1:], "this page's data as JSON (docs/live-api.md)"},
		{"-/healthy", "the process is alive"},
		{"-/ready", "at least one source was read"},
	}
	for _, p := range extra {
		eps = append(eps, LiveEndpoint{p[1:], "extra endpoint"})
	}
	if cfg.Pprof {
		eps = append(eps, LiveEndpoint{"debug/pprof/", "Go profiles"})
	}
	lh := &liveHandler{b: &liveBuilder{in: cfg.Inputs, status: cfg.Status, history: h, endpoints: eps, now: cfg.now}}
	if limit > 0 {
		lh.sem = make(chan struct{}, limit)
	}
	return lh
}

func (h *liveHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	if h.sem != nil {
		select {
		case h.sem <- struct{}{}:
			defer func() { <-h.sem }()
		default:
			http.Error(w, "too many concurrent requests, retry later", http.StatusServiceUnavailable)
			return
		}
	}
	doc, err := h.document()
	if err != nil {
		http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(doc)
}

// document returns the encoded document: the cached one if fresh, else a new build shared
// by the requests that wait for it.
func (h *liveHandler) document() ([]byte, error) {
	h.mu.Lock()
	if h.cached != nil && time.Since(h.builtAt) < liveMaxAge {
		doc := h.cached
		h.mu.Unlock()
		return doc, nil
	}
	h.mu.Unlock()
	v, err, _ := h.group.Do("live", func() (any, error) {
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(h.b.build()); err != nil {
			return nil, err
		}
		h.mu.Lock()
		h.cached, h.builtAt = buf.Bytes(), time.Now()
		h.mu.Unlock()
		return buf.Bytes(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}
