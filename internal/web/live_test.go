package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/parse"
)

// exposition is a parsed /metrics.
type exposition map[string]*dto.MetricFamily

func scrapeMetrics(t testing.TB, url string) exposition {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// sum adds the values of name's series having every label of pairs (name, value, ...).
func (e exposition) sum(name string, pairs ...string) float64 {
	total := 0.0
	fam, ok := e[name]
	if !ok {
		return -1
	}
next:
	for _, m := range fam.Metric {
		for i := 0; i+1 < len(pairs); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		}
	}
	return total
}

func fetchLive(t testing.TB, url string) *Live {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "application/json" {
		t.Fatalf("GET %s: %s, %s", url, resp.Status, ct)
	}
	var l Live
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		t.Fatal(err)
	}
	return &l
}

// liveVsMetrics lists every number of the document that /metrics also has, as (what, live
// value, metrics value).
func liveVsMetrics(l *Live, m exposition) [][3]any {
	var out [][3]any
	add := func(what string, live, prom float64) { out = append(out, [3]any{what, live, prom}) }
	for _, act := range []string{"accept", "reject"} {
		add("total flows "+act, float64(l.Totals[act].Flows), m.sum("flowd_flows_total", "action", act))
		add("total bytes "+act, float64(l.Totals[act].Bytes), m.sum("flowd_bytes_total", "action", act))
	}
	for _, w := range l.Windows {
		add("window "+w.Window+" accept", float64(w.AcceptFlows), m.sum("flowd_window_flows", "window", w.Window, "action", "accept"))
		add("window "+w.Window+" reject", float64(w.RejectFlows), m.sum("flowd_window_flows", "window", w.Window, "action", "reject"))
		for _, p := range w.TopRejectedPorts {
			add("window "+w.Window+" port "+p.Port, float64(p.Flows), m.sum("flowd_window_flows", "window", w.Window, "action", "reject", "port", p.Port))
		}
		for _, r := range w.TopRejectedSources {
			add("window "+w.Window+" rejected "+r.Src, float64(r.Flows), m.sum("flowd_window_top_rejected_source_flows", "window", w.Window, "src_addr", r.Src))
		}
		for _, s := range w.ScanCandidates {
			add("window "+w.Window+" scan "+s.Src, float64(s.DistinctPorts), m.sum("flowd_window_scan_candidate_ports", "window", w.Window, "src_addr", s.Src))
		}
	}
	for _, i := range l.Interfaces {
		add("interface "+i.ID+" reject", float64(i.RejectFlows), m.sum("flowd_interface_flows_total", "interface_id", i.ID, "action", "reject"))
		add("interface "+i.ID+" accept", float64(i.AcceptFlows), m.sum("flowd_interface_flows_total", "interface_id", i.ID, "action", "accept"))
	}
	for _, s := range l.Sources {
		add("source "+s.Name+" events", float64(s.Events), m.sum("flowd_ingest_events_total", "log_group", s.Name))
		if s.LagSeconds != nil {
			add("source "+s.Name+" lag", *s.LagSeconds, m.sum("flowd_ingest_lag_seconds", "log_group", s.Name))
		}
	}
	if l.Checkpoint != nil {
		add("checkpoint failures", float64(l.Checkpoint.Failures), m.sum("flowd_checkpoint_failures_total"))
		add("checkpoint bytes", float64(l.Checkpoint.SizeBytes), m.sum("flowd_checkpoint_size_bytes"))
	}
	return out
}

// TestLiveMatchesMetrics: every number of /api/v1/live that /metrics also has is the same.
func TestLiveMatchesMetrics(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, base := f.start(t, Config{})
	l := fetchLive(t, base+"api/v1/live")
	m := scrapeMetrics(t, base+"metrics")
	pairs := liveVsMetrics(l, m)
	if len(pairs) < 30 {
		t.Fatalf("only %d numbers compared: the fixture lacks data", len(pairs))
	}
	for _, p := range pairs {
		if p[1] != p[2] {
			t.Errorf("%s: live %v, /metrics %v", p[0], p[1], p[2])
		}
	}
	if l.SchemaVersion != 1 || !l.HasEvents || l.Version != "1.2.3" || len(l.Notes) != 1 {
		t.Errorf("header: %+v", l)
	}
	if len(l.Windows) != 3 || l.Windows[0].Window != "1m" || l.Windows[2].Window != "15m" {
		t.Errorf("windows %v, want 1m, 5m, 15m in order", l.Windows)
	}
	if got := len(l.History.Points); got != historyPoints {
		t.Errorf("%d history points, want %d (a full ring)", got, historyPoints)
	}
	last := l.History.Points[len(l.History.Points)-1]
	w1 := l.Windows[0]
	if last.RejectPerSecond != float64(w1.RejectFlows)/60 || last.AcceptPerSecond != float64(w1.AcceptFlows)/60 {
		t.Errorf("last point %+v, want the 1m window's flows / 60 (%d, %d)", last, w1.AcceptFlows, w1.RejectFlows)
	}
	if l.Sources[1].LagSeconds != nil || !l.Sources[1].LastSuccess.IsZero() || l.Sources[1].Calls["error"] != 9 {
		t.Errorf("never-read source: %+v, want an unknown lag, no last success, 9 errors", l.Sources[1])
	}
	if l.Checkpoint == nil || l.Checkpoint.AgeSeconds == nil || *l.Checkpoint.AgeSeconds != 20 {
		t.Errorf("checkpoint %+v, want 20 s old", l.Checkpoint)
	}
	if testing.Verbose() {
		b, _ := json.MarshalIndent(l, "", "  ")
		t.Logf("%s", b)
	}
}

