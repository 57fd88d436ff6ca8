package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/parse"
)

// Collector builds flowd's metrics from its Inputs at each scrape.
type Collector struct {
	in    Inputs
	build BuildInfo
	d     *descs
	td    *tgwDescs
	// now times the scrape; tests fix it so the golden file holds a known duration.
	now func() time.Time
}

// NewCollector returns a Collector over in.
func NewCollector(in Inputs, build BuildInfo) *Collector {
	return &Collector{in: in, build: build, d: newDescs(), td: newTGWDescs(), now: time.Now}
}

// Describe sends every descriptor.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.d.all() {
		ch <- d
	}
	for _, d := range c.td.all() {
		ch <- d
	}
}

// Collect builds every metric from the current inputs.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	start := c.now()
	ch <- prometheus.MustNewConstMetric(c.d.buildInfo, prometheus.GaugeValue, 1, c.build.Version, c.build.Revision, c.build.GoVersion)
	if c.in.Snapshot != nil {
		if s := c.in.Snapshot(); s != nil {
			c.collectSnapshot(ch, s)
		}
	}
	if c.in.Pipeline != nil {
		c.collectPipeline(ch, c.in.Pipeline())
	}
	if c.in.Ingest != nil {
		c.collectIngest(ch, c.in.Ingest())
	}
	if c.in.Checkpoint != nil {
		if cp := c.in.Checkpoint(); cp.Enabled {
			ch <- prometheus.MustNewConstMetric(c.d.checkpointSuccess, prometheus.GaugeValue, UnixSeconds(cp.LastSuccess))
			ch <- prometheus.MustNewConstMetric(c.d.checkpointFailures, prometheus.CounterValue, float64(cp.Failures))
			ch <- prometheus.MustNewConstMetric(c.d.checkpointBytes, prometheus.GaugeValue, float64(cp.Bytes))
		}
	}
	if c.in.Reload != nil {
		r := c.in.Reload()
		ok := 0.0
		if r.Successful {
			ok = 1
		}
		ch <- prometheus.MustNewConstMetric(c.d.reloadOK, prometheus.GaugeValue, ok)
		ch <- prometheus.MustNewConstMetric(c.d.reloadTime, prometheus.GaugeValue, UnixSeconds(r.LastSuccess))
	}
	ch <- prometheus.MustNewConstMetric(c.d.scrapeDuration, prometheus.GaugeValue, c.now().Sub(start).Seconds())
}

func (c *Collector) collectSnapshot(ch chan<- prometheus.Metric, s *aggregate.Snapshot) {
	d := c.d
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	for _, p := range s.Ports {
		act, proto, port := ActionLabel(p.Action), ProtocolLabel(p.Protocol), PortLabel(p.Port, p.Other)
		counter(d.flows, p.Flows, act, proto, port)
		counter(d.packets, p.Packets, act, proto, port)
		counter(d.bytes, p.Bytes, act, proto, port)
	}
	for _, i := range s.Interfaces {
		act := ActionLabel(i.Action)
		counter(d.ifaceFlows, i.Flows, act, i.InterfaceID)
		counter(d.ifacePackets, i.Packets, act, i.InterfaceID)
		counter(d.ifaceBytes, i.Bytes, act, i.InterfaceID)
	}
	for _, st := range s.InterfaceStatus {
		counter(d.ifaceNoData, st.NoData, st.InterfaceID)
		counter(d.ifaceSkipData, st.SkipData, st.InterfaceID)
	}
	for _, r := range s.Invalid {
		counter(d.uncounted, r.Records, r.Reason.String())
	}
	counter(d.lateRecords, s.Late)
	counter(d.futureRecords, s.Future)
	counter(d.untimedRecords, s.Untimed)
	counter(d.foldedRecords, s.PortFold.Records, "port")
	counter(d.foldedRecords, s.InterfaceFold.Records, "interface")
	gauge(d.foldedKeys, float64(s.PortFold.DistinctKeys), "port")
	gauge(d.foldedKeys, float64(s.InterfaceFold.DistinctKeys), "interface")
	gauge(d.keys, float64(s.PortKeys), "port")
	gauge(d.keys, float64(s.InterfaceKeys), "interface")
	c.collectTGW(ch, &s.TGW)
	if !s.HasEvents {
		return
	}
	gauge(d.watermark, UnixSeconds(s.Watermark))
	for _, w := range s.Windows {
		win := WindowLabel(w.Width)
		c.collectWindowPorts(ch, win, w.Ports)
		for _, t := range w.TopTalkers {
			gauge(d.topTalker, float64(t.Bytes), win, t.Src.String(), t.Dst.String())
		}
		for _, r := range w.TopRejectedSources {
			gauge(d.topRejected, float64(r.Flows), win, r.Src.String())
		}
		for _, r := range w.ScanCandidates {
			gauge(d.scanPorts, float64(r.DistinctPorts), win, r.Src.String())
		}
	}
}

// windowPortKey is a window series: the contract has no protocol label on window families, so
// the protocols of one port are summed.
type windowPortKey struct {
	action parse.Action
	port   uint16
	other  bool
}

