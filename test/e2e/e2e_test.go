//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// Bounds of every wait. The whole test stays under about three minutes.
const (
	startupTimeout = 40 * time.Second  // each of: flowd serving its backfill, Prometheus ready, Alertmanager ready
	alertTimeout   = 170 * time.Second // the demo's first reject spike (30-90s after start, firing about 60s later) and port scan reach Alertmanager
	pollInterval   = time.Second
)

// wantAtAlertmanager are the alerts the demo scenario must raise.
var wantAtAlertmanager = []string{"FlowdRejectSpike", "FlowdPortScan"}

// e2eValues stand in for Grafana's variables when dashboard queries run against the test's
// Prometheus (1s scrapes, a few minutes of data).
var e2eValues = map[string]string{
	"__rate_interval": "15s", "__interval": "5s", "__range": "1m",
	"job": "flowd", "window": "5m",
}

// TestEndToEnd runs `flowd demo` under a real Prometheus (1s scrape and evaluation, the shipped
// rule template rendered with test-speed parameters) and a real Alertmanager (the shipped example
// config), and checks through their HTTP APIs that the demo's reject spike and port scan reach
// Alertmanager, that no pipeline-health alert fires, and that every dashboard query has data.
func TestEndToEnd(t *testing.T) {
	began := time.Now()
	dir := t.TempDir()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	promBin := lookPath(t, "prometheus")
	amBin := lookPath(t, "prometheus-alertmanager")
	flowdBin := os.Getenv("FLOWD_BIN")
	if flowdBin == "" {
		flowdBin = filepath.Join(dir, "flowd")
		goRun(t, root, "build", "-o", flowdBin, "./cmd/flowd")
	}
	rules := filepath.Join(dir, "flowd-rules.yml")
	goRun(t, root, "run", "./deploy/prometheus/gen", "-params", "test/e2e/testdata/params-fast.yml", "-out", rules)

	flowdPort, promPort, amPort := freePort(t), freePort(t), freePort(t)
	flowdURL := fmt.Sprintf("http://127.0.0.1:%d", flowdPort)
	promURL := fmt.Sprintf("http://127.0.0.1:%d", promPort)
	amURL := fmt.Sprintf("http://127.0.0.1:%d", amPort)

	am := start(t, dir, "alertmanager", amBin,
		"--config.file="+filepath.Join(root, "deploy/alertmanager/alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "alertmanager"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", amPort),
		"--cluster.listen-address=")
	flowd := start(t, dir, "flowd", flowdBin, demoArgs(flowdPort, freePort(t), demoBackfill(time.Now()))...)
	all := []*process{am, flowd}
	defer func() {
		if t.Failed() {
			for _, p := range all {
				t.Logf("%s log ends:\n%s", p.name, p.tail(2000))
			}
		}
	}()
	poll(t, "alertmanager ready", startupTimeout, pollInterval, all, func(ctx context.Context) error {
		_, err := get(ctx, amURL+"/-/ready")
		return err
	})
	// The demo backfills 15 minutes of traffic at start. Prometheus starts once flowd has read it,
	// so that rate() sees live traffic only, as it would after any flowd restart with a checkpoint.
	poll(t, "flowd to count the demo's backfill", startupTimeout, pollInterval, all, func(ctx context.Context) error {
		body, err := get(ctx, flowdURL+"/metrics")
		if err != nil {
			return err
		}
		m := string(body)
		if !strings.Contains(m, `flowd_flows_total{action="reject"`) || !strings.Contains(m, "\nflowd_ingest_behind{") || strings.Contains(m, "\nflowd_ingest_behind{log_group=\"/flowd/demo/vpc-flow-logs\"} 1") {
			return fmt.Errorf("%w: backfill not read yet", errNotYet)
		}
		return nil
	})
	promConfig := filepath.Join(dir, "prometheus.yml")
	writePrometheusConfig(t, promConfig, rules, flowdPort, amPort)
	prom := start(t, dir, "prometheus", promBin,
		"--config.file="+promConfig,
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", promPort))
	all = append(all, prom)
	poll(t, "prometheus ready", startupTimeout, pollInterval, all, func(ctx context.Context) error {
		_, err := get(ctx, promURL+"/-/ready")
		return err
	})
	t.Logf("flowd, Alertmanager and Prometheus up after %s", time.Since(began).Round(time.Second))

	// Until both alerts are at Alertmanager, watch that no pipeline alert fires in Prometheus.
	var firedPipeline []string
	seen := map[string]bool{}
	poll(t, strings.Join(wantAtAlertmanager, " and ")+" at Alertmanager", alertTimeout, pollInterval, all, func(ctx context.Context) error {
		firing, err := prometheusAlerts(ctx, promURL)
		if err != nil {
			return err
		}
		for _, a := range firing {
			if key := a.Labels["alertname"] + " " + a.State; slices.Contains(wantAtAlertmanager, a.Labels["alertname"]) && !seen[key] {
				seen[key] = true
				t.Logf("%s %s in Prometheus after %s (value %s)", a.Labels["alertname"], a.State, time.Since(began).Round(time.Second), a.Value)
			}
			if a.Labels["category"] == "pipeline" && a.State == "firing" && !slices.Contains(firedPipeline, a.Labels["alertname"]) {
				firedPipeline = append(firedPipeline, a.Labels["alertname"])
				t.Logf("pipeline alert firing: %v (value %s)", a.Labels, a.Value)
			}
		}
		names, err := alertmanagerAlerts(ctx, amURL)
		if err != nil {
			return err
		}
		var missing []string
		for _, want := range wantAtAlertmanager {
			if !slices.Contains(names, want) {
				missing = append(missing, want)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%w: Alertmanager has %v, missing %v", errNotYet, names, missing)
		}
		return nil
	})
	t.Logf("%v at Alertmanager after %s", wantAtAlertmanager, time.Since(began).Round(time.Second))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names, err := alertmanagerAlerts(ctx, amURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !slices.Contains(firedPipeline, n) && isPipelineAlert(t, n) {
			firedPipeline = append(firedPipeline, n)
		}
	}
	// The demo simulates AWS's SKIPDATA records on purpose (rarely): FlowdSkipData may fire, but
	// only when flowd really read one during the test.
	if i := slices.Index(firedPipeline, "FlowdSkipData"); i >= 0 {
		n, err := querySeries(ctx, promURL, `increase(flowd_records_total{job="flowd", status="skipdata"}[10m]) > 0`)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			t.Log("FlowdSkipData fired for a SKIPDATA record the demo delivered: expected")
			firedPipeline = slices.Delete(firedPipeline, i, i+1)
		}
	}
	if len(firedPipeline) > 0 {
		t.Errorf("pipeline-health alerts fired during the demo: %v", firedPipeline)
	}

	// Every dashboard query returns data from this Prometheus.
	for _, q := range dashboardQueries(t) {
		expr, err := substitute(q.Expr, e2eValues)
		if err != nil {
			t.Errorf("%s: %v", q.Where, err)
			continue
		}
		n, err := querySeries(ctx, promURL, expr)
		switch {
		case err != nil:
			t.Errorf("%s: %v", q.Where, err)
		case n == 0:
			t.Errorf("%s: no data for %s", q.Where, expr)
		}
	}
	// A ranked range panel shows at most k series over its whole range (TestRangeTopKRanksOnce
	// checks the form; this checks what a real Prometheus answers).
	for _, q := range dashboardQueries(t) {
		k := rangeTopK(t, q)
		if k == 0 {
			continue
		}
		expr, _ := substitute(q.Expr, e2eValues)
		end := time.Now()
		n, err := queryRangeSeries(ctx, promURL, expr, end.Add(-time.Minute), end, 5*time.Second)
		switch {
		case err != nil:
			t.Errorf("%s: range query: %v", q.Where, err)
		case n > k:
			t.Errorf("%s: %d series over a 1m range, want at most %d: %s", q.Where, n, k, expr)
		}
	}
	t.Logf("done in %s", time.Since(began).Round(time.Second))
}

// rangeTopK is the k of a range query's topk, or 0 for an instant query or one without topk.
func rangeTopK(t *testing.T, q query) int {
	t.Helper()
	if q.Instant {
		return 0
	}
	expr, err := substitute(q.Expr, e2eValues)
	if err != nil {
		return 0
	}
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return 0
	}
	k := 0
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if agg, ok := n.(*parser.AggregateExpr); ok && agg.Op == parser.TOPK {
			if num, ok := agg.Param.(*parser.NumberLiteral); ok {
				k = int(num.Val)
			}
		}
		return nil
	})
	return k
}

