package config

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/lease"
)

// TestKinesisSource checks the runtime form of a Kinesis source: its stream, lease table, the
// formats of each listed group (its own, or the source's), and that it is not polled.
func TestKinesisSource(t *testing.T) {
	t.Parallel()
	cfg, err := LoadFile(filepath.Join("testdata", "good", "kinesis.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.IngestOptions.Groups) != 1 || cfg.IngestOptions.Groups[0].Name != "/aws/vpc/polled" {
		t.Fatalf("polled groups = %+v, want only /aws/vpc/polled", cfg.IngestOptions.Groups)
	}
	k := cfg.Sources[1]
	if k.Kinesis == nil {
		t.Fatal("sources[1] is not a Kinesis source")
	}
	if k.Name() != "kinesis:arn:aws:kinesis:eu-west-1:123456789012:stream/flow-logs" || k.Kinesis.LeaseTable != "flowd-flow-logs-leases" {
		t.Errorf("name %q, lease table %q", k.Name(), k.Kinesis.LeaseTable)
	}
	a, b := k.Kinesis.Groups["/aws/vpc/a"], k.Kinesis.Groups["/aws/vpc/b"]
	if len(k.Kinesis.Groups) != 2 || len(a.Formats) != 1 || len(b.Formats) != 1 {
		t.Fatalf("groups = %+v", k.Kinesis.Groups)
	}
	if a.Formats[0] != k.Formats[0] || a.Formats[0].NumFields() != 15 || b.Formats[0].NumFields() != 14 {
		t.Errorf("group a has %d fields (the source's format: %v), b %d", a.Formats[0].NumFields(), a.Formats[0] == k.Formats[0], b.Formats[0].NumFields())
	}
	if k.Labels.Key() == "" {
		t.Error("labels lost")
	}
	want := Kinesis{Owner: "replica-1", LeaseDuration: 10 * time.Second, InitialPosition: lease.Latest, DedupHorizon: 10 * time.Minute,
		DedupMaxEntries: 2_000_000, PollInterval: time.Second, RecordsPerCall: 10000, MaxInFlight: 4}
	if cfg.Kinesis != want {
		t.Errorf("kinesis = %+v, want %+v", cfg.Kinesis, want)
	}
	// Without lease_table and log_groups: the default table, and every group of the stream.
	c2, err := Load([]byte("sources:\n  - kinesis_stream: flow-logs\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := c2.Sources[0]; s.Kinesis.LeaseTable != DefaultLeaseTable || s.Kinesis.Groups != nil || len(s.Formats) != 1 || c2.Kinesis.InitialPosition != lease.TrimHorizon {
		t.Errorf("defaults: %+v, formats %d, initial position %q", s.Kinesis, len(s.Formats), c2.Kinesis.InitialPosition)
	}
}
