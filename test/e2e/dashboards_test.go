package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

const dashboardDir = "deploy/grafana/dashboards"

type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasourceRef  `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	Targets    []struct {
		RefID      string         `json:"refId"`
		Expr       string         `json:"expr"`
		Instant    bool           `json:"instant"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's panels
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// query is one panel target, located for error messages.
type query struct {
	Where   string // file, panel title and refId
	Expr    string // as written in the dashboard
	Instant bool
}

// loadDashboards returns every dashboard by file name.
func loadDashboards(t testing.TB) map[string]dashboard {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, dashboardDir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no dashboards in %s: %v", dashboardDir, err)
	}
	out := map[string]dashboard{}
	for _, p := range paths {
		var d dashboard
		name := filepath.Base(p)
		if err := json.Unmarshal(readRepoFile(t, filepath.Join(dashboardDir, name)), &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = d
	}
	return out
}

// allPanels flattens rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// dashboardQueries returns every panel target of every dashboard.
func dashboardQueries(t testing.TB) []query {
	t.Helper()
	var qs []query
	for name, d := range loadDashboards(t) {
		for _, p := range allPanels(d.Panels) {
			for _, tg := range p.Targets {
				qs = append(qs, query{Where: fmt.Sprintf("%s %q %s", name, p.Title, tg.RefID), Expr: tg.Expr, Instant: tg.Instant})
			}
		}
	}
	slices.SortFunc(qs, func(a, b query) int { return strings.Compare(a.Where, b.Where) })
	return qs
}

