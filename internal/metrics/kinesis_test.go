package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flowd-dev/flowd/internal/kinesis"
	"github.com/flowd-dev/flowd/internal/lease"
)

// TestKinesisCollector checks the series of two streams: 20 per stream, each value from its
// own field, and nothing at all without Kinesis sources.
func TestKinesisCollector(t *testing.T) {
	t.Parallel()
	views := []KinesisView{
		{Stream: "a", Stats: kinesis.Stats{RecordsRead: 7, EventsEmitted: 70, DuplicatesDropped: 3, UncheckpointedEvents: 2, MillisBehindLatest: 1500,
			OpenShards: 3, Lease: lease.Stats{Owned: 2, Takeovers: 1, HandoffsIn: 4, HandoffsOut: 5, Lost: 6}}},
		{Stream: "arn:aws:kinesis:eu-west-1:123456789012:stream/b"},
	}
	c := NewKinesisCollector(func() []KinesisView { return views })
	if n := testutil.CollectAndCount(c); n != 40 {
		t.Errorf("%d series for two streams, want 40", n)
	}
	want := `
# HELP flowd_kinesis_lease_handoffs_total Leases handed over gracefully while balancing, by direction (in: received, out: given).
# TYPE flowd_kinesis_lease_handoffs_total counter
flowd_kinesis_lease_handoffs_total{direction="in",stream="a"} 4
flowd_kinesis_lease_handoffs_total{direction="in",stream="arn:aws:kinesis:eu-west-1:123456789012:stream/b"} 0
flowd_kinesis_lease_handoffs_total{direction="out",stream="a"} 5
flowd_kinesis_lease_handoffs_total{direction="out",stream="arn:aws:kinesis:eu-west-1:123456789012:stream/b"} 0
# HELP flowd_kinesis_millis_behind_latest The largest MillisBehindLatest of the shards this replica holds: how far its reading is behind the tip of the stream.
# TYPE flowd_kinesis_millis_behind_latest gauge
flowd_kinesis_millis_behind_latest{stream="a"} 1500
flowd_kinesis_millis_behind_latest{stream="arn:aws:kinesis:eu-west-1:123456789012:stream/b"} 0
# HELP flowd_kinesis_uncheckpointed_events_total Events counted whose lease checkpoint could not be written (lease lost): the next owner may count them again.
# TYPE flowd_kinesis_uncheckpointed_events_total counter
flowd_kinesis_uncheckpointed_events_total{stream="a"} 2
flowd_kinesis_uncheckpointed_events_total{stream="arn:aws:kinesis:eu-west-1:123456789012:stream/b"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "flowd_kinesis_lease_handoffs_total", "flowd_kinesis_millis_behind_latest",
		"flowd_kinesis_uncheckpointed_events_total"); err != nil {
		t.Error(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	ofA := map[string]float64{} // family -> value of stream a (handoffs aside: two series)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == "a" {
				ofA[mf.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
	}
	for name, v := range map[string]float64{"flowd_kinesis_shards_owned": 2, "flowd_kinesis_open_shards": 3, "flowd_kinesis_records_total": 7,
		"flowd_kinesis_events_total": 70, "flowd_kinesis_duplicate_events_total": 3, "flowd_kinesis_lease_takeovers_total": 1, "flowd_kinesis_leases_lost_total": 6} {
		if got, ok := ofA[name]; !ok || got != v {
			t.Errorf("%s{stream=a} = %v (present %v), want %v", name, got, ok, v)
		}
	}
	views = nil
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Errorf("%d series without Kinesis sources, want 0", n)
	}
}
