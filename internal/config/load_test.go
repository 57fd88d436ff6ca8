package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadBounded checks the loader's bounds: a file over MaxFileBytes is refused unread past
// the limit, and a small file of anchors still within the bound loads (anchors are allowed).
func TestLoadBounded(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "big.yml")
	big := "sources:\n  - log_group: g\n#" + strings.Repeat("x", MaxFileBytes) + "\n"
	if err := os.WriteFile(path, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); err == nil || !strings.Contains(err.Error(), "larger than 1048576 bytes") {
		t.Fatalf("big file: got %v", err)
	}
	anchors := "common: &c {region: eu-west-1}\n"
	if _, err := Load([]byte(anchors)); err == nil || !strings.Contains(err.Error(), `unknown key "common"`) {
		t.Fatalf("unknown key with an anchor: got %v", err)
	}
	ok := "sources:\n  - &s {log_group: a, region: eu-west-1}\n  - {log_group: b, region: eu-west-1}\n"
	if _, err := Load([]byte(ok)); err != nil {
		t.Fatalf("anchored source: %v", err)
	}
}

// FuzzLoad feeds the loader arbitrary files: it must return (a config or an error), never
// panic and never run away; seeded with every good and bad example.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"testdata/good", "testdata/bad"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Load(data)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Load returned config %v and error %v: want exactly one", cfg != nil, err)
		}
	})
}
