// Package sourcelabel holds what the config and the metrics agree on about static source
// labels (sources[].labels, sources[].log_group_label): the valid names, the label that carries
// the log group, the cap on distinct label sets, and the canonical form of a set. It imports
// nothing but the standard library, so config can validate names without client_golang.
package sourcelabel

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// LogGroupLabel is the label that carries a source's log group when log_group_label is true.
// It is not log_group, which flowd's self-metrics (flowd_ingest_*) already use for the source
// an ingest series is about; a user label of this name is refused.
const LogGroupLabel = "log_group_name"

// MaxSets is the most distinct label sets a config may give its sources: each set has its own
// aggregator and one full set of traffic families, so the series bound is multiplied by it.
const MaxSets = 16

// Reserved are the label names of flowd's families (metrics.TestOwnLabelsCoverEveryFamily checks
// the list against the descriptors), Prometheus' target labels, and LogGroupLabel: a source label
// of one of these names would clash with them.
var Reserved = []string{
	"account_id", "action", "az_id", "dimension", "direction", "dst_addr", "goversion", "instance",
	"instance_id", "interface_id", "interface_type", "job", "kind", "leg", "log_group", LogGroupLabel,
	"operation", "outcome", "port", "protocol", "reason", "revision", "src_addr", "status",
	"subnet_id", "version", "vpc_id", "window",
}

// labelName is Prometheus' label name syntax.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Check says what is wrong with name as a static source label, or returns nil: it must be a
// Prometheus label name, not reserved (__ prefix), and none of the Reserved names.
func Check(name string) error {
	switch {
	case !labelName.MatchString(name):
		return fmt.Errorf("%q is not a Prometheus label name (letters, digits and _, not starting with a digit)", name)
	case strings.HasPrefix(name, "__"):
		return fmt.Errorf("%q: names starting with __ are reserved for Prometheus", name)
	case name == LogGroupLabel:
		return fmt.Errorf("%q is set by log_group_label: true; choose another name", name)
	case slices.Contains(Reserved, name):
		return fmt.Errorf("%q is a label of flowd's own metrics or a Prometheus target label; choose another name", name)
	}
	return nil
}

// Label is one static source label.
type Label struct{ Name, Value string }

// Set is a label set sorted by name, names distinct; nil is the set without labels.
type Set []Label

// FromMap returns the set of m, sorted by name.
func FromMap(m map[string]string) Set {
	if len(m) == 0 {
		return nil
	}
	s := make(Set, 0, len(m))
	for n, v := range m {
		s = append(s, Label{n, v})
	}
	slices.SortFunc(s, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	return s
}

// Key is the canonical form of s: equal sets have equal keys ("" for the empty set).
func (s Set) Key() string {
	var b strings.Builder
	for i, l := range s {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(l.Value)
	}
	return b.String()
}

// Value returns the value of name in s ("" when s lacks it).
func (s Set) Value(name string) string {
	for _, l := range s {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}
