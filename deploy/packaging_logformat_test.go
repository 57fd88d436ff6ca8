package deploy

import (
	"testing"

	"github.com/flowd-dev/flowd/internal/parse"
)

// TestOneLogFormatEverywhere checks that the flow log's format string is the same in every
// artifact: the Terraform variable that creates the flow log, and every flowd config shipped
// for it. A mismatch makes flowd count every record as malformed or unmatched.
func TestOneLogFormatEverywhere(t *testing.T) {
	want := terraformLogFormat(t)
	f, err := parse.Compile(want)
	if err != nil {
		t.Fatalf("flowd cannot compile the Terraform log_format %q: %v", want, err)
	}
	if !f.Has(parse.FieldAction) || !f.Has(parse.FieldBytes) {
		t.Errorf("log_format %q lacks action or bytes, which flowd's metrics need", want)
	}
	configs := map[string]string{
		"deploy/ecs/flowd.yaml":       logFormatOf(t, "deploy/ecs/flowd.yaml", readFile(t, "deploy/ecs/flowd.yaml")),
		"deploy/helm/flowd config":    logFormatOf(t, "chart config", []byte(chartValues(t).Config)),
		"deploy/kubernetes ConfigMap": logFormatOf(t, "ConfigMap", []byte(renderedConfig(t))),
	}
	for name, got := range configs {
		if got != want {
			t.Errorf("%s: log_format\n %q\nwant (Terraform's log_format)\n %q", name, got, want)
		}
	}
}
