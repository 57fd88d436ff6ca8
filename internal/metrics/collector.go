package metrics

import (
	"slices"
	"sync/atomic"
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
	// pairHint and tgwPairHint size the label pair maps of a scrape (series.go).
	pairHint, tgwPairHint atomic.Int64
}

// NewCollector returns a Collector over in.
func NewCollector(in Inputs, build BuildInfo) *Collector {
	return &Collector{in: in, build: build, d: newDescs(in.SourceLabels), td: newTGWDescs(in.SourceLabels), now: time.Now}
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
	switch {
	case c.in.Snapshots != nil:
		for _, ls := range c.in.Snapshots() {
			if ls.Snapshot != nil {
				c.collectSnapshot(ch, ls.Snapshot, ls.Values)
			}
		}
	case c.in.Snapshot != nil:
		if s := c.in.Snapshot(); s != nil {
			c.collectSnapshot(ch, s, make([]string, len(c.in.SourceLabels)))
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

// collectSnapshot sends the families of one snapshot; source are its source label values.
func (c *Collector) collectSnapshot(ch chan<- prometheus.Metric, s *aggregate.Snapshot, source []string) {
	d := c.d
	sc := newScrapeSeries(ch, d.layouts, &c.pairHint)
	defer sc.done(&c.pairHint)
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		sc.send(desc, prometheus.CounterValue, float64(v), labels, source)
	}
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		sc.send(desc, prometheus.GaugeValue, v, labels, source)
	}
	// The big counter families are sent in the order the registry sorts them into (by label
	// values, in label name order), so its sort finds them sorted and costs a linear pass.
	var rows []counterRow
	for _, p := range s.PortsByDirection {
		// Label names sort as action, direction, port, protocol.
		rows = append(rows, counterRow{labels: []string{ActionLabel(p.Action), p.Direction.String(), PortLabel(p.Port, p.Other), ProtocolLabel(p.Protocol)}, c: p.Counts})
	}
	for _, r := range sortedRows(rows) {
		act, dir, port, proto := r.labels[0], r.labels[1], r.labels[2], r.labels[3]
		counter(d.flows, r.c.Flows, act, dir, proto, port)
		counter(d.packets, r.c.Packets, act, dir, proto, port)
		counter(d.bytes, r.c.Bytes, act, dir, proto, port)
	}
	for _, i := range s.Interfaces {
		act := ActionLabel(i.Action)
		counter(d.ifaceFlows, i.Flows, act, i.InterfaceID)
		counter(d.ifacePackets, i.Packets, act, i.InterfaceID)
		counter(d.ifaceBytes, i.Bytes, act, i.InterfaceID)
	}
	// Bytes by direction per interface, both actions summed: a third of the series that a
	// direction label on the three interface families would cost.
	ifaceDir := make(map[[2]string]uint64, len(s.InterfacesByDirection))
	rows = rows[:0]
	for _, i := range s.InterfacesByDirection {
		k := [2]string{i.Direction.String(), i.InterfaceID}
		if _, seen := ifaceDir[k]; !seen {
			rows = append(rows, counterRow{labels: k[:]})
		}
		ifaceDir[k] += i.Bytes
	}
	for _, r := range sortedRows(rows) {
		counter(d.ifaceDirBytes, ifaceDir[[2]string{r.labels[0], r.labels[1]}], r.labels...)
	}
	rows = rows[:0]
	for _, n := range s.Network {
		// Label names sort as account_id, action, az_id, direction, subnet_id, vpc_id.
		rows = append(rows, counterRow{labels: []string{n.Values[0], ActionLabel(n.Action), n.Values[3], n.Direction.String(), n.Values[2], n.Values[1]}, c: n.Counts})
	}
	for _, r := range sortedRows(rows) {
		l := r.labels
		labels := []string{l[1], l[3], l[0], l[5], l[4], l[2]} // action, direction, account, vpc, subnet, az
		counter(d.netFlows, r.c.Flows, labels...)
		counter(d.netPackets, r.c.Packets, labels...)
		counter(d.netBytes, r.c.Bytes, labels...)
	}
	for _, r := range s.Rejected {
		counter(d.rejectedLeg, r.Flows, r.InterfaceID, ProtocolLabel(r.Protocol), PortLabel(r.Port, r.Other), r.Leg.String())
	}
	for _, in := range s.InterfaceInfo {
		gauge(d.ifaceInfo, 1, in.InterfaceID, in.AccountID, in.VPCID, in.SubnetID, in.AZID, in.InstanceID, in.IType)
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
	gauge(d.keys, float64(s.RejectOnlyPortKeys), "reject_only_port")
	for _, f := range s.Folds {
		counter(d.foldedRecords, f.Records, f.Dimension)
		gauge(d.foldedKeys, float64(f.DistinctKeys), f.Dimension)
		gauge(d.keys, float64(f.Keys), f.Dimension)
	}
	c.collectTGW(ch, &s.TGW, source)
	if !s.HasEvents {
		return
	}
	gauge(d.watermark, UnixSeconds(s.Watermark))
	for _, w := range s.Windows {
		win := WindowLabel(w.Width)
		c.collectWindowPorts(sc, win, w.Ports, source)
		for _, t := range w.TopTalkers {
			gauge(d.topTalker, float64(t.Bytes), win, t.Src.String(), t.Dst.String())
		}
		for _, r := range w.TopRejectedSources {
			gauge(d.topRejected, float64(r.Flows), win, r.Src.String())
		}
		for _, r := range w.ScanCandidates {
			src := r.Src.String()
			gauge(d.scanPorts, float64(r.DistinctPorts), win, src)
			for _, t := range r.Targets {
				gauge(d.scanTargets, float64(t.Flows), win, src, t.InterfaceID)
			}
		}
	}
}

// counterRow is one series of a counter family: its label values in label name order.
type counterRow struct {
	labels []string
	c      aggregate.Counts
}

// sortedRows sorts rows by their label values.
func sortedRows(rows []counterRow) []counterRow {
	slices.SortFunc(rows, func(x, y counterRow) int { return slices.Compare(x.labels, y.labels) })
	return rows
}

// windowPortKey is a window series: the contract has no protocol label on window families, so
// the protocols of one port are summed.
type windowPortKey struct {
	action parse.Action
	port   uint16
	other  bool
}

func (c *Collector) collectWindowPorts(sc *scrapeSeries, win string, ports []aggregate.PortCounts, source []string) {
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
		labels := []string{win, act, port}
		sc.send(c.d.winFlows, prometheus.GaugeValue, float64(v.Flows), labels, source)
		sc.send(c.d.winPackets, prometheus.GaugeValue, float64(v.Packets), labels, source)
		sc.send(c.d.winBytes, prometheus.GaugeValue, float64(v.Bytes), labels, source)
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