// queryRangeSeries runs a range query and returns how many series it answered.
func queryRangeSeries(ctx context.Context, promURL, expr string, start, end time.Time, step time.Duration) (int, error) {
	q := url.Values{"query": {expr}, "start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)}, "step": {step.String()}}
	body, err := get(ctx, promURL+"/api/v1/query_range?"+q.Encode())
	if err != nil {
		return 0, err
	}
	var resp struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return 0, fmt.Errorf("decode query_range result: %w", err)
	}
	return len(resp.Data.Result), nil
}

// demoBackfill chooses the demo's backfill so that its first live reject spike starts 30-90s
// after flowd does: late enough for Prometheus to hold the baseline the test-speed rules compare
// with (about 45s of history), early enough for the test to stay short. The demo's simulated
// time starts at now minus the backfill, truncated to the minute (M minus the backfill, M being
// now truncated, for whole-minute backfills), and its spikes cover the second minute of every
// five from there: a 15m backfill puts one at M+1m, a 14m backfill at M+2m.
func demoBackfill(now time.Time) time.Duration {
	if now.Sub(now.Truncate(time.Minute)) < 30*time.Second {
		return 15 * time.Minute
	}
	return 14 * time.Minute
}

// demoArgs are flowd's arguments: the demo scenario (a reject spike and a port scan every 5
// minutes), serving metrics on port, with its CloudWatch Logs emulator on emulatorPort.
func demoArgs(port, emulatorPort int, backfill time.Duration) []string {
	return []string{"demo", "--demo.scenario=demo", "--demo.backfill=" + backfill.String(),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		fmt.Sprintf("--demo.emulator-address=127.0.0.1:%d", emulatorPort)}
}

