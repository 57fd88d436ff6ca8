package metrics

import (
	"slices"
	"sync/atomic"

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
	// slab and pairSlab are carved into series and their pair slices, so that a series costs
	// no allocation of its own (the registry only reads them, and drops them after the scrape).
	slab     []series
	pairSlab []*dto.LabelPair
}

const slabSize = 512

// newScrapeSeries sizes the pair map for the pairs of the last scrape (hint), so that a scrape
// at the caps does not grow it step by step.
func newScrapeSeries(ch chan<- prometheus.Metric, ls layouts, hint *atomic.Int64) *scrapeSeries {
	return &scrapeSeries{ch: ch, layouts: ls, pairs: make(map[pairKey]*dto.LabelPair, max(64, hint.Load()))}
}

// done records the number of pairs of this scrape as the next one's hint.
func (s *scrapeSeries) done(hint *atomic.Int64) { hint.Store(int64(len(s.pairs))) }

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
	if len(s.pairSlab) < len(l.names) {
		s.pairSlab = make([]*dto.LabelPair, slabSize*max(4, len(l.names)))
	}
	pairs := s.pairSlab[:len(l.names):len(l.names)]
	s.pairSlab = s.pairSlab[len(l.names):]
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
	if len(s.slab) == 0 {
		s.slab = make([]series, slabSize)
	}
	m := &s.slab[0]
	s.slab = s.slab[1:]
	*m = series{desc: desc, pairs: pairs, t: t, v: v}
	s.ch <- m
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
