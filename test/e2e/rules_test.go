package e2e

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

const rulesFile = "deploy/prometheus/flowd-rules.yml"

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// loadRules returns the shipped rules in file order.
func loadRules(t testing.TB) []rule {
	t.Helper()
	var f ruleFile
	if err := yaml.Unmarshal(readRepoFile(t, rulesFile), &f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	var rules []rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s has no rules", rulesFile)
	}
	return rules
}

// knownFamilies is the contract's families plus Prometheus' own and every shipped recording
// rule, each with the labels it carries. It fails the test on a rule that does not check.
func knownFamilies(t testing.TB) families {
	t.Helper()
	known := families(contractFamilies(t))
	for name, l := range builtinFamilies {
		known[name] = l
	}
	// Recording rules in file order: a rule may use the ones before it.
	for _, r := range loadRules(t) {
		if r.Record == "" {
			continue
		}
		e, errs := checkExpr(known, r.Expr)
		for _, err := range errs {
			t.Errorf("recording rule %s: %v", r.Record, err)
		}
		if e != nil {
			known[r.Record] = outputLabels(known, e)
		}
	}
	return known
}

// wantAlerts are the alerts issue 7 asks for; each must exist, be documented and be unit tested.
var wantAlerts = []string{
	"FlowdRejectSpike", "FlowdSSHRDPRejectStorm", "FlowdPortScan", "FlowdInterfaceRejectSurge",
	"FlowdIngestLagHigh", "FlowdIngestThrottled", "FlowdParseErrors", "FlowdSkipData",
	"FlowdSourceNotPolled", "FlowdDown", "FlowdCheckpointFailing",
	"FlowdRejectedReplies", // issue 14
	// issue 18: the Kinesis source
	"FlowdKinesisLag", "FlowdKinesisShardsUnowned", "FlowdKinesisLeasesLost", "FlowdKinesisUncheckpointedEvents",
}

// recordName is Prometheus' level:metric:operations: the labels kept, flowd's metric without
// _total, the operations newest first.
var recordName = regexp.MustCompile(`^([a-z0-9_]+):(flowd_[a-z0-9_]+):([a-z0-9_]+)$`)

// checkRecordName checks a recording rule's name against its expression: the level is the
// grouping of its aggregation (or the level of the rule it reads), and the metric is (or starts
// with) the metric it reads.
func checkRecordName(r rule) []string {
	m := recordName.FindStringSubmatch(r.Record)
	if m == nil {
		return []string{"does not follow level:flowd_metric:operations"}
	}
	level, metric := m[1], m[2]
	e, err := promql.ParseExpr(r.Expr)
	if err != nil {
		return []string{err.Error()}
	}
	top := e
	for {
		if b, ok := top.(*parser.BinaryExpr); ok {
			top = b.LHS
			continue
		}
		if p, ok := top.(*parser.ParenExpr); ok {
			top = p.Expr
			continue
		}
		break
	}
	var problems []string
	var reads []string // metric parts of what the rule selects
	var readLevels []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := selectorName(vs)
			if rm := recordName.FindStringSubmatch(name); rm != nil {
				reads, readLevels = append(reads, rm[2]), append(readLevels, rm[1])
			} else {
				reads = append(reads, strings.TrimSuffix(name, "_total"))
			}
		}
		return nil
	})
	if agg, ok := top.(*parser.AggregateExpr); ok && !agg.Without {
		if want := strings.Join(agg.Grouping, "_"); level != want {
			problems = append(problems, "level "+level+", but it keeps "+want)
		}
	} else if len(readLevels) == 0 || !slices.Contains(readLevels, level) {
		problems = append(problems, "level "+level+" is neither its grouping nor the level of a rule it reads")
	}
	if !slices.ContainsFunc(reads, func(read string) bool { return strings.HasPrefix(metric, read) }) {
		problems = append(problems, "metric "+metric+" is none of those it reads "+strings.Join(reads, ", "))
	}
	return problems
}

