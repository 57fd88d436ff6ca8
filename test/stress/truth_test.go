//go:build stress

package stress

import (
	"github.com/flowd-dev/flowd/internal/parse"
	"github.com/flowd-dev/flowd/internal/simulate"
)

// domainFamilies are the counters flowd publishes from its committed checkpoints (and restores
// at start): with a checkpoint they never go back, not even across a kill -9.
var domainFamilies = []string{
	"flowd_flows_total", "flowd_packets_total", "flowd_bytes_total",
	"flowd_interface_flows_total", "flowd_interface_packets_total", "flowd_interface_bytes_total",
	"flowd_interface_nodata_records_total", "flowd_interface_skipdata_records_total",
	"flowd_records_total", "flowd_parse_errors_total",
}

var actionLabels = map[parse.Action]string{parse.ActionAccept: "accept", parse.ActionReject: "reject"}

// compareTruth holds flowd's published domain counters against the simulator's ground truth,
// exactly: flows, packets and bytes by action, flows by action and interface, NODATA and
// SKIPDATA records, and flowd_records_total by status.
func compareTruth(r *result, s *scrape, tr *simulate.Truth) {
	r.set("events", tr.Events)
	var flows uint64
	for a, label := range actionLabels {
		want := tr.ByAction[a]
		flows += want.Flows
		got := [3]float64{
			s.value("flowd_flows_total", "action", label),
			s.value("flowd_packets_total", "action", label),
			s.value("flowd_bytes_total", "action", label),
		}
		for i, w := range [3]uint64{want.Flows, want.Packets, want.Bytes} {
			name := [3]string{"flows", "packets", "bytes"}[i]
			r.check(got[i] == float64(w), "%s{action=%q}: flowd %.0f, truth %d (diff %+.0f)", name, label, got[i], w, got[i]-float64(w))
		}
	}
	r.set("flows", flows)
	r.set("flowd_flows", s.value("flowd_flows_total"))
	// Every interface, both ways: nothing missing, nothing extra.
	wrong, ifaces := 0, 0
	want := map[string]float64{}
	for k, n := range tr.ByInterface {
		if label, ok := actionLabels[k.Action]; ok {
			want[label+"/"+k.Interface] = float64(n.Flows)
		}
	}
	got := map[string]float64{}
	if mf := s.fams["flowd_interface_flows_total"]; mf != nil {
		for _, m := range mf.Metric {
			var act, iface string
			for _, l := range m.Label {
				switch l.GetName() {
				case "action":
					act = l.GetValue()
				case "interface_id":
					iface = l.GetValue()
				}
			}
			got[act+"/"+iface] += metricValue(m)
		}
	}
	for k, w := range want {
		ifaces++
		if got[k] != w {
			wrong++
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g != 0 {
			wrong++
		}
	}
	r.set("interface_series", ifaces)
	r.check(wrong == 0, "flowd_interface_flows_total: %d of %d (action, interface) series differ from the truth", wrong, ifaces)
	nd, sd := s.value("flowd_interface_nodata_records_total"), s.value("flowd_interface_skipdata_records_total")
	r.check(nd == float64(tr.Records[parse.LogStatusNoData]), "NODATA records: flowd %.0f, truth %d", nd, tr.Records[parse.LogStatusNoData])
	r.check(sd == float64(tr.Records[parse.LogStatusSkipData]), "SKIPDATA records: flowd %.0f, truth %d", sd, tr.Records[parse.LogStatusSkipData])
	for st, label := range map[parse.LogStatus]string{parse.LogStatusOK: "ok", parse.LogStatusNoData: "nodata", parse.LogStatusSkipData: "skipdata"} {
		g := s.value("flowd_records_total", "status", label)
		r.check(g == float64(tr.Records[st]), "flowd_records_total{status=%q}: flowd %.0f, truth %d", label, g, tr.Records[st])
	}
	for _, label := range []string{"malformed", "unmatched"} {
		g := s.value("flowd_records_total", "status", label)
		r.check(g == 0, "flowd_records_total{status=%q}: %.0f, want 0", label, g)
	}
}
