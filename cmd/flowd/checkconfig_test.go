package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckConfigFormatWarnings checks that check-config names a misspelled field and its
// nearest known name, says the format cannot count flows, and still accepts the file.
func TestCheckConfigFormatWarnings(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "flowd.yaml")
	yaml := "sources:\n  - log_group: /vpc/flow\n    log_format: \"${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${actoin} ${log-status}\"\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if code := run([]string{"check-config", "--config.file=" + path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{`sources[0] (/vpc/flow)`, `unknown field "actoin" (did you mean "action"?)`, `lacks ${action}`} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if !strings.Contains(out.String(), ": OK (") {
		t.Errorf("stdout %q", out.String())
	}
}
