package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowd-dev/flowd/internal/kinesis"
)

// KinesisView is one Kinesis source as the collector reads it.
type KinesisView struct {
	Stream string // as configured (name or ARN): the stream label
	Stats  kinesis.Stats
}

// KinesisCollector exposes what each replica's Kinesis sources do. Every family has the one
// label stream (one series per configured stream; flowd_kinesis_lease_handoffs_total two,
// by direction), so a replica publishes at most 20 × streams series. Counters are monotonic
// for the life of the process; sum them over replicas as rates (docs/operations.md).
type KinesisCollector struct {
	views func() []KinesisView

	owned, open, behind, dedup                                        *prometheus.Desc
	takeovers, handoffs, lost, records, bytes, events, control, dups  *prometheus.Desc
	decodeErr, unmapped, throttled, expired, readErr, checkpoints, un *prometheus.Desc
}

// NewKinesisCollector returns a collector over views, called at each scrape (it must not block).
func NewKinesisCollector(views func() []KinesisView) *KinesisCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append([]string{"stream"}, labels...), nil)
	}
	return &KinesisCollector{
		views:       views,
		owned:       d("flowd_kinesis_shards_owned", "Shard leases this replica holds."),
		open:        d("flowd_kinesis_open_shards", "Open shards of the stream at this replica's last listing (0 before it): compare with the sum of shards_owned over replicas to find shards nobody reads."),
		behind:      d("flowd_kinesis_millis_behind_latest", "The largest MillisBehindLatest of the shards this replica holds: how far its reading is behind the tip of the stream."),
		dedup:       d("flowd_kinesis_dedup_entries", "Log event ids remembered to drop redeliveries within the dedup horizon."),
		takeovers:   d("flowd_kinesis_lease_takeovers_total", "Expired leases this replica took from another (a replica that stopped renewing)."),
		handoffs:    d("flowd_kinesis_lease_handoffs_total", "Leases handed over gracefully while balancing, by direction (in: received, out: given).", "direction"),
		lost:        d("flowd_kinesis_leases_lost_total", "Leases this replica lost: a fenced write failed or renewal lapsed."),
		records:     d("flowd_kinesis_records_total", "Kinesis records read."),
		bytes:       d("flowd_kinesis_bytes_total", "Data bytes (compressed) of the Kinesis records read."),
		events:      d("flowd_kinesis_events_total", "Log events handed to the pipeline."),
		control:     d("flowd_kinesis_control_messages_total", "CONTROL_MESSAGE records skipped (CloudWatch Logs checks the destination with them)."),
		dups:        d("flowd_kinesis_duplicate_events_total", "Log events dropped as redeliveries within the dedup horizon."),
		decodeErr:   d("flowd_kinesis_decode_errors_total", "Kinesis records skipped because they could not be decoded as CloudWatch Logs subscription records."),
		unmapped:    d("flowd_kinesis_unmapped_events_total", "Log events skipped because their log group is not among the source's log_groups."),
		throttled:   d("flowd_kinesis_throttled_total", "GetRecords calls answered ProvisionedThroughputExceededException."),
		expired:     d("flowd_kinesis_expired_iterators_total", "Shard iterators replaced after ExpiredIteratorException."),
		readErr:     d("flowd_kinesis_read_errors_total", "Other failed GetRecords and GetShardIterator calls."),
		checkpoints: d("flowd_kinesis_checkpoints_total", "Lease checkpoints written."),
		un:          d("flowd_kinesis_uncheckpointed_events_total", "Events counted whose lease checkpoint could not be written (lease lost): the next owner may count them again."),
	}
}

// Describe sends every descriptor.
func (c *KinesisCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.owned, c.open, c.behind, c.dedup, c.takeovers, c.handoffs, c.lost, c.records, c.bytes,
		c.events, c.control, c.dups, c.decodeErr, c.unmapped, c.throttled, c.expired, c.readErr, c.checkpoints, c.un} {
		ch <- d
	}
}

// Collect sends the series of every stream.
func (c *KinesisCollector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range c.views() {
		s, l := v.Stats, v.Stream
		gauge := func(d *prometheus.Desc, x float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, x, l)
		}
		counter := func(d *prometheus.Desc, x int64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(x), l)
		}
		gauge(c.owned, float64(s.Lease.Owned))
		gauge(c.open, float64(s.OpenShards))
		gauge(c.behind, float64(s.MillisBehindLatest))
		gauge(c.dedup, float64(s.DedupEntries))
		counter(c.takeovers, s.Lease.Takeovers)
		ch <- prometheus.MustNewConstMetric(c.handoffs, prometheus.CounterValue, float64(s.Lease.HandoffsIn), l, "in")
		ch <- prometheus.MustNewConstMetric(c.handoffs, prometheus.CounterValue, float64(s.Lease.HandoffsOut), l, "out")
		counter(c.lost, s.Lease.Lost)
		counter(c.records, s.RecordsRead)
		counter(c.bytes, s.BytesRead)
		counter(c.events, s.EventsEmitted)
		counter(c.control, s.ControlMessages)
		counter(c.dups, s.DuplicatesDropped)
		counter(c.decodeErr, s.DecodeErrors)
		counter(c.unmapped, s.Unmapped)
		counter(c.throttled, s.Throttled)
		counter(c.expired, s.ExpiredIterators)
		counter(c.readErr, s.ReadErrors)
		counter(c.checkpoints, s.Checkpoints)
		counter(c.un, s.UncheckpointedEvents)
	}
}