func (c *Collector) collectWindowPorts(ch chan<- prometheus.Metric, win string, ports []aggregate.PortCounts) {
	sums := make(map[windowPortKey]aggregate.Counts, len(ports))
	order := make([]windowPortKey, 0, len(ports))
	for _, p := range ports {
		k := windowPortKey{action: p.Action, port: p.Port, other: p.Other}
		v, seen := sums[k]
		if !seen {
			order = append(order, k)
		}
		v.Flows += p.Flows
		v.Packets += p.Packets
		v.Bytes += p.Bytes
		sums[k] = v
	}
	for _, k := range order {
		v := sums[k]
		act, port := ActionLabel(k.action), PortLabel(k.port, k.other)
		ch <- prometheus.MustNewConstMetric(c.d.winFlows, prometheus.GaugeValue, float64(v.Flows), win, act, port)
		ch <- prometheus.MustNewConstMetric(c.d.winPackets, prometheus.GaugeValue, float64(v.Packets), win, act, port)
		ch <- prometheus.MustNewConstMetric(c.d.winBytes, prometheus.GaugeValue, float64(v.Bytes), win, act, port)
	}
}

func (c *Collector) collectPipeline(ch chan<- prometheus.Metric, p PipelineStats) {
	d := c.d
	for _, r := range []struct {
		status string
		n      uint64
	}{{"ok", p.Records.OK}, {"nodata", p.Records.NoData}, {"skipdata", p.Records.SkipData}, {"malformed", p.Records.Malformed}, {"unmatched", p.Records.Unmatched}} {
		ch <- prometheus.MustNewConstMetric(d.records, prometheus.CounterValue, float64(r.n), r.status)
	}
	for _, r := range p.ParseErrors {
		ch <- prometheus.MustNewConstMetric(d.parseErrors, prometheus.CounterValue, float64(r.Count), r.Reason)
	}
	ch <- prometheus.MustNewConstMetric(d.panics, prometheus.CounterValue, float64(p.WorkerPanics))
	ch <- prometheus.MustNewConstMetric(d.queueDepth, prometheus.GaugeValue, float64(p.QueueDepth))
	ch <- prometheus.MustNewConstMetric(d.queueCapacity, prometheus.GaugeValue, float64(p.QueueCapacity))
	ch <- prometheus.MustNewConstMetric(d.workers, prometheus.GaugeValue, float64(p.Workers))
}

func (c *Collector) collectIngest(ch chan<- prometheus.Metric, s ingest.Stats) {
	d := c.d
	outcomes := []ingest.Outcome{ingest.OutcomeOK, ingest.OutcomeThrottled, ingest.OutcomeError}
	// By source, so a failing source can be found: 3 series per source (FilterLogEvents) and 3
	// for discovery (DescribeLogGroups, log_group=""). Sources are bounded by the config and
	// discovery, as every per-source family is.
	for _, oc := range outcomes {
		op := ingest.OpDescribeLogGroups
		ch <- prometheus.MustNewConstMetric(d.apiRequests, prometheus.CounterValue, float64(s.Discovery.Calls[op][oc]), "", op.String(), oc.String())
	}
	for _, src := range s.Sources {
		for _, oc := range outcomes {
			op := ingest.OpFilterLogEvents
			ch <- prometheus.MustNewConstMetric(d.apiRequests, prometheus.CounterValue, float64(src.API.Calls[op][oc]), src.Name, op.String(), oc.String())
		}
	}
	for _, op := range []ingest.Operation{ingest.OpFilterLogEvents, ingest.OpDescribeLogGroups} {
		ch <- prometheus.MustNewConstMetric(d.apiRetries, prometheus.CounterValue, float64(s.API.Retries[op]), op.String())
		ch <- prometheus.MustNewConstMetric(d.apiTimeouts, prometheus.CounterValue, float64(s.API.Timeouts[op]), op.String())
	}
	for _, src := range s.Sources {
		g := src.Name
		ch <- prometheus.MustNewConstMetric(d.pages, prometheus.CounterValue, float64(src.PagesEmpty), g, "empty")
		ch <- prometheus.MustNewConstMetric(d.pages, prometheus.CounterValue, float64(src.PagesNonEmpty), g, "nonempty")
		ch <- prometheus.MustNewConstMetric(d.events, prometheus.CounterValue, float64(src.EventsRead), g)
		ch <- prometheus.MustNewConstMetric(d.duplicates, prometheus.CounterValue, float64(src.DuplicatesDropped), g)
		ch <- prometheus.MustNewConstMetric(d.lateEvents, prometheus.CounterValue, float64(src.LateEvents), g)
		ch <- prometheus.MustNewConstMetric(d.tokenRestarts, prometheus.CounterValue, float64(src.TokenRestarts), g)
		if !src.NewestIngestion.IsZero() { // never read: lag unknown, not 0
			ch <- prometheus.MustNewConstMetric(d.lag, prometheus.GaugeValue, src.Lag.Seconds(), g)
		}
		up := 0.0
		if src.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(d.sourceUp, prometheus.GaugeValue, up, g)
		if src.LastError != "" {
			ch <- prometheus.MustNewConstMetric(d.sourceLastError, prometheus.GaugeValue, 1, g, src.LastError)
		}
		ch <- prometheus.MustNewConstMetric(d.ingestWatermark, prometheus.GaugeValue, UnixSeconds(src.Watermark), g)
		ch <- prometheus.MustNewConstMetric(d.lastSuccess, prometheus.GaugeValue, UnixSeconds(src.LastSuccessfulPoll), g)
		ch <- prometheus.MustNewConstMetric(d.dedupEntries, prometheus.GaugeValue, float64(src.DedupEntries), g)
		ch <- prometheus.MustNewConstMetric(d.dedupBytes, prometheus.GaugeValue, float64(src.DedupBytes), g)
		behind := 0.0
		if src.Behind {
			behind = 1
		}
		ch <- prometheus.MustNewConstMetric(d.behind, prometheus.GaugeValue, behind, g)
	}
}
