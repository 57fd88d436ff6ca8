package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckConfigExamples runs `flowd check-config` on every file in configs/, as CI does with
// the built binary (scripts/ci.d/40-check-config.sh).
func TestCheckConfigExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "configs", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no configs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			var out, errOut strings.Builder
			if code := run([]string{"check-config", "--config.file=" + f}, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if !strings.Contains(out.String(), ": OK (") || !strings.Contains(out.String(), "max_delay:") {
				t.Errorf("output lacks the effective config:\n%s", out.String())
			}
		})
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{name: "version", args: []string{"version"}, code: 0, out: "flowd dev"},
		{name: "bad config", args: []string{"check-config", "../../internal/config/testdata/bad/unknown-key.yml"}, code: 1, err: `unknown key "log_grup"`},
		{name: "missing config", args: []string{"check-config", "--config.file=/nonexistent.yaml"}, code: 1, err: "FAILED: read config"},
		{name: "no file", args: []string{"check-config"}, code: 2, err: "name a config"},
		{name: "unknown flag", args: []string{"run", "--nope"}, code: 2, err: "unknown long flag '--nope'"},
		{name: "run with bad config", args: []string{"run", "--config.file=../../internal/config/testdata/bad/no-sources.yml"}, code: 1},
		{name: "analyze help", args: []string{"analyze", "-h"}, code: 0, out: "usage: flowd analyze"},
		{name: "help on an unknown command", args: []string{"help", "nope"}, code: 2, err: `expected command but got "nope"`},
		{name: "version flag", args: []string{"--version"}, code: 0, out: "flowd dev (revision "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut strings.Builder
			code := run(tc.args, &out, &errOut)
			if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errOut.String(), tc.err) {
				t.Errorf("run(%v) = %d\nstdout %q\nstderr %q\nwant %d, %q, %q", tc.args, code, out.String(), errOut.String(), tc.code, tc.out, tc.err)
			}
		})
	}
}
