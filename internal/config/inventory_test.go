package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// discover sources become inventory rules (not polled groups); names adds one rule per other
// account and Region; WithSources adds discovered groups to the ingest options.
func TestInventoryRules(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "good", "discover.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Inventories) != 2 {
		t.Fatalf("inventories %+v, want one discovering in us-east-1 and one naming in eu-west-1", cfg.Inventories)
	}
	d, n := cfg.Inventories[0], cfg.Inventories[1]
	if !d.Discover || d.Name != "us-east-1" || d.AWS.Endpoint != "http://127.0.0.1:4567" || d.LogsEndpoint != "http://127.0.0.1:4566" {
		t.Errorf("discover rule %+v", d)
	}
	if n.Discover || n.Name != "eu-west-1" || n.AWS.Region != "eu-west-1" {
		t.Errorf("names rule %+v", n)
	}
	if cfg.Inventory.RefreshInterval != 2*time.Minute || cfg.Inventory.MaxInterfaces != 10000 || cfg.Inventory.RequestsPerSecond != 2 ||
		cfg.Inventory.IPRangesFile != "/etc/flowd/ip-ranges.json" {
		t.Errorf("inventory settings %+v", cfg.Inventory)
	}
	if len(cfg.IngestOptions.Groups) != 1 || cfg.IngestOptions.Groups[0].Name != "/aws/vpc/other" || len(cfg.IngestOptions.Discovery) != 0 {
		t.Errorf("ingest options %+v: the discover source must not be polled itself", cfg.IngestOptions)
	}
	more := cfg.WithSources([]Source{{LogGroup: "/found", Region: "us-east-1"}})
	if len(more.IngestOptions.Groups) != 2 || more.IngestOptions.Groups[1].Name != "/found" || len(cfg.IngestOptions.Groups) != 1 {
		t.Errorf("WithSources: %+v (original %+v)", more.IngestOptions.Groups, cfg.IngestOptions.Groups)
	}
	plain, err := Load([]byte("sources: [{log_group: g}]\n"))
	if err != nil || len(plain.Inventories) != 0 {
		t.Errorf("no discover, no names: inventories %+v (%v)", plain.Inventories, err)
	}
}
