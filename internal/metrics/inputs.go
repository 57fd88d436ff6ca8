package metrics

import (
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/ingest"
)

// Inputs are what the collector reads at each scrape. Each may be nil, which omits its
// families. None of them may block for long: a scrape never calls AWS.
type Inputs struct {
	// Snapshot returns the aggregator snapshot to publish (nil before the first one).
	Snapshot func() *aggregate.Snapshot
	// SourceLabels are the names of the static source labels (sorted, validated by the config:
	// Prometheus label names that are none of flowd's own). Every family built from a snapshot
	// carries them; they are fixed for the Collector's life (a reload that changes them builds a
	// new Collector).
	SourceLabels []string
	// Snapshots returns the snapshots of the aggregators of each set of source labels, with the
	// values of SourceLabels ("" for a label a set lacks); the sets must differ. When set, it is
	// read instead of Snapshot.
	Snapshots func() []LabeledSnapshot
	// Ingest returns the ingest statistics.
	Ingest func() ingest.Stats
	// Pipeline returns the parse workers' and queue's statistics.
	Pipeline func() PipelineStats
	// Reload returns the state of config reloads.
	Reload func() ReloadStats
	// Checkpoint returns the state of checkpoint writes.
	Checkpoint func() CheckpointStats
}

// LabeledSnapshot is an aggregator snapshot and the source label values of its series.
type LabeledSnapshot struct {
	// Values are the values of Inputs.SourceLabels, in that order.
	Values   []string
	Snapshot *aggregate.Snapshot
}

// PipelineStats are the counters of the parse workers and the queue, owned by the app.
type PipelineStats struct {
	Records RecordCounts
	// ParseErrors counts malformed records by parse.Error reason, in a fixed order.
	ParseErrors []ReasonCount
	// WorkerPanics counts panics recovered at the worker boundary.
	WorkerPanics uint64
	// QueueDepth and QueueCapacity are the batches waiting in the queue and its size.
	QueueDepth, QueueCapacity int
	// Workers is the number of parse workers.
	Workers int
}

// RecordCounts count every record read by what became of it.
type RecordCounts struct {
	OK, NoData, SkipData, Malformed, Unmatched uint64
}

// ReasonCount is a count for one reason label.
type ReasonCount struct {
	Reason string
	Count  uint64
}

// ReloadStats is the state of configuration reloads.
type ReloadStats struct {
	// Successful is false after a failed reload, until the next successful one.
	Successful bool
	// LastSuccess is when the config in use was loaded.
	LastSuccess time.Time
}

// CheckpointStats is the state of checkpoint writes.
type CheckpointStats struct {
	// Enabled is false when no checkpoint path is configured (the families are omitted).
	Enabled     bool
	LastSuccess time.Time
	Failures    uint64
	Bytes       int64
}

// BuildInfo identifies the binary.
type BuildInfo struct {
	Version, Revision, GoVersion string
}
