package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository root seen from this package's directory, where go test runs.
var repoRoot = filepath.Join("..", "..")

// readRepoFile returns the file at path (relative to the repository root) or fails the test.
func readRepoFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return data
}

// targetLabels are added by Prometheus to every scraped series; any family may carry them.
var targetLabels = []string{"job", "instance"}

// builtinFamilies are series Prometheus itself creates, usable in rules and dashboards.
var builtinFamilies = map[string][]string{"up": nil}

// closedLabelValues are the label values the contract lists as the only ones; an equality matcher
// on these labels must use one of them (a typo like action="REJECT" would match nothing forever).
var closedLabelValues = map[string][]string{
	"action":  {"accept", "reject"},
	"window":  {"1m", "5m", "15m"},
	"outcome": {"ok", "throttled", "error"},
	"status":  {"ok", "nodata", "skipdata", "malformed", "unmatched"},
}

var (
	backticked    = regexp.MustCompile("`([^`]*)`")
	parenthesized = regexp.MustCompile(`\([^)]*\)`)
	labelName     = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

// contractFamilies parses the tables under "## metrics (contract" in docs/architecture.md and
// returns each family with the labels it may carry.
func contractFamilies(t testing.TB) map[string][]string {
	t.Helper()
	doc := string(readRepoFile(t, "docs/architecture.md"))
	start := strings.Index(doc, "## metrics (contract")
	if start < 0 {
		t.Fatal(`docs/architecture.md has no "## metrics (contract" section`)
	}
	section := doc[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	families := map[string][]string{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.Contains(cells[1], "`flowd_") {
			continue
		}
		var labels []string
		col := parenthesized.ReplaceAllString(cells[3], "")
		if i := strings.Index(col, ":"); i >= 0 {
			col = col[:i]
		}
		for _, l := range strings.Split(col, ",") {
			if l = strings.TrimSpace(l); labelName.MatchString(l) {
				labels = append(labels, l)
			}
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
			families[m[1]] = labels
		}
	}
	if len(families) < 20 {
		t.Fatalf("found only %d families in the metrics contract of docs/architecture.md; did its table format change?", len(families))
	}
	for label, values := range closedLabelValues {
		for _, v := range values {
			if !strings.Contains(section, "`"+v+"`") {
				t.Fatalf("the contract no longer lists %s value %q; update closedLabelValues", label, v)
			}
		}
	}
	return families
}

func TestContractTableParses(t *testing.T) {
	t.Parallel()
	families := contractFamilies(t)
	tests := []struct {
		family string
		labels []string
	}{
		{"flowd_flows_total", []string{"action", "protocol", "port"}},
		{"flowd_bytes_total", []string{"action", "protocol", "port"}},
		{"flowd_interface_flows_total", []string{"action", "interface_id"}},
		{"flowd_window_late_records_total", nil},
		{"flowd_window_scan_candidate_ports", []string{"window", "src_addr"}},
		{"flowd_records_total", []string{"status"}},
		{"flowd_ingest_api_requests_total", []string{"log_group", "operation", "outcome"}},
		{"flowd_build_info", []string{"version", "revision", "goversion"}},
	}
	for _, tc := range tests {
		t.Run(tc.family, func(t *testing.T) {
			got, ok := families[tc.family]
			if !ok {
				t.Fatalf("%s missing from the contract", tc.family)
			}
			if strings.Join(got, ",") != strings.Join(tc.labels, ",") {
				t.Fatalf("labels %v, want %v", got, tc.labels)
			}
		})
	}
}
