package app

import (
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/parse"
)

// TestWarnFormats checks that a misspelled field in a configured format is logged with the
// nearest known name, and that a clean format logs nothing.
func TestWarnFormats(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.WarnLevel)
	bad := parse.MustCompile(strings.Replace(parse.DefaultFormat, "${action}", "${actoin}", 1))
	warnFormats(zap.New(core), []config.Source{
		{LogGroup: "/clean", Formats: []*parse.Format{parse.MustCompile(parse.DefaultFormat)}},
		{LogGroup: "/typo", Formats: []*parse.Format{bad}},
	})
	entries := logs.All()
	if len(entries) != 2 {
		t.Fatalf("%d warnings, want 2 (unknown field, cannot count): %v", len(entries), entries)
	}
	fields := entries[0].ContextMap()
	if fields["log_group"] != "/typo" || fields["kind"] != "unknown_field" || !strings.Contains(fields["warning"].(string), `did you mean "action"`) {
		t.Errorf("first warning %v", fields)
	}
	if entries[1].ContextMap()["kind"] != "cannot_count" {
		t.Errorf("second warning %v", entries[1].ContextMap())
	}
}
