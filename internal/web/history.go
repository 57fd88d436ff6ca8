package web

import (
	"sync"
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/parse"
)

// The live view's chart: one point every historyStep, historyPoints of them (15 minutes).
const (
	historyStep   = 10 * time.Second
	historyPoints = 90
)

// Point is one sample of the chart: the accepted and rejected flows per second over the
// smallest aggregate window (1m by default) at sample time, in event time. It is the same
// number as sum by (action) (flowd_window_flows{window="1m"}) / 60 on /metrics.
type Point struct {
	Time      time.Time
	Watermark time.Time
	Accept    float64
	Reject    float64
}

// History is a bounded ring of Points, oldest first, safe for concurrent use. It is flowd's
// own memory of the recent past: nothing is read back from Prometheus.
type History struct {
	mu   sync.Mutex
	ring []Point
	next int
	full bool
}

// NewHistory returns a History holding at most n points.
func NewHistory(n int) *History { return &History{ring: make([]Point, n)} }

// Add appends p, dropping the oldest point when the ring is full.
func (h *History) Add(p Point) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ring[h.next] = p
	h.next = (h.next + 1) % len(h.ring)
	if h.next == 0 {
		h.full = true
	}
}

// Points returns a copy of the points, oldest first.
func (h *History) Points() []Point {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.full {
		return append([]Point(nil), h.ring[:h.next]...)
	}
	out := make([]Point, 0, len(h.ring))
	out = append(out, h.ring[h.next:]...)
	return append(out, h.ring[:h.next]...)
}

// Sample adds the point of snapshot s taken at now; a nil snapshot or one without events
// adds nothing (the chart starts with the first records).
func (h *History) Sample(now time.Time, s *aggregate.Snapshot) {
	if p, ok := pointOf(now, s); ok {
		h.Add(p)
	}
}

// pointOf is the chart point of s.
func pointOf(now time.Time, s *aggregate.Snapshot) (Point, bool) {
	w := smallestWindow(s)
	if w == nil || !s.HasEvents || w.Width <= 0 {
		return Point{}, false
	}
	acc, rej := actionFlows(w.Ports)
	secs := w.Width.Seconds()
	return Point{Time: now, Watermark: s.Watermark, Accept: float64(acc) / secs, Reject: float64(rej) / secs}, true
}

// actionFlows sums the flows of ports by action.
func actionFlows(ports []aggregate.PortCounts) (accept, reject uint64) {
	for _, p := range ports {
		switch p.Action {
		case parse.ActionAccept:
			accept += p.Flows
		case parse.ActionReject:
			reject += p.Flows
		}
	}
	return accept, reject
}

// smallestWindow is the narrowest window of s ("now"), nil if s has none.
func smallestWindow(s *aggregate.Snapshot) *aggregate.Window {
	if s == nil {
		return nil
	}
	var best *aggregate.Window
	for i := range s.Windows {
		if best == nil || s.Windows[i].Width < best.Width {
			best = &s.Windows[i]
		}
	}
	return best
}

// largestWindow is the widest window of s (the baseline of "spiking"), nil if s has none.
func largestWindow(s *aggregate.Snapshot) *aggregate.Window {
	if s == nil {
		return nil
	}
	var best *aggregate.Window
	for i := range s.Windows {
		if best == nil || s.Windows[i].Width > best.Width {
			best = &s.Windows[i]
		}
	}
	return best
}

// startSampler samples the snapshot every historyStep until Shutdown.
func (s *Server) startSampler(cfg Config) {
	if cfg.Inputs.Snapshot == nil {
		return
	}
	s.sampler.Add(1)
	go func() {
		defer s.sampler.Done()
		t := time.NewTicker(historyStep)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.history.Sample(cfg.now(), cfg.Inputs.Snapshot())
			}
		}
	}()
}