func writePrometheusConfig(t *testing.T, path, rules string, flowdPort, amPort int) {
	t.Helper()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %q
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:%d"]
scrape_configs:
  - job_name: flowd
    static_configs:
      - targets: ["127.0.0.1:%d"]
`, rules, amPort, flowdPort)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

func lookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found (scripts/ci.d/00-deps.sh installs it from Debian's packages): %v", name, err)
	}
	return p
}

// goRun runs the go command in the repository root, bounded to two minutes.
func goRun(t *testing.T, root string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
	Value  string            `json:"value"`
}

// prometheusAlerts returns the alerts Prometheus has pending or firing.
func prometheusAlerts(ctx context.Context, promURL string) ([]promAlert, error) {
	body, err := get(ctx, promURL+"/api/v1/alerts")
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("decode /api/v1/alerts: %w", err)
	}
	return resp.Data.Alerts, nil
}

// alertmanagerAlerts returns the names of the alerts Alertmanager holds (active, silenced or
// inhibited alike: reaching it is what counts).
func alertmanagerAlerts(ctx context.Context, amURL string) ([]string, error) {
	body, err := get(ctx, amURL+"/api/v2/alerts")
	if err != nil {
		return nil, err
	}
	var alerts []struct {
		Labels map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(body, &alerts); err != nil {
		return nil, fmt.Errorf("decode /api/v2/alerts: %w", err)
	}
	var names []string
	for _, a := range alerts {
		if n := a.Labels["alertname"]; !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// isPipelineAlert reports whether the shipped rules give alert name the pipeline category.
func isPipelineAlert(t *testing.T, name string) bool {
	for _, r := range loadRules(t) {
		if r.Alert == name {
			return r.Labels["category"] == "pipeline"
		}
	}
	return false
}

// querySeries runs an instant query and returns how many series (or 1 for a scalar) it returned.
func querySeries(ctx context.Context, promURL, expr string) (int, error) {
	body, err := get(ctx, promURL+"/api/v1/query?query="+url.QueryEscape(expr))
	if err != nil {
		return 0, err
	}
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string            `json:"resultType"`
			Result     []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	// A scalar's result is [time, "value"], which also decodes as two raw messages.
	if err := json.Unmarshal(body, &resp); err != nil {
		return 0, fmt.Errorf("decode query result: %w", err)
	}
	if resp.Data.ResultType == "scalar" {
		return 1, nil
	}
	return len(resp.Data.Result), nil
}
