package metrics

import (
	"regexp"
	"strings"
	"testing"
)

// TestOwnLabelsCoverEveryFamily checks that sourcelabel.Reserved holds every label of every descriptor, so
// a source label can never clash with a family added later.
func TestOwnLabelsCoverEveryFamily(t *testing.T) {
	t.Parallel()
	labels := regexp.MustCompile(`variableLabels: \{([^}]*)\}`)
	for _, d := range newDescs(nil).all() {
		m := labels.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read the labels of %s", d)
		}
		for _, l := range strings.Split(m[1], ",") {
			if l = strings.TrimSpace(l); l != "" && CheckSourceLabel(l) == nil {
				t.Errorf("%s: label %q is missing from sourcelabel.Reserved", d, l)
			}
		}
	}
}

func TestCheckSourceLabel(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{"env": true, "team_2": true, "_x": true, "2env": false, "env-x": false,
		"": false, "__name": false, "port": false, "job": false, "log_group": false, "vpc_id": false} {
		if err := CheckSourceLabel(name); (err == nil) != ok {
			t.Errorf("CheckSourceLabel(%q) = %v, want ok %v", name, err, ok)
		}
	}
}
