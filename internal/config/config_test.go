package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLoadBadConfigs holds one small file per rule with the exact error it must produce.
func TestLoadBadConfigs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want string
	}{
		{"unknown-key.yml", `sources[0].log_grup (line 3): unknown key "log_grup" (valid keys here: discover, dynamodb_endpoint, ec2_endpoint, endpoint, external_id, kinesis_stream, labels, lease_table, log_format, log_formats, log_group, log_group_arn, log_group_label, log_group_prefix, log_groups, log_stream_prefix, region, role_arn)`},
		{"unknown-top-key.yml", `source (line 1): unknown key "source" (valid keys here: aggregate, checkpoint, ingest, inventory, kinesis, sources, workers)`},
		{"bad-duration.yml", `ingest.max_delay (line 4): "15 minutes" is not a duration (write e.g. 30s, 5m or 1h)`},
		{"bad-type.yml", "ingest.queue_size (line 4): cannot unmarshal !!str `lots` into int"},
		{"alias-bomb.yml", `the file expands to more than 100000 YAML nodes (nested anchors and aliases?): refused`},
		{"empty.yml", `the file is empty: name at least one source (see configs/minimal.yaml)`},
		{"two-documents.yml", `the file holds more than one YAML document: keep one`},
		{"no-sources.yml", `sources: name at least one log group, e.g. sources: [{log_group: /aws/vpc/flow-logs}]`},
		{"source-no-group.yml", `sources[0]: set one of log_group, log_group_arn or log_group_prefix`},
		{"source-two-groups.yml", `sources[0]: set only one of log_group, log_group_arn and log_group_prefix`},
		{"bad-log-group-arn.yml", `sources[0].log_group_arn: "arn:aws:logs:eu-west-1:123456789012:flow-logs" is not a log group ARN (want arn:<partition>:logs:<region>:<account>:log-group:<name>)`},
		{"bad-role-arn.yml", `sources[0].role_arn: "arn:aws:iam::123456789012:user/flowd" is not an IAM role ARN (want arn:<partition>:iam::<account>:role/<name>)`},
		{"external-id-without-role.yml", `sources[0].external_id: is only used when assuming a role: set role_arn too, or remove it`},
		{"bad-endpoint.yml", `sources[0].endpoint: "localhost:4566" is not an http(s) URL (e.g. http://127.0.0.1:4566)`},
		{"duplicate-source.yml", `sources[1]: reads the same log group as sources[0] ("/aws/vpc/flow-logs"): its records would be counted twice; remove one`},
		{"same-group-by-arn.yml", `sources[1]: reads the same log group as sources[0] ("/aws/vpc/flow-logs"): its records would be counted twice; remove one`},
		{"same-group-trailing-slash.yml", `sources[1]: reads the same log group as sources[0] ("/aws/vpc/flow-logs"): its records would be counted twice; remove one`},
		{"group-trailing-space.yml", `sources[0].log_group: "/aws/vpc/flow-logs " has leading or trailing spaces, which no log group or stream name has: remove them`},
		{"group-under-prefix.yml", `sources[1]: sources[0]'s log group "/aws/vpc/flow-logs" is also matched by sources[1]'s log_group_prefix "/aws/vpc/": its records would be counted twice; remove the group or narrow the prefix`},
		{"delay-overflow.yml", "ingest.max_delay: must be ≤ 24h, got 2562047h: each slice is read for the last time max_delay + late_grace after it ends, and its dedup memory is kept until then\ningest.late_grace: must be ≤ 24h, got 2562047h: it is added to max_delay for the final pass"},
		{"queue-size-huge.yml", `ingest.queue_size: must be ≤ 1024 batches, got 2147483647: each batch holds up to one page (up to 1 MB of events), so the queue alone could take 1048576 MB`},
		{"kinesis-bad-stream.yml", "sources[0].kinesis_stream: \"flow logs\" is not a Kinesis stream name (1-128 of a-z A-Z 0-9 _ . -) or ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>)"},
		{"kinesis-with-group.yml", "sources[0]: a Kinesis source reads the log groups its stream carries: remove log_group, log_group_arn, log_group_prefix, log_stream_prefix and discover (choose groups with log_groups)"},
		{"kinesis-same-stream.yml", "sources[1]: reads the same Kinesis stream as sources[0] (\"flow-logs\"): its events would be counted twice; remove one"},
		{"kinesis-same-lease-table.yml", "sources[1].lease_table: \"flowd-leases\" is also sources[0]'s lease table: each stream needs its own (lease keys are shard ids, the same in every stream)"},
		{"kinesis-group-also-polled.yml", "sources[1].log_groups[\"/aws/vpc/flow-logs\"]: is also read by sources[0] (/aws/vpc/*): its records would be counted twice; read each group one way"},
		{"kinesis-keys-on-polled.yml", "sources[0].lease_table: is only used by Kinesis sources: remove it, or set kinesis_stream"},
		{"kinesis-log-group-label.yml", "sources[0].log_group_label: is not supported on a Kinesis source (one stream carries many groups): use labels"},
		{"kinesis-section.yml", "kinesis.lease_duration: must be between 3s and 10m, got 1s: leases are renewed every third of it, and a dead replica's shards wait that long\nkinesis.initial_position: \"at_timestamp\" is not trim_horizon (the oldest retained record) or latest (only new records)\nkinesis.poll_interval: must be between 200ms (a shard allows 5 GetRecords calls/s) and 1m, got 10ms\nkinesis.records_per_call: must be between 1 and 10000 (GetRecords' limit), got 20000"},
		{"poll-interval-1ns.yml", `ingest.poll_interval: must be between 1s and 1h in whole milliseconds, got 1ns: it is the slice width and the idle poll period, and a shorter one multiplies API calls`},
		{"start-position-far.yml", `ingest.start_position: must be now or at most 720h back, got -2562047h: an older start reads history the 5 requests per second quota takes days to page through`},
		{"format-and-formats.yml", `sources[0]: set log_format or log_formats, not both`},
		{"bad-log-format.yml", `sources[1].log_format: flow log format: token 3 "${dst-port": stray text`},
		{"same-field-count.yml", `sources[0].log_formats: flow log matcher: formats "${version} ${srcaddr} ${action}" and "${version} ${dstaddr} ${action}" (format 2) both have 3 fields: formats are told apart by their field count, so each needs a different number of fields`},
		{"max-delay.yml", `ingest.max_delay: must be > 0: how long after its timestamp an event may still arrive (AWS: up to 15m)`},
		{"late-grace.yml", `ingest.late_grace: must be ≥ 0, got -1m`},
		{"early-passes.yml", "ingest.early_passes[1]: must be greater than the pass before it (5m): list passes in increasing order\ningest.early_passes[2]: must be less than max_delay + late_grace (20m), which is the final pass"},
		{"poll-interval.yml", `ingest.poll_interval: must be > 0 (e.g. 30s)`},
		{"requests-per-second.yml", `ingest.requests_per_second: must be > 0 and ≤ 1000 (the FilterLogEvents quota is 5 per account and Region), got 0`},
		{"max-in-flight.yml", `ingest.max_in_flight: must be ≥ 1, got 0`},
		{"queue-size.yml", `ingest.queue_size: must be ≥ 1 batch, got 0`},
		{"start-position.yml", `ingest.start_position: "yesterday": want "now" or a negative offset such as -15m`},
		{"discovery-interval.yml", `ingest.discovery_interval: must be > 0 (e.g. 5m)`},
		{"shard.yml", `ingest.shard: "2/2": want i/n with 0 ≤ i < n, e.g. 0/1 for a single replica`},
		{"checkpoint-interval.yml", `checkpoint.interval: must be > 0 (e.g. 30s)`},
		{"bucket.yml", `aggregate.bucket: must be a whole number of seconds, at least 1s (e.g. 10s), got 0s`},
		{"no-windows.yml", `aggregate.windows: list at least one window, e.g. [1m, 5m, 15m]`},
		{"window-not-multiple.yml", `aggregate.windows[1]: 1m35s is not a multiple of aggregate.bucket (10s)`},
		{"window-twice.yml", `aggregate.windows[2]: 1m is listed twice`},
		{"allowed-lateness.yml", `aggregate.allowed_lateness: must be between 0 and 24h, got -10s`},
		{"max-ports.yml", `aggregate.max_ports: must be between 1 and 100000, got 0`},
		{"max-interfaces.yml", `aggregate.max_interfaces: must be between 1 and 100000, got -1`},
		{"top-k.yml", `aggregate.top_k: must be between 1 and 1000, got 5000`},
		{"scan-port-threshold.yml", `aggregate.scan_port_threshold: must be between 1 and 64, got 0`},
		{"service-ports.yml", "aggregate.service_ports[2]: 70000 is not a port (1-65535)\naggregate.service_ports[3]: 22 is listed twice"},
		{"ephemeral-port-start.yml", `aggregate.ephemeral_port_start: 0 is not a port (1-65535)`},
		{"dimensions.yml", "aggregate.dimensions[1]: \"vpcid\" is not a dimension; choose from account_id, vpc_id, subnet_id, az_id\naggregate.dimensions[2]: \"vpc-id\" is listed twice"},
		{"network-context-caps.yml", "aggregate.max_reject_only_ports: must be between 0 and 100000, got -1\naggregate.max_dimension_values: must be between 1 and 100000, got 0\naggregate.max_network_keys: must be between 1 and 100000, got 0\naggregate.max_interface_ports: must be between 1 and 100000, got 0\naggregate.interface_info_ttl: must be between 1m and 168h, got 10s"},
		{"bucket-fraction.yml", `aggregate.bucket: must be a whole number of seconds, at least 1s (e.g. 10s), got 1.5s`},
		{"max-ports-service-ports.yml", `aggregate.max_ports: must be at least twice the number of service_ports (2): each takes a TCP and a UDP key`},
		{"ring-too-large.yml", `aggregate: aggregate config: Windows = [48h0m0s]: largest window plus AllowedLateness needs 172921 buckets of 1s, more than 100000: use wider buckets`},
		{"max-clock-skew.yml", `aggregate.max_clock_skew: must be between 0 and 24h, got -1s`},
		{"max-defer.yml", `ingest.max_defer: must be ≥ 0 (0 reads every range as soon as it is due), got -1s`},
		{"workers.yml", `workers: must be between 0 (one per CPU) and 1024, got -2`},
		{"discover-kind.yml", `sources[0].discover: "vpcs" is not a discovery kind (the one kind is flow_logs)`},
		{"discover-with-group.yml", "sources[0]: discover finds the log groups by itself: remove log_group, log_group_arn, log_group_prefix and log_stream_prefix (or discover)\nsources[0]: discover reads each flow log's exact format from EC2: remove log_format and log_formats (or discover)"},
		{"discover-twice.yml", `sources[1]: discovers the same flow logs as sources[0]: their records would be counted twice; remove one`},
		{"ec2-endpoint-without-discover.yml", `sources[0].ec2_endpoint: is only used by discover: flow_logs sources (and inventory.names): remove it, or set discover`},
		{"inventory.yml", "inventory.refresh_interval: must be at least 1s (e.g. 5m), got 0s\ninventory.max_interfaces: must be between 1 and 1000000, got 0\ninventory.requests_per_second: must be > 0 and ≤ 100 (EC2's bucket refills 20/s per action, shared with every other tool), got 500"},
		{"labels-bad-name.yml", "sources[0].labels: \"env-x\" is not a Prometheus label name (letters, digits and _, not starting with a digit)\nsources[0].labels: \"log_group_name\" is set by log_group_label: true; choose another name\nsources[0].labels: \"port\" is a label of flowd's own metrics or a Prometheus target label; choose another name\nsources[0].labels.team: empty value, which Prometheus reads as no label: give a value or remove it"},
		{"labels-log-group-label-on-prefix.yml", "sources[0].log_group_label: only for a log_group or log_group_arn source: on a discovery rule every group found would add a label set, without bound; use labels instead\nsources[1].log_group_label: only for a log_group or log_group_arn source: on a discovery rule every group found would add a label set, without bound; use labels instead"},
		{"labels-too-many-sets.yml", "sources: 17 distinct label sets (labels and log_group_label), more than 16: each set has its own aggregator and a full set of traffic series; give sources the same labels"},
		{"several-problems.yml", "sources[0].log_format: flow log format: token 2 \"${version}\": duplicate field\nsources[1]: set one of log_group, log_group_arn or log_group_prefix\ningest.queue_size: must be ≥ 1 batch, got 0\naggregate.top_k: must be between 1 and 1000, got -1"},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "bad", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(data)
			if err == nil {
				t.Fatalf("Load succeeded with %+v, want error %q", cfg, tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
	// Every bad file has a case: a file without one would test nothing.
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no case in TestLoadBadConfigs", f)
		}
	}
}

