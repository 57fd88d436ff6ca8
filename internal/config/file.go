package config

import (
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
)

// File is the configuration file as written: one YAML document, snake_case keys. Every key
// is documented in docs/configuration.md.
type File struct {
	// Sources are the CloudWatch Logs log groups to read flow logs from.
	Sources []SourceFile `yaml:"sources"`
	// Ingest tunes reading: exactly-once passes, API quota, queueing.
	Ingest IngestFile `yaml:"ingest"`
	// Checkpoint makes counts survive restarts without re-counting.
	Checkpoint CheckpointFile `yaml:"checkpoint"`
	// Aggregate sets the windows and the label caps.
	Aggregate AggregateFile `yaml:"aggregate"`
	// Workers is the number of parse workers; 0 means GOMAXPROCS.
	Workers int `yaml:"workers"`
	// Inventory tunes the EC2 inventory (flow log discovery, interface and address names).
	Inventory InventoryFile `yaml:"inventory"`
	// Kinesis holds the settings of the Kinesis sources.
	Kinesis KinesisFile `yaml:"kinesis"`
}

// InventoryFile is the inventory section: how flowd asks EC2 what the flow logs and the
// network are (docs/inventory.md).
type InventoryFile struct {
	// Names runs an inventory for the account and Region of every source, not only for
	// discover: flow_logs sources, to name interfaces and addresses.
	Names             bool     `yaml:"names"`
	RefreshInterval   Duration `yaml:"refresh_interval"`
	MaxInterfaces     int      `yaml:"max_interfaces"`
	RequestsPerSecond float64  `yaml:"requests_per_second"`
	// IPRangesFile is a copy of AWS's ip-ranges.json ("" = no AWS service classification).
	IPRangesFile string `yaml:"ip_ranges_file"`
}

// SourceFile names one log group (or a prefix for discovery) and how its records are written.
type SourceFile struct {
	LogGroup        string   `yaml:"log_group,omitempty"`
	LogGroupARN     string   `yaml:"log_group_arn,omitempty"`
	LogGroupPrefix  string   `yaml:"log_group_prefix,omitempty"`
	LogStreamPrefix string   `yaml:"log_stream_prefix,omitempty"`
	LogFormat       string   `yaml:"log_format,omitempty"`
	LogFormats      []string `yaml:"log_formats,omitempty"`
	Region          string   `yaml:"region,omitempty"`
	RoleARN         string   `yaml:"role_arn,omitempty"`
	ExternalID      string   `yaml:"external_id,omitempty"`
	Endpoint        string   `yaml:"endpoint,omitempty"`
	// Discover "flow_logs" finds the account and Region's flow logs with ec2:DescribeFlowLogs
	// and reads every log group they deliver to, with their exact formats.
	Discover string `yaml:"discover,omitempty"`
	// EC2Endpoint is the EC2 endpoint of the inventory (the emulator's); "" = the SDK's.
	EC2Endpoint string `yaml:"ec2_endpoint,omitempty"`
	// Labels are static labels added to every traffic family of this source's records.
	Labels map[string]string `yaml:"labels,omitempty"`
	// LogGroupLabel adds the log group as the label log_group_name (fixed groups only).
	LogGroupLabel bool `yaml:"log_group_label,omitempty"`

	// KinesisStream (a stream name or ARN) makes this a Kinesis source: it reads the
	// CloudWatch Logs subscription records of that stream, sharing its shards with the other
	// replicas through leases; Endpoint is then the Kinesis endpoint.
	KinesisStream string `yaml:"kinesis_stream,omitempty"`
	// DynamoDBEndpoint is the lease table's endpoint (the emulator's); "" = the SDK's.
	DynamoDBEndpoint string `yaml:"dynamodb_endpoint,omitempty"`
	// LeaseTable is the DynamoDB table of the stream's leases ("" = flowd-leases).
	LeaseTable string `yaml:"lease_table,omitempty"`
	// LogGroups, when set, are the only log groups of the stream counted, each with its format
	// ("" = the source's log_format or log_formats); events of other groups are skipped and
	// counted. Unset: every group of the stream, with the source's formats.
	LogGroups map[string]string `yaml:"log_groups,omitempty"`
}

// KinesisFile is the kinesis section: settings shared by every Kinesis source.
type KinesisFile struct {
	// Owner is this replica's lease owner id; "" = the host name and a random suffix, new at
	// every start (so a restarted replica never mistakes its predecessor's leases for its own).
	Owner           string   `yaml:"owner"`
	LeaseDuration   Duration `yaml:"lease_duration"`
	InitialPosition string   `yaml:"initial_position"`
	DedupHorizon    Duration `yaml:"dedup_horizon"`
	DedupMaxEntries int      `yaml:"dedup_max_entries"`
	PollInterval    Duration `yaml:"poll_interval"`
	RecordsPerCall  int      `yaml:"records_per_call"`
	MaxInFlight     int      `yaml:"max_in_flight"`
}

