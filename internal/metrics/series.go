package metrics

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The traffic families hold tens of thousands of series at the caps. prometheus.NewConstMetric
// builds, per series, a sorted copy of its label pairs with two fresh strings each
// (MakeLabelPairs): at the caps that was the largest single cost of a scrape. The collector
// builds those series itself instead: each descriptor's label order is sorted once (layout),
// and the label pairs of one scrape are shared between the series that carry the same name
// and value (the action, protocol, direction, window and source labels of every series, an
// interface's id in each interface family), so a series costs one pair slice and the metric.

// layout is the label names of a descriptor in the order Prometheus keeps them (sorted), and
// where each comes from in the order the collector passes values.
type layout struct {
	names []string
	perm  []int // perm[j]: index in the descriptor's label order of the j-th sorted name
}

func newLayout(labels []string) *layout {
	l := &layout{names: slices.Clone(labels), perm: make([]int, len(labels))}
	for i := range l.perm {
		l.perm[i] = i
	}
	slices.SortFunc(l.perm, func(a, b int) int {
		switch {
		case labels[a] < labels[b]:
			return -1
		case labels[a] > labels[b]:
			return 1
		}
		return 0
	})
	for j, i := range l.perm {
		l.names[j] = labels[i]
	}
	return l
}

// layouts maps each descriptor to its layout; filled when the descriptors are built.
type layouts map[*prometheus.Desc]*layout

func (ls layouts) desc(name, help string, labels []string) *prometheus.Desc {
	d := prometheus.NewDesc(name, help, labels, nil)
	ls[d] = newLayout(labels)
	return d
}

// pairKey names one label pair.
type pairKey struct{ name, value string }

// scrapeSeries sends the series of one scrape, sharing label pairs between them.
type scrapeSeries struct {
	ch      chan<- prometheus.Metric
	layouts layouts
	pairs   map[pairKey]*dto.LabelPair
}

func newScrapeSeries(ch chan<- prometheus.Metric, ls layouts) *scrapeSeries {
	return &scrapeSeries{ch: ch, layouts: ls, pairs: make(map[pairKey]*dto.LabelPair, 1024)}
}

// send sends one series of desc: labels then source are its label values in the descriptor's
// label order (as prometheus.NewConstMetric takes them).
func (s *scrapeSeries) send(desc *prometheus.Desc, t prometheus.ValueType, v float64, labels, source []string) {
	l := s.layouts[desc]
	if l == nil || len(l.names) != len(labels)+len(source) {
		// Not a layout-built descriptor, or a wrong value count: let client_golang say what is
		// wrong (an invalid metric is reported by Gather, never a panic here).
		m, err := prometheus.NewConstMetric(desc, t, v, append(slices.Clone(labels), source...)...)
		if err != nil {
			m = prometheus.NewInvalidMetric(desc, err)
		}
		s.ch <- m
		return
	}
	pairs := make([]*dto.LabelPair, len(l.names))
	for j, i := range l.perm {
		var value string
		if i < len(labels) {
			value = labels[i]
		} else {
			value = source[i-len(labels)]
		}
		k := pairKey{l.names[j], value}
		p := s.pairs[k]
		if p == nil {
			v := value // allocated on a miss only
			p = &dto.LabelPair{Name: &l.names[j], Value: &v}
			s.pairs[k] = p
		}
		pairs[j] = p
	}
	s.ch <- &series{desc: desc, pairs: pairs, t: t, v: v}
}

// series is one built series: a const metric with shared, sorted label pairs.
type series struct {
	desc  *prometheus.Desc
	pairs []*dto.LabelPair
	t     prometheus.ValueType
	v     float64
}

func (m *series) Desc() *prometheus.Desc { return m.desc }

// Write fills out; the label pairs are shared and must be read only, which the registry and
// the encoders do.
func (m *series) Write(out *dto.Metric) error {
	out.Label = m.pairs
	switch m.t {
	case prometheus.CounterValue:
		out.Counter = &dto.Counter{Value: &m.v}
	case prometheus.GaugeValue:
		out.Gauge = &dto.Gauge{Value: &m.v}
	default:
		out.Untyped = &dto.Untyped{Value: &m.v}
	}
	return nil
}