func TestSpiking(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, base       uint64
		now, baseline float64
		want          bool
	}{
		{n: 60, base: 900, now: 60, baseline: 900, want: false}, // steady
		{n: 60, base: 300, now: 60, baseline: 900, want: true},  // 1/s against 1/3 per s
		{n: 9, base: 9, now: 60, baseline: 900, want: false},    // too few flows
		{n: 20, base: 0, now: 60, baseline: 900, want: true},    // not in the baseline's top-K: at least n
		{n: 20, base: 0, now: 60, baseline: 0, want: false},
	}
	for _, tc := range tests {
		if got := spiking(tc.n, tc.base, tc.now, tc.baseline); got != tc.want {
			t.Errorf("spiking(%d, %d, %v, %v) = %v, want %v", tc.n, tc.base, tc.now, tc.baseline, got, tc.want)
		}
	}
}

func TestSpikesOf(t *testing.T) {
	t.Parallel()
	mk := func(width time.Duration, flows22, flows443 uint64) *aggregate.Window {
		return &aggregate.Window{Width: width, Ports: []aggregate.PortCounts{
			{Action: parse.ActionReject, Protocol: 6, Port: 22, Counts: aggregate.Counts{Flows: flows22}},
			{Action: parse.ActionReject, Protocol: 6, Port: 443, Counts: aggregate.Counts{Flows: flows443}},
		}}
	}
	// Port 22: 600 of its 900 flows in the last minute; 443: steady at 1/s.
	s := spikesOf(mk(time.Minute, 600, 60), mk(15*time.Minute, 900, 900))
	if !s.ports["22"] || s.ports["443"] || !s.rejected {
		t.Errorf("spikes %+v, want port 22 and rejected flows overall, not 443", s)
	}
	if got := fmt.Sprint(sortedKeys(s.ports)); !strings.Contains(got, "22") {
		t.Errorf("sorted %s", got)
	}
}

func TestHistoryRing(t *testing.T) {
	t.Parallel()
	h := NewHistory(3)
	if len(h.Points()) != 0 {
		t.Fatal("new history not empty")
	}
	for i := range 5 {
		h.Add(Point{Accept: float64(i)})
	}
	got := h.Points()
	if len(got) != 3 || got[0].Accept != 2 || got[2].Accept != 4 {
		t.Errorf("points %v, want 2, 3, 4", got)
	}
	h.Sample(time.Now(), nil)
	h.Sample(time.Now(), &aggregate.Snapshot{})
	if len(h.Points()) != 3 || h.Points()[2].Accept != 4 {
		t.Error("an empty snapshot added a point")
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestSamplerEvery10s: the server samples the snapshot every 10 s of (virtual) time into the
// chart's ring, and stops sampling at Shutdown.
func TestSamplerEvery10s(t *testing.T) {
	f := newFixture(t)
	synctest.Test(t, func(t *testing.T) {
		s, err := NewServer(Config{ListenAddresses: []string{"127.0.0.1:0"}, Inputs: f.inputs, Registry: f.registry(t)})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(35 * time.Second) // virtual time: three ticks
		synctest.Wait()
		pts := s.history.Points()
		if len(pts) != 3 {
			t.Fatalf("%d points after 35 s, want 3", len(pts))
		}
		if d := pts[1].Time.Sub(pts[0].Time); d != historyStep {
			t.Errorf("points %v apart, want %v", d, historyStep)
		}
		want, _ := pointOf(pts[0].Time, f.snap)
		if pts[0].Accept != want.Accept || pts[0].Reject != want.Reject {
			t.Errorf("point %+v, want the snapshot's %+v", pts[0], want)
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		if n := len(s.history.Points()); n != 3 {
			t.Errorf("%d points a minute after Shutdown, want still 3", n)
		}
	})
}