func TestRulesUseTheContract(t *testing.T) {
	t.Parallel()
	known := knownFamilies(t)
	records := 0
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			records++
			for _, p := range checkRecordName(r) {
				t.Errorf("recording rule %q: %s", r.Record, p)
			}
			continue
		}
		t.Run(r.Alert+"/"+r.Labels["scope"], func(t *testing.T) {
			if _, errs := checkExpr(known, r.Expr); len(errs) > 0 {
				t.Errorf("expr %q: %v", r.Expr, errs)
			}
		})
	}
	if records < 10 {
		t.Errorf("only %d recording rules", records)
	}
}

// The name check itself catches a wrong level and a wrong metric.
func TestCheckRecordNameFindsMistakes(t *testing.T) {
	t.Parallel()
	cases := []struct{ record, expr string }{
		{"flowd:flows:rate5m", `sum by (job, action, port) (rate(flowd_flows_total[5m]))`},
		{"job_port:flowd_flows:rate5m", `sum by (job, action, port) (rate(flowd_flows_total[5m]))`},
		{"job_action_port:flowd_bytes:rate5m", `sum by (job, action, port) (rate(flowd_flows_total[5m]))`},
		{"job:flowd_flows:avg1h_rate5m", `avg_over_time(job_action:flowd_flows:rate5m[1h])`},
	}
	for _, tc := range cases {
		if len(checkRecordName(rule{Record: tc.record, Expr: tc.expr})) == 0 {
			t.Errorf("%s = %s passed the name check", tc.record, tc.expr)
		}
	}
	if p := checkRecordName(rule{Record: "job_action:flowd_flows:avg1h_rate5m", Expr: `avg_over_time(job_action:flowd_flows:rate5m[1h] offset 15m)`}); len(p) > 0 {
		t.Errorf("a correct name failed: %v", p)
	}
}

func TestAlertsAreDocumentedAndLabelled(t *testing.T) {
	t.Parallel()
	anchors := markdownAnchors(string(readRepoFile(t, "docs/alerts.md")))
	seen := map[string]bool{}
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			continue
		}
		seen[r.Alert] = true
		t.Run(r.Alert+"/"+r.Labels["scope"], func(t *testing.T) {
			if !slices.Contains([]string{"critical", "warning"}, r.Labels["severity"]) {
				t.Errorf("severity %q, want critical or warning", r.Labels["severity"])
			}
			if !slices.Contains([]string{"traffic", "pipeline"}, r.Labels["category"]) {
				t.Errorf("category %q, want traffic or pipeline", r.Labels["category"])
			}
			if r.For == "" {
				t.Error("no for: a single evaluation would page")
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("annotation %s missing", a)
				}
			}
			_, anchor, ok := strings.Cut(r.Annotations["runbook_url"], "#")
			if !ok || anchor != strings.ToLower(r.Alert) {
				t.Errorf("runbook_url %q must end in #%s", r.Annotations["runbook_url"], strings.ToLower(r.Alert))
			}
			if !anchors[anchor] {
				t.Errorf("docs/alerts.md has no section with anchor #%s", anchor)
			}
		})
	}
	for _, a := range wantAlerts {
		if !seen[a] {
			t.Errorf("alert %s is missing from %s", a, rulesFile)
		}
	}
}

// markdownAnchors returns the anchors GitHub gives the headings of a Markdown document.
func markdownAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range title {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		anchors[b.String()] = true
	}
	return anchors
}

type promtoolTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryAlertIsUnitTested checks that deploy/prometheus/tests has, for every alert, a case
// where it fires and one where it must stay silent (promtool runs them in scripts/ci.d/50-rules.sh).
func TestEveryAlertIsUnitTested(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "deploy/prometheus/tests/*.yml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no promtool test files: %v", err)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, p := range paths {
		rel, _ := filepath.Rel(repoRoot, p)
		var f promtoolTests
		if err := yaml.Unmarshal(readRepoFile(t, rel), &f); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if !slices.Contains(f.RuleFiles, "../flowd-rules.yml") {
			t.Errorf("%s does not test ../flowd-rules.yml", rel)
		}
		for _, tc := range f.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					silent[a.Alertname] = true
				}
			}
		}
	}
	for _, a := range wantAlerts {
		if !fires[a] {
			t.Errorf("no promtool test where %s fires", a)
		}
		if !silent[a] {
			t.Errorf("no promtool test where %s stays silent", a)
		}
	}
}
