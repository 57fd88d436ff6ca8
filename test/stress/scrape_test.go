//go:build stress

package stress

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape is one /metrics exposition, parsed.
type scrape struct {
	at       time.Time     // when the request was sent
	duration time.Duration // request sent to body read
	size     int           // bytes of the exposition
	series   int           // samples (lines that are not comments)
	fams     map[string]*dto.MetricFamily
}

// scrape fetches and parses /metrics in the text format, as Prometheus would.
func (f *flowd) scrape() (*scrape, error) {
	req, err := http.NewRequest(http.MethodGet, f.base()+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	if f.web != nil {
		req.SetBasicAuth(f.web.user, f.web.pass)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	at := time.Now()
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	dur := time.Since(at)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse /metrics: %w", err)
	}
	series := 0
	for _, line := range bytes.Split(body, []byte("\n")) {
		if len(line) > 0 && line[0] != '#' {
			series++
		}
	}
	return &scrape{at: at, duration: dur, size: len(body), series: series, fams: fams}, nil
}

// metricValue is a counter's, gauge's or untyped metric's value.
func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

// matches reports whether m has every label=value of pairs (name, value, name, value...).
func matches(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, l := range m.Label {
			if l.GetName() == pairs[i] {
				found = l.GetValue() == pairs[i+1]
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// value sums the series of a family that match the label pairs (0 if none).
func (s *scrape) value(name string, pairs ...string) float64 {
	mf := s.fams[name]
	if mf == nil {
		return 0
	}
	sum := 0.0
	for _, m := range mf.Metric {
		if matches(m, pairs) {
			sum += metricValue(m)
		}
	}
	return sum
}

// count is the number of series of a family.
func (s *scrape) count(name string) int {
	if mf := s.fams[name]; mf != nil {
		return len(mf.Metric)
	}
	return 0
}

// seriesKey identifies one series: family name and its labels in exposition order.
func seriesKey(name string, m *dto.Metric) string {
	var b bytes.Buffer
	b.WriteString(name)
	for _, l := range m.Label {
		fmt.Fprintf(&b, ",%s=%s", l.GetName(), l.GetValue())
	}
	return b.String()
}

// counters returns every series of the given counter families, by series key.
func (s *scrape) counters(names ...string) map[string]float64 {
	out := map[string]float64{}
	for _, n := range names {
		if mf := s.fams[n]; mf != nil {
			for _, m := range mf.Metric {
				out[seriesKey(n, m)] = metricValue(m)
			}
		}
	}
	return out
}
