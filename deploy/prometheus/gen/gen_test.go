package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedRulesMatchParams fails when flowd-rules.yml was edited by hand or params.yml was
// changed without regenerating: the two must never disagree.
func TestCommittedRulesMatchParams(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("..", "params.yml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := LoadParams(f)
	if err != nil {
		t.Fatalf("shipped params: %v", err)
	}
	var got bytes.Buffer
	if err := Render(&got, p); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "flowd-rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("deploy/prometheus/flowd-rules.yml is stale; run: go run ./deploy/prometheus/gen -params deploy/prometheus/params.yml -out deploy/prometheus/flowd-rules.yml")
	}
}

func TestLoadParamsRejectsBadValues(t *testing.T) {
	t.Parallel()
	shipped, err := os.ReadFile(filepath.Join("..", "params.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to string // a replacement applied to the shipped params
		wantPath string // the parameter the error must name
	}{
		{"unknown key", "down:\n", "down:\n  severity: page\n", "field severity not found"},
		{"empty selector", `selector: job="flowd"`, `selector: ""`, "selector"},
		{"braces in selector", `selector: job="flowd"`, `selector: '{job="flowd"}'`, "selector"},
		{"bad group_by", "group_by: job", "group_by: job,", "group_by"},
		{"runbook anchor", "alerts.md\n", "alerts.md#x\n", "runbook_url"},
		{"baseline shorter than rate", "baseline_window: 1h", "baseline_window: 1m", "baseline_window"},
		{"offset shorter than rate", "baseline_offset: 15m", "baseline_offset: 1m", "baseline_offset"},
		{"factor below 2", "factor: 3 ", "factor: 1.5 ", "reject_spike.factor"},
		{"no floor", "min_rate: 1 ", "min_rate: 0 ", "reject_spike.min_rate"},
		{"for shorter than rate window", "for: 10m           # at least", "for: 1m           # at least", "reject_spike.for"},
		{"bad port regex", "ports: 22|3389", "ports: 22|(3389", "ssh_rdp_storm.ports"},
		{"unknown window", "window: 5m ", "window: 2m ", "port_scan.window"},
		{"bad exclude regex", `exclude_sources: ""`, `exclude_sources: "(10."`, "port_scan.exclude_sources"},
		{"no rejected replies floor", "min_rate: 0.05 ", "min_rate: 0 ", "rejected_replies.min_rate"},
		{"ratio of one", "max_ratio: 0.2", "max_ratio: 1", "ingest_throttled.max_ratio"},
		{"zero lag budget", "max: 15m", "max: 0s", "ingest_lag.max"},
		{"zero kinesis lag", "kinesis_lag:\n  max: 1m", "kinesis_lag:\n  max: 0s", "kinesis_lag.max"},
		{"leases window shorter than rate window", "window: 30m", "window: 1m", "kinesis_leases_lost.window"},
		{"negative leases max", "max: 2 ", "max: -1 ", "kinesis_leases_lost.max"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := string(shipped)
			if !strings.Contains(src, tc.from) {
				t.Fatalf("params.yml no longer contains %q; update the test", tc.from)
			}
			_, err := LoadParams(strings.NewReader(strings.Replace(src, tc.from, tc.to, 1)))
			if err == nil {
				t.Fatal("LoadParams accepted the bad value")
			}
			if !strings.Contains(err.Error(), tc.wantPath) {
				t.Fatalf("error %q does not name %q", err, tc.wantPath)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	err := (&Params{}).Validate()
	var pe *ParamsError
	if !errors.As(err, &pe) {
		t.Fatalf("want *ParamsError, got %v", err)
	}
	for _, path := range []string{"selector", "rate_window", "reject_spike.factor", "port_scan.window", "checkpoint_failing.max_age"} {
		if !strings.Contains(err.Error(), path+":") {
			t.Errorf("error does not name %s: %v", path, err)
		}
	}
}

func TestRunWritesFile(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "rules.yml")
	if code := run([]string{"-params", filepath.Join("..", "params.yml"), "-out", out}); code != 0 {
		t.Fatalf("run exit code %d", code)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("alert: FlowdRejectSpike")) {
		t.Fatal("rendered file lacks FlowdRejectSpike")
	}
	if code := run([]string{"-params", filepath.Join(t.TempDir(), "missing.yml"), "-out", out}); code != 1 {
		t.Fatalf("missing params: exit code %d, want 1", code)
	}
}
