package config

import (
	"slices"
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/kinesis"
	"github.com/flowd-dev/flowd/internal/parse"
	"github.com/flowd-dev/flowd/internal/sourcelabel"
)

// Config is the validated runtime form of a File.
type Config struct {
	Sources    []Source
	Ingest     Ingest
	Checkpoint Checkpoint
	Aggregate  aggregate.Config
	// IngestOptions are the runtime options of the CloudWatch Logs source, built once from
	// Sources and Ingest by Validate: ingest takes them as given.
	IngestOptions ingest.Options
	// Workers is the number of parse workers; 0 in the file becomes GOMAXPROCS here.
	Workers int
	// Inventory holds the EC2 inventory settings; Inventories, one rule per account (role),
	// Region and endpoint to inventory.
	Inventory   Inventory
	Inventories []InventoryRule
	// Kinesis holds the settings shared by the Kinesis sources.
	Kinesis Kinesis
	// File is the effective file form (defaults included) this Config came from.
	File File
}

// Source is one validated source. Exactly one of LogGroup, LogGroupARN and LogGroupPrefix is set.
type Source struct {
	LogGroup        string
	LogGroupARN     string
	LogGroupPrefix  string
	LogStreamPrefix string
	// Formats are the compiled record formats, one or more with distinct field counts.
	Formats []*parse.Format
	// FormatSpecs are the format strings Formats were compiled from (empty: the default format).
	FormatSpecs []string
	Region      string
	RoleARN     string
	ExternalID  string
	Endpoint    string
	// Discover is "flow_logs" for a source whose groups and formats come from the inventory
	// (then the log group fields and formats are empty); EC2Endpoint is the inventory's endpoint.
	Discover    string
	EC2Endpoint string
	// Labels are the source's static labels, log_group_name included when log_group_label is
	// set; nil without labels. Sources with equal sets share one aggregator.
	Labels sourcelabel.Set
	// Kinesis is set for a Kinesis source (then the log group fields are empty, Endpoint is
	// the Kinesis endpoint, and Formats are those of the stream's groups without their own).
	Kinesis *KinesisStream
}

// KinesisStream is what a Kinesis source reads: a stream, its lease table, and its log groups.
type KinesisStream struct {
	Stream           string // name or ARN, as configured
	LeaseTable       string
	DynamoDBEndpoint string
	// Groups are the only log groups counted, each with its formats; nil = every group of the
	// stream, with the source's Formats.
	Groups map[string]KinesisGroup
}

// KinesisGroup is one log group of a Kinesis source with its compiled formats.
type KinesisGroup struct {
	Formats     []*parse.Format
	FormatSpecs []string // empty: the source's
}

// Kinesis is the validated kinesis section.
type Kinesis struct {
	Owner           string // "" = kinesis.DefaultOwner() at start
	LeaseDuration   time.Duration
	InitialPosition string // lease.TrimHorizon or lease.Latest
	DedupHorizon    time.Duration
	DedupMaxEntries int
	PollInterval    time.Duration
	RecordsPerCall  int
	MaxInFlight     int
}

// DefaultLeaseTable is the lease table of a Kinesis source without lease_table.
const DefaultLeaseTable = "flowd-leases"

// DiscoverFlowLogs is the one discovery kind of sources[].discover.
const DiscoverFlowLogs = "flow_logs"

// Inventory is the validated inventory section.
type Inventory struct {
	RefreshInterval   time.Duration
	MaxInterfaces     int
	RequestsPerSecond float64
	IPRangesFile      string
}

// InventoryRule is one EC2 inventory to run: where (AWS: region, role, external id, and the
// EC2 endpoint), and whether its flow logs become sources (Discover; else it only names).
type InventoryRule struct {
	// Name labels its metrics: the Region (and role), e.g. "us-east-1".
	Name     string
	AWS      ingest.AWSSpec
	Discover bool
	// LogsEndpoint is the CloudWatch Logs endpoint discovered groups are read through.
	LogsEndpoint string
	// Labels are the static labels of the discover source, given to every group it finds.
	Labels sourcelabel.Set
}

// Name is the log group name, ARN or prefix this source reads: the log_group label of its metrics.
func (s Source) Name() string {
	switch {
	case s.Kinesis != nil:
		return kinesis.SourcePrefix + s.Kinesis.Stream
	case s.LogGroup != "":
		return s.LogGroup
	case s.LogGroupARN != "":
		return s.LogGroupARN
	default:
		return s.LogGroupPrefix + "*"
	}
}

