package metrics

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ownLabels are the label names of flowd's families (TestOwnLabelsCoverEveryFamily checks the
// list against the descriptors), and the target labels Prometheus adds to every series: a
// source label of one of these names would clash with them.
var ownLabels = []string{
	"account_id", "action", "az_id", "dimension", "direction", "dst_addr", "goversion", "instance",
	"instance_id", "interface_id", "interface_type", "job", "kind", "leg", "log_group", "operation",
	"outcome", "port", "protocol", "reason", "revision", "src_addr", "status", "subnet_id",
	"version", "vpc_id", "window",
}

// labelName is Prometheus' label name syntax.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// CheckSourceLabel says what is wrong with name as a static source label (config: a source's
// labels, or the label that carries the log group), or returns nil: it must be a Prometheus label
// name, not reserved (__ prefix), and none of flowd's own labels or Prometheus' target labels.
func CheckSourceLabel(name string) error {
	switch {
	case !labelName.MatchString(name):
		return fmt.Errorf("%q is not a Prometheus label name (letters, digits and _, not starting with a digit)", name)
	case strings.HasPrefix(name, "__"):
		return fmt.Errorf("%q: names starting with __ are reserved for Prometheus", name)
	case slices.Contains(ownLabels, name):
		return fmt.Errorf("%q is a label of flowd's own metrics or a Prometheus target label; choose another name", name)
	}
	return nil
}
