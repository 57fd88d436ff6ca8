package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/flowd-dev/flowd/internal/aggregate"
)

// uncountedReasons is every reason label the aggregator can emit, from the code itself:
// aggregate.Reason values until String() reports the end of the list.
func uncountedReasons() []string {
	var out []string
	for r := aggregate.Reason(0); r.String() != "unknown"; r++ {
		out = append(out, r.String())
	}
	return out
}

// The contract row of flowd_records_uncounted_total lists exactly the reasons the binary emits
// (it once named a reason, missing_bytes, that no code produced).
func TestUncountedReasonsAreTheCodes(t *testing.T) {
	t.Parallel()
	want := uncountedReasons()
	if len(want) < 3 {
		t.Fatalf("only %d reasons from the aggregator: %v", len(want), want)
	}
	var row string
	for _, line := range strings.Split(string(readRepoFile(t, "docs/architecture.md")), "\n") {
		if strings.HasPrefix(line, "| `flowd_records_uncounted_total`") {
			row = line
		}
	}
	cells := strings.Split(row, "|")
	if len(cells) < 4 {
		t.Fatal("docs/architecture.md has no table row for flowd_records_uncounted_total")
	}
	var got []string
	for _, m := range backticked.FindAllStringSubmatch(cells[3], -1) {
		got = append(got, m[1])
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("docs/architecture.md lists reasons %v for flowd_records_uncounted_total; the aggregator emits %v", got, want)
	}
}