var grafanaVariable = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]`)

// substitute replaces Grafana variables in expr with values; an unknown variable is an error,
// so that a dashboard cannot use a variable it does not define.
func substitute(expr string, values map[string]string) (string, error) {
	var unknown []string
	out := grafanaVariable.ReplaceAllStringFunc(expr, func(m string) string {
		sm := grafanaVariable.FindStringSubmatch(m)
		name := sm[1] + sm[2] + sm[3]
		v, ok := values[name]
		if !ok {
			unknown = append(unknown, name)
			return m
		}
		return v
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown Grafana variables %v", unknown)
	}
	return out, nil
}

// staticValues stand in for Grafana's variables when a query is only parsed.
var staticValues = map[string]string{
	"__rate_interval": "1m", "__interval": "1m", "__range": "1h",
	"job": "flowd", "window": "5m",
}

func TestDashboardQueriesParseAndUseTheContract(t *testing.T) {
	t.Parallel()
	known := knownFamilies(t)
	qs := dashboardQueries(t)
	if len(qs) < 20 {
		t.Fatalf("only %d dashboard queries", len(qs))
	}
	for _, q := range qs {
		t.Run(q.Where, func(t *testing.T) {
			expr, err := substitute(q.Expr, staticValues)
			if err != nil {
				t.Fatal(err)
			}
			if _, errs := checkExpr(known, expr); len(errs) > 0 {
				t.Errorf("%q: %v", expr, errs)
			}
		})
	}
}

func TestDashboardsAreProvisionable(t *testing.T) {
	t.Parallel()
	uids := map[string]string{}
	for name, d := range loadDashboards(t) {
		t.Run(name, func(t *testing.T) {
			if d.UID == "" || len(d.UID) > 40 {
				t.Errorf("uid %q: want a fixed uid of at most 40 characters", d.UID)
			}
			if other, dup := uids[d.UID]; dup {
				t.Errorf("uid %q also used by %s", d.UID, other)
			}
			uids[d.UID] = name
			if d.SchemaVersion < 36 {
				t.Errorf("schemaVersion %d, want 36 or later (datasource references by uid)", d.SchemaVersion)
			}
			if d.Title == "" {
				t.Error("no title")
			}
			vars := map[string]string{}
			for _, v := range d.Templating.List {
				vars[v.Name] = v.Type
			}
			if vars["datasource"] != "datasource" {
				t.Fatal(`no variable "datasource" of type datasource`)
			}
			ids := map[int]bool{}
			for _, p := range allPanels(d.Panels) {
				if p.ID <= 0 || ids[p.ID] {
					t.Errorf("panel %q: id %d missing or repeated", p.Title, p.ID)
				}
				ids[p.ID] = true
				if p.Type == "row" {
					continue
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no query", p.Title)
				}
				if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
					t.Errorf("panel %q does not use ${datasource}", p.Title)
				}
				for _, tg := range p.Targets {
					if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
						t.Errorf("panel %q target %s does not use ${datasource}", p.Title, tg.RefID)
					}
					for _, m := range grafanaVariable.FindAllStringSubmatch(tg.Expr, -1) {
						name := m[1] + m[2] + m[3]
						if _, ok := vars[name]; !ok && !strings.HasPrefix(name, "__") {
							t.Errorf("panel %q uses $%s, which the dashboard does not define", p.Title, name)
						}
					}
				}
			}
		})
	}
}

type provisioning struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name string `yaml:"name"`
		Type string `yaml:"type"`
		URL  string `yaml:"url"`
	} `yaml:"datasources"`
	Providers []struct {
		Name    string `yaml:"name"`
		Type    string `yaml:"type"`
		Options struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

func TestGrafanaProvisioning(t *testing.T) {
	t.Parallel()
	load := func(path string) provisioning {
		var p provisioning
		dec := yaml.NewDecoder(strings.NewReader(string(readRepoFile(t, path))))
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if p.APIVersion != 1 {
			t.Errorf("%s: apiVersion %d, want 1", path, p.APIVersion)
		}
		return p
	}
	ds := load("deploy/grafana/provisioning/datasources/flowd.yml")
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL == "" {
		t.Errorf("datasources: want one prometheus data source with a url, got %+v", ds.Datasources)
	}
	db := load("deploy/grafana/provisioning/dashboards/flowd.yml")
	if len(db.Providers) != 1 || db.Providers[0].Type != "file" || db.Providers[0].Options.Path == "" {
		t.Fatalf("dashboards: want one file provider with a path, got %+v", db.Providers)
	}
	// deploy/compose mounts the dashboards where the provider looks.
	if !strings.Contains(string(readRepoFile(t, composeFile)), ":"+db.Providers[0].Options.Path) {
		t.Errorf("%s does not mount the dashboards at %s", composeFile, db.Providers[0].Options.Path)
	}
}

// constantLabels is the labels of a fallback without selectors (vector(0), maybe relabelled by
// label_replace), and whether expr is such a fallback at all.
func constantLabels(e parser.Expr) ([]string, bool) {
	switch n := e.(type) {
	case *parser.ParenExpr:
		return constantLabels(n.Expr)
	case *parser.NumberLiteral:
		return nil, true
	case *parser.Call:
		switch n.Func.Name {
		case "vector":
			return nil, true
		case "label_replace":
			inner, ok := constantLabels(n.Args[0])
			dst, isStr := n.Args[1].(*parser.StringLiteral)
			if !ok || !isStr {
				return nil, false
			}
			return append(inner, dst.Val), true
		}
	}
	return nil, false
}

// A fallback such as `or vector(0)` beside a query with labels adds a series without them (a
// bare "{}" line in a panel by reason). Every constant fallback must carry the labels of the
// query it stands in for, and match on () so that it appears only when the query has nothing.
func TestDashboardFallbacksKeepTheLabels(t *testing.T) {
	t.Parallel()
	known := knownFamilies(t)
	fallbacks := 0
	for _, q := range dashboardQueries(t) {
		expr, err := substitute(q.Expr, staticValues)
		if err != nil {
			t.Fatal(err)
		}
		e, errs := checkExpr(known, expr)
		if len(errs) > 0 {
			continue // TestDashboardQueriesParseAndUseTheContract reports it
		}
		parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
			b, ok := node.(*parser.BinaryExpr)
			if !ok || b.Op != parser.LOR {
				return nil
			}
			got, isConst := constantLabels(b.RHS)
			if !isConst {
				return nil
			}
			fallbacks++
			want := outputLabels(known, b.LHS)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: fallback %s has labels %v, the query it stands in for %v", q.Where, b.RHS, got, want)
			}
			if len(want) > 0 && (b.VectorMatching == nil || !b.VectorMatching.On || len(b.VectorMatching.MatchingLabels) > 0) {
				t.Errorf("%s: fallback %s without `or on ()` is added beside every series", q.Where, b.RHS)
			}
			return nil
		})
	}
	if fallbacks < 3 {
		t.Errorf("only %d fallbacks found; the dashboards have at least 3", fallbacks)
	}
}

// topk over a range query picks its k series at every step, so a panel over an hour shows many
// more than k. In a range query, every topk/bottomk must rank at one fixed time (`@ end()`,
// typically over [$__range]), so the set is the same at every step.
func TestRangeTopKRanksOnce(t *testing.T) {
	t.Parallel()
	ranked := 0
	for _, q := range dashboardQueries(t) {
		if q.Instant {
			continue
		}
		expr, err := substitute(q.Expr, staticValues)
		if err != nil {
			t.Fatal(err)
		}
		e, err := promql.ParseExpr(expr)
		if err != nil {
			continue // TestDashboardQueriesParseAndUseTheContract reports it
		}
		parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
			agg, ok := node.(*parser.AggregateExpr)
			if !ok || (agg.Op != parser.TOPK && agg.Op != parser.BOTTOMK) {
				return nil
			}
			ranked++
			parser.Inspect(agg.Expr, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok && vs.Timestamp == nil && vs.StartOrEnd == 0 {
					t.Errorf("%s: %s ranks %s at every step; add @ end() (and a [$__range] range)", q.Where, agg.Op, vs)
				}
				return nil
			})
			return nil
		})
	}
	if ranked < 8 {
		t.Errorf("only %d ranked range queries found; the dashboards have at least 8", ranked)
	}
}
