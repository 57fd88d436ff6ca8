package config

import (
	"bytes"

	"go.yaml.in/yaml/v3"
)

// secretMask replaces secret values in printed configs.
const secretMask = "<secret>"

// Masked returns a copy of f with secrets (external_id) replaced, safe to print or log.
func (f File) Masked() File {
	out := f
	out.Sources = make([]SourceFile, len(f.Sources))
	for i, s := range f.Sources {
		if s.ExternalID != "" {
			s.ExternalID = secretMask
		}
		out.Sources[i] = s
	}
	return out
}

// YAML prints the effective config (defaults included) with secrets masked.
func (f File) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f.Masked()); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
