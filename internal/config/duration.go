package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in YAML as Go duration text ("30s", "5m", "1h30m").
// It exists so that the effective config prints durations the way users write them.
type Duration time.Duration

// UnmarshalYAML decodes duration text; an integer or malformed text is a type error naming the line.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a duration such as 30s or 5m", n.Line)}}
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration (write e.g. 30s, 5m or 1h)", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML prints the duration in its shortest text form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// String returns the shortest text form: "5m" rather than time.Duration's "5m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
