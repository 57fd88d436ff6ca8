package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// repoRoot is the repository root seen from this package's directory, where go test runs.
const repoRoot = ".."

// readFile returns the file at path (relative to the repository root) or fails the test.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return data
}

// decodeJSONStrict decodes one JSON document into v, rejecting unknown fields and trailing data.
func decodeJSONStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON document")
	}
	return nil
}

// yamlDocs decodes every document of a YAML stream (such as helm template's output), skipping
// empty ones.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, path)))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// dig walks a decoded YAML or JSON value by map keys and slice indexes, e.g.
// dig(doc, "spec", "template", "spec", "containers", 0, "image").
func dig(v any, path ...any) (any, error) {
	for i, step := range path {
		switch key := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%v: not a map", path[:i+1])
			}
			if v, ok = m[key]; !ok {
				return nil, fmt.Errorf("%v: no such key", path[:i+1])
			}
		case int:
			s, ok := v.([]any)
			if !ok || key >= len(s) {
				return nil, fmt.Errorf("%v: no such index", path[:i+1])
			}
			v = s[key]
		}
	}
	return v, nil
}

// digString is dig for a value that must be a string.
func digString(t *testing.T, v any, path ...any) string {
	t.Helper()
	got, err := dig(v, path...)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := got.(string)
	if !ok {
		t.Fatalf("%v: %T, want a string", path, got)
	}
	return s
}

// logFormatOf returns sources[0].log_format of a flowd config.
func logFormatOf(t *testing.T, name string, data []byte) string {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return digString(t, cfg, "sources", 0, "log_format")
}