// IngestFile is the ingest section.
type IngestFile struct {
	MaxDelay          Duration   `yaml:"max_delay"`
	LateGrace         Duration   `yaml:"late_grace"`
	EarlyPasses       []Duration `yaml:"early_passes"`
	PollInterval      Duration   `yaml:"poll_interval"`
	MaxDefer          Duration   `yaml:"max_defer"`
	RequestsPerSecond float64    `yaml:"requests_per_second"`
	MaxInFlight       int        `yaml:"max_in_flight"`
	RequestTimeout    Duration   `yaml:"request_timeout"`
	QueueSize         int        `yaml:"queue_size"`
	StartPosition     string     `yaml:"start_position"`
	DiscoveryInterval Duration   `yaml:"discovery_interval"`
	Shard             string     `yaml:"shard"`
}

// CheckpointFile is the checkpoint section. An empty path disables checkpoints.
type CheckpointFile struct {
	Path     string   `yaml:"path"`
	Interval Duration `yaml:"interval"`
}

// AggregateFile is the aggregate section.
type AggregateFile struct {
	Bucket             Duration   `yaml:"bucket"`
	Windows            []Duration `yaml:"windows"`
	AllowedLateness    Duration   `yaml:"allowed_lateness"`
	MaxClockSkew       Duration   `yaml:"max_clock_skew"`
	MaxPorts           int        `yaml:"max_ports"`
	MaxInterfaces      int        `yaml:"max_interfaces"`
	TopK               int        `yaml:"top_k"`
	ScanPortThreshold  int        `yaml:"scan_port_threshold"`
	ServicePorts       []int      `yaml:"service_ports"`
	EphemeralPortStart int        `yaml:"ephemeral_port_start"`

	// The network context (issue 14).
	MaxRejectOnlyPorts int      `yaml:"max_reject_only_ports"`
	InferDirection     bool     `yaml:"infer_direction"`
	Dimensions         []string `yaml:"dimensions"`
	MaxDimensionValues int      `yaml:"max_dimension_values"`
	MaxNetworkKeys     int      `yaml:"max_network_keys"`
	MaxInterfacePorts  int      `yaml:"max_interface_ports"`
	InterfaceInfoTTL   Duration `yaml:"interface_info_ttl"`
}

// Default returns the file form with every default filled in; decoding overlays the user's
// keys on it. Lists given in the file replace the default list whole. The aggregate defaults
// are aggregate.DefaultConfig's, so the two never drift apart.
func Default() File {
	ad := aggregate.DefaultConfig()
	windows := make([]Duration, len(ad.Windows))
	for i, w := range ad.Windows {
		windows[i] = Duration(w)
	}
	ports := make([]int, len(ad.ServicePorts))
	for i, p := range ad.ServicePorts {
		ports[i] = int(p)
	}
	return File{
		Ingest: IngestFile{
			MaxDelay:          Duration(15 * time.Minute),
			LateGrace:         Duration(5 * time.Minute),
			EarlyPasses:       []Duration{Duration(5 * time.Minute)},
			PollInterval:      Duration(30 * time.Second),
			MaxDefer:          Duration(2 * time.Minute),
			RequestsPerSecond: 5,
			MaxInFlight:       4,
			RequestTimeout:    Duration(30 * time.Second),
			QueueSize:         64,
			StartPosition:     "-15m",
			DiscoveryInterval: Duration(5 * time.Minute),
			Shard:             "0/1",
		},
		Checkpoint: CheckpointFile{Interval: Duration(30 * time.Second)},
		Kinesis: KinesisFile{
			LeaseDuration:   Duration(10 * time.Second),
			InitialPosition: "trim_horizon",
			DedupHorizon:    Duration(10 * time.Minute),
			DedupMaxEntries: 2_000_000,
			PollInterval:    Duration(time.Second),
			RecordsPerCall:  10000,
			MaxInFlight:     4,
		},
		Inventory: InventoryFile{
			RefreshInterval:   Duration(5 * time.Minute),
			MaxInterfaces:     10000,
			RequestsPerSecond: 2,
		},
		Aggregate: AggregateFile{
			Bucket:             Duration(ad.BucketWidth),
			Windows:            windows,
			AllowedLateness:    Duration(ad.AllowedLateness),
			MaxClockSkew:       Duration(ad.MaxClockSkew),
			MaxPorts:           ad.MaxPorts,
			MaxInterfaces:      ad.MaxInterfaces,
			TopK:               ad.TopK,
			ScanPortThreshold:  ad.ScanPortThreshold,
			ServicePorts:       ports,
			EphemeralPortStart: int(ad.EphemeralStart),
			MaxRejectOnlyPorts: ad.MaxRejectOnlyPorts,
			InferDirection:     ad.InferDirection,
			Dimensions:         []string{},
			MaxDimensionValues: ad.MaxDimensionValues,
			MaxNetworkKeys:     ad.MaxNetworkKeys,
			MaxInterfacePorts:  ad.MaxInterfacePorts,
			InterfaceInfoTTL:   Duration(ad.InterfaceInfoTTL),
		},
	}
}