// Ingest is the validated ingest section.
type Ingest struct {
	MaxDelay     time.Duration
	LateGrace    time.Duration
	EarlyPasses  []time.Duration
	PollInterval time.Duration
	// MaxDefer is how long a due range may wait to fill pages before it is read; 0 reads every
	// range as soon as it is due.
	MaxDefer          time.Duration
	RequestsPerSecond float64
	MaxInFlight       int
	RequestTimeout    time.Duration
	QueueSize         int
	StartPosition     StartPosition
	DiscoveryInterval time.Duration
	Shard             Shard
}

// StartPosition says where reading begins when there is no checkpoint: now, or Offset (≤ 0)
// from now.
type StartPosition struct {
	Now    bool
	Offset time.Duration
}

// String returns the position as written in the file ("now", "-15m0s").
func (p StartPosition) String() string {
	if p.Now {
		return "now"
	}
	return p.Offset.String()
}

// At returns the start time for a given current time.
func (p StartPosition) At(now time.Time) time.Time {
	if p.Now {
		return now
	}
	return now.Add(p.Offset)
}

// SetShard replaces the shard (the --shard flag overrides ingest.shard) in both forms.
func (c *Config) SetShard(s Shard) {
	c.Ingest.Shard = s
	c.IngestOptions.Shard = ingest.Shard{Index: s.Index, Count: s.Count}
}

// ingestOptions maps the validated sources and ingest section onto ingest.Options, one to one.
func ingestOptions(sources []Source, in Ingest) ingest.Options {
	o := ingest.Options{
		DiscoveryInterval: in.DiscoveryInterval,
		PollInterval:      in.PollInterval,
		MaxDefer:          in.MaxDefer,
		EarlyPasses:       in.EarlyPasses,
		MaxDelay:          in.MaxDelay,
		LateGrace:         in.LateGrace,
		RequestsPerSecond: in.RequestsPerSecond,
		MaxInFlight:       in.MaxInFlight,
		RequestTimeout:    in.RequestTimeout,
		StartOffset:       in.StartPosition.Offset,
		Shard:             ingest.Shard{Index: in.Shard.Index, Count: in.Shard.Count},
	}
	for _, s := range sources {
		if s.Discover != "" || s.Kinesis != nil {
			continue // its groups come from the inventory (WithDiscovered), or it is not polled
		}
		spec := ingest.AWSSpec{Region: s.Region, RoleARN: s.RoleARN, ExternalID: s.ExternalID, Endpoint: s.Endpoint}
		switch {
		case s.LogGroup != "":
			o.Groups = append(o.Groups, ingest.GroupSpec{Name: s.LogGroup, StreamPrefix: s.LogStreamPrefix, AWS: spec})
		case s.LogGroupARN != "":
			o.Groups = append(o.Groups, ingest.GroupSpec{Name: s.LogGroupARN, StreamPrefix: s.LogStreamPrefix, AWS: spec})
		default:
			o.Discovery = append(o.Discovery, ingest.DiscoverySpec{Prefix: s.LogGroupPrefix, StreamPrefix: s.LogStreamPrefix, AWS: spec})
		}
	}
	return o
}

// Shard is this replica's share of the sources: Index of Count, by a stable hash.
type Shard struct {
	Index, Count int
}

// Checkpoint is the validated checkpoint section; an empty Path disables checkpoints.
type Checkpoint struct {
	Path     string
	Interval time.Duration
}

// WithSources returns a copy of c whose sources are c's plus extra (groups found by the
// inventory), with the ingest options rebuilt from them.
func (c *Config) WithSources(extra []Source) *Config {
	out := *c
	out.Sources = append(append([]Source(nil), c.Sources...), extra...)
	out.IngestOptions = ingestOptions(out.Sources, out.Ingest)
	return &out
}

// LabelSets returns the distinct label sets of sources, in the order of their first source
// (the empty set too when a source has no labels).
func LabelSets(sources []Source) []sourcelabel.Set {
	var out []sourcelabel.Set
	seen := map[string]bool{}
	for _, s := range sources {
		if k := s.Labels.Key(); !seen[k] {
			seen[k] = true
			out = append(out, s.Labels)
		}
	}
	return out
}

// LabelNames returns the sorted union of the label names of sets.
func LabelNames(sets []sourcelabel.Set) []string {
	seen := map[string]bool{}
	var out []string
	for _, set := range sets {
		for _, l := range set {
			if !seen[l.Name] {
				seen[l.Name] = true
				out = append(out, l.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}
