package e2e

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// families maps a metric family name to the labels its series may carry.
type families map[string][]string

// promql parses with the default options: the functions every current Prometheus accepts.
var promql = parser.NewParser(parser.Options{})

// checkExpr parses expr and reports every selector of an unknown family, every matcher or
// grouping on a label the families involved cannot carry, and every value outside a closed set.
func checkExpr(known families, expr string) (parser.Expr, []error) {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return nil, []error{fmt.Errorf("parse: %w", err)}
	}
	var errs []error
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			errs = append(errs, checkSelector(known, n)...)
		case *parser.AggregateExpr:
			have := labelsUnder(known, n.Expr)
			for _, l := range n.Grouping {
				if !slices.Contains(have, l) {
					errs = append(errs, fmt.Errorf("%s groups by %q, which none of its series carries (have %v)", n.Op, l, have))
				}
			}
		case *parser.BinaryExpr:
			if n.VectorMatching != nil && len(n.VectorMatching.MatchingLabels) > 0 {
				have := append(labelsUnder(known, n.LHS), labelsUnder(known, n.RHS)...)
				for _, l := range n.VectorMatching.MatchingLabels {
					if !slices.Contains(have, l) {
						errs = append(errs, fmt.Errorf("%s matches on %q, which neither side carries", n.Op, l))
					}
				}
			}
		}
		return nil
	})
	return e, errs
}

func selectorName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

func checkSelector(known families, vs *parser.VectorSelector) []error {
	name := selectorName(vs)
	have, ok := known[name]
	if !ok {
		return []error{fmt.Errorf("%q is neither in the metrics contract of docs/architecture.md nor a shipped recording rule", name)}
	}
	var errs []error
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel {
			continue
		}
		if !slices.Contains(have, m.Name) && !slices.Contains(targetLabels, m.Name) {
			errs = append(errs, fmt.Errorf("%s has no label %q (it has %v)", name, m.Name, have))
			continue
		}
		if values, closed := closedLabelValues[m.Name]; closed && m.Type == labels.MatchEqual && !slices.Contains(values, m.Value) {
			errs = append(errs, fmt.Errorf("%s{%s=%q}: the contract's values are %v", name, m.Name, m.Value, values))
		}
	}
	return errs
}

// labelsUnder is every label the series selected under node may carry, target labels included.
func labelsUnder(known families, node parser.Node) []string {
	set := map[string]bool{}
	for _, l := range targetLabels {
		set[l] = true
	}
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			for _, l := range known[selectorName(vs)] {
				set[l] = true
			}
		}
		return nil
	})
	out := make([]string, 0, len(set))
	for l := range set {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// outputLabels is the labels a recording rule's result carries: the grouping of a top-level
// sum/max/min/avg/count, else whatever its selectors carry.
func outputLabels(known families, e parser.Expr) []string {
	switch n := e.(type) {
	case *parser.ParenExpr:
		return outputLabels(known, n.Expr)
	case *parser.AggregateExpr:
		switch n.Op {
		case parser.SUM, parser.MAX, parser.MIN, parser.AVG, parser.COUNT:
			if !n.Without {
				return slices.Clone(n.Grouping)
			}
		}
	case *parser.BinaryExpr:
		return outputLabels(known, n.LHS)
	}
	return labelsUnder(known, e)
}

func TestCheckExprFindsMistakes(t *testing.T) {
	t.Parallel()
	known := families{
		"flowd_flows_total":                  {"action", "protocol", "port"},
		"job_action_port:flowd_flows:rate5m": {"job", "action", "port"},
	}
	tests := []struct {
		name, expr string
		wantErrs   int
	}{
		{"good", `sum by (job, port) (rate(flowd_flows_total{action="reject", port=~"22|3389"}[5m]))`, 0},
		{"recorded", `job_action_port:flowd_flows:rate5m{action="accept"} > on (job, port) job_action_port:flowd_flows:rate5m{action="reject"}`, 0},
		{"name matcher", `{__name__="flowd_flows_total", job="flowd"}`, 0},
		{"syntax", `sum(rate(flowd_flows_total[5m])`, 1},
		{"unknown family", `rate(flowd_flow_total[5m])`, 1},
		{"unknown label", `flowd_flows_total{interface_id="eni-1"}`, 1},
		{"closed value", `flowd_flows_total{action="REJECT"}`, 1},
		{"regexp on closed label is not checked", `flowd_flows_total{action=~"acc.*"}`, 0},
		{"grouping by absent label", `sum by (src_addr) (flowd_flows_total)`, 1},
		{"matching on absent label", `flowd_flows_total / on (log_group) flowd_flows_total`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, errs := checkExpr(known, tc.expr)
			if len(errs) != tc.wantErrs {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, tc.wantErrs)
			}
		})
	}
}

func TestSubstitute(t *testing.T) {
	t.Parallel()
	values := map[string]string{"__rate_interval": "1m", "job": "flowd"}
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"dollar", `rate(x{job=~"$job"}[$__rate_interval])`, `rate(x{job=~"flowd"}[1m])`, false},
		{"braces and format", `x{job=~"${job:regex}"}[${__rate_interval}]`, `x{job=~"flowd"}[1m]`, false},
		{"old brackets", `x{job="[[job]]"}`, `x{job="flowd"}`, false},
		{"unknown", `x{window="$window"}`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := substitute(tc.in, values)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("substitute(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