// TestLoadGoodConfigs loads the test files and the shipped examples in configs/.
func TestLoadGoodConfigs(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "good", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Glob(filepath.Join("..", "..", "configs", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, examples...)
	if len(files) < 3 {
		t.Fatalf("found only %d good configs: %v", len(files), files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			cfg, err := LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// The printed effective config loads back to the same file form: check-config's
			// output is itself a valid config (secrets aside).
			out, err := cfg.File.YAML()
			if err != nil {
				t.Fatal(err)
			}
			again, err := Load(out)
			if err != nil {
				t.Fatalf("effective config does not load back: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(again.File, cfg.File.Masked()) {
				t.Errorf("effective config changed on reload:\n%s", out)
			}
		})
	}
}

func TestMinimalConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := Load([]byte("sources:\n  - log_group: /aws/vpc/flow-logs\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].Name() != "/aws/vpc/flow-logs" {
		t.Fatalf("sources = %+v", cfg.Sources)
	}
	if n := len(cfg.Sources[0].Formats); n != 1 || cfg.Sources[0].Formats[0].NumFields() != 14 {
		t.Errorf("default format: %d formats", n)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"max_delay", cfg.Ingest.MaxDelay, 15 * time.Minute},
		{"late_grace", cfg.Ingest.LateGrace, 5 * time.Minute},
		{"early_passes", cfg.Ingest.EarlyPasses, []time.Duration{5 * time.Minute}},
		{"requests_per_second", cfg.Ingest.RequestsPerSecond, 5.0},
		{"shard", cfg.Ingest.Shard, Shard{Index: 0, Count: 1}},
		{"start_position", cfg.Ingest.StartPosition, StartPosition{Offset: -15 * time.Minute}},
		{"windows", cfg.Aggregate.Windows, []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute}},
		{"checkpoint.path", cfg.Checkpoint.Path, ""},
		{"workers", cfg.File.Workers, 0},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestSecretsMasked(t *testing.T) {
	t.Parallel()
	cfg, err := Load([]byte(`
sources:
  - log_group: /aws/vpc/flow-logs
    role_arn: arn:aws:iam::123456789012:role/flowd
    external_id: very-secret-value
`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := cfg.File.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "very-secret-value") || !strings.Contains(string(out), "external_id: <secret>") {
		t.Errorf("secret not masked:\n%s", out)
	}
	if cfg.Sources[0].ExternalID != "very-secret-value" {
		t.Errorf("runtime form lost the secret: %q", cfg.Sources[0].ExternalID)
	}
}

func TestParseStartPosition(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "now", want: now},
		{in: "-15m", want: now.Add(-15 * time.Minute)},
		{in: "2026-01-01T00:00:00Z", bad: true},
		{in: "-soon", bad: true},
		{in: "15m", bad: true},
		{in: "", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			p, err := ParseStartPosition(tc.in)
			if (err != nil) != tc.bad {
				t.Fatalf("err = %v, want bad=%v", err, tc.bad)
			}
			if !tc.bad && !p.At(now).Equal(tc.want) {
				t.Errorf("At = %v, want %v", p.At(now), tc.want)
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	t.Parallel()
	for in, want := range map[time.Duration]string{
		5 * time.Minute: "5m", time.Hour: "1h", 90 * time.Second: "1m30s", 10 * time.Second: "10s", 2*time.Hour + time.Minute: "2h1m",
	} {
		if got := Duration(in).String(); got != want {
			t.Errorf("Duration(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestEarlyPassesNone checks that an empty list stays an empty, non-nil list: ingest reads nil
// as "the default early pass" and [] as "no early pass".
func TestEarlyPassesNone(t *testing.T) {
	t.Parallel()
	cfg, err := Load([]byte("sources: [{log_group: g}]\ningest:\n  early_passes: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ingest.EarlyPasses == nil || len(cfg.Ingest.EarlyPasses) != 0 {
		t.Errorf("early_passes = %#v, want an empty non-nil slice", cfg.Ingest.EarlyPasses)
	}
}

// TestSourceLabels checks the runtime form of labels and log_group_label: one set per distinct
// label set, the log group as log_group_name, a discover rule's labels on its inventory rule.
func TestSourceLabels(t *testing.T) {
	t.Parallel()
	cfg, err := LoadFile(filepath.Join("testdata", "good", "labels.yml"))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, s := range cfg.Sources {
		got = append(got, s.Labels.Key())
	}
	want := []string{"env=prod\x00log_group_name=/aws/vpc/prod\x00team=net", "env=prod\x00team=net", "env=staging", "env=discovered"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("label sets %q, want %q", got, want)
	}
	if n := len(LabelSets(cfg.Sources)); n != 4 {
		t.Errorf("%d distinct sets, want 4", n)
	}
	if names := LabelNames(LabelSets(cfg.Sources)); !reflect.DeepEqual(names, []string{"env", "log_group_name", "team"}) {
		t.Errorf("label names %q", names)
	}
	if len(cfg.Inventories) != 1 || cfg.Inventories[0].Labels.Key() != "env=discovered" {
		t.Errorf("inventory rules %+v, want the discover source's labels", cfg.Inventories)
	}
}
