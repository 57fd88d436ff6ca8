package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/flowd-dev/flowd/internal/checkpoint"
	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/emulator"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/web"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testEnv is an emulator with one log group and a few records, reached through the real SDK.
type testEnv struct {
	emu     *emulator.Server
	url     string
	clients ingest.ClientFactory
	dir     string
	// lines are the records put, by action
	accepted, rejected int
}

const group = "/aws/vpc/flow-logs"

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	emu, err := emulator.New(emulator.Config{RateLimits: map[string]float64{
		emulator.OpFilterLogEvents: -1, emulator.OpDescribeLogGroups: -1,
	}})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Generous: net/http's Shutdown counts a freshly dialled, unused connection as busy
		// for up to 5s. flowd's own 2s bound is checked in run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stop(ctx); err != nil {
			t.Error(err)
		}
	})
	env := &testEnv{emu: emu, url: url, dir: t.TempDir(), clients: ingest.NewAWSClients(
		awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
	)}
	if err := emu.CreateLogGroup(group); err != nil {
		t.Fatal(err)
	}
	if err := emu.CreateLogStream(group, "eni-aaa-all"); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-20 * time.Minute).Truncate(time.Minute)
	var events []emulator.InputEvent
	for i := range 30 {
		action := "ACCEPT"
		if i%3 == 0 {
			action = "REJECT"
			env.rejected++
		} else {
			env.accepted++
		}
		ts := start.Add(time.Duration(i) * time.Second)
		events = append(events, emulator.InputEvent{Timestamp: ts.UnixMilli(), Message: fmt.Sprintf(
			"2 123456789012 eni-aaa 10.0.0.%d 10.0.1.5 4%04d 443 6 10 840 %d %d %s OK", i, i, ts.Unix(), ts.Unix()+60, action)})
	}
	// One malformed record and one that fits no format.
	ts := start.Add(40 * time.Second)
	events = append(events,
		emulator.InputEvent{Timestamp: ts.UnixMilli(), Message: fmt.Sprintf("2 123456789012 eni-aaa 10.0.0.999 10.0.1.5 40000 443 6 10 840 %d %d ACCEPT OK", ts.Unix(), ts.Unix()+60)},
		emulator.InputEvent{Timestamp: ts.UnixMilli(), Message: "not a flow log record"},
	)
	if err := emu.PutLogEvents(group, "eni-aaa-all", events); err != nil {
		t.Fatal(err)
	}
	return env
}

// writeConfig writes a config reading group (and extra sources) from the emulator.
func (e *testEnv) writeConfig(t *testing.T, name, extra string) string {
	t.Helper()
	body := fmt.Sprintf(`sources:
  - log_group: %s
    endpoint: %s
%s
ingest:
  poll_interval: 2s
  max_defer: 0s
  max_delay: 2s
  late_grace: 1s
  early_passes: []
  requests_per_second: 1000
  start_position: -30m
workers: 2
`, group, e.url, extra)
	if strings.Contains(name, "checkpoint") {
		body += "checkpoint:\n  path: " + filepath.Join(e.dir, "checkpoint") + "\n  interval: 1h\n"
	}
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (e *testEnv) newApp(t *testing.T, path string) *App {
	t.Helper()
	cfg, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, zaptest.NewLogger(t), Options{
		ConfigFile: path, ListenAddresses: []string{"127.0.0.1:0"}, Clients: e.clients,
		Web: web.Options{EnableLifecycle: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// run starts a.Run and returns a stop function that cancels it and checks it returns nil
// within 2 s.
func run(t *testing.T, a *App) (stop func()) {
	t.Helper()
	return runWithin(t, a, 2*time.Second)
}

// runWithin is run with another bound on the stop.
func runWithin(t *testing.T, a *App, bound time.Duration) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(bound):
			t.Fatalf("Run did not return within %s of cancel", bound)
		}
	}
	t.Cleanup(stop)
	return stop
}

var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}

func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		out[line[:i]] = v
		// The port families carry a direction (issue 14): also sum them without it, the series
		// these tests name.
		if j := strings.Index(line[:i], `,direction="`); j >= 0 {
			k := strings.IndexByte(line[j+len(`,direction="`):i], '"')
			out[line[:j]+line[j+len(`,direction="`)+k+1:i]] += v
		}
	}
	return out
}

// waitFor scrapes until cond holds; the deadline only bounds a hung test.
func waitFor(t *testing.T, base, what string, cond func(m map[string]float64) bool) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := scrape(t, base)
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			for k, v := range m {
				if strings.HasPrefix(k, "flowd_ingest") {
					t.Logf("%s %v", k, v)
				}
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func post(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := client.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAppServesCountsReloadsAndStops(t *testing.T) {
	env := newEnv(t)
	path := env.writeConfig(t, "flowd.yml", "")
	a := env.newApp(t, path)
	base := "http://" + a.Addrs()[0].String()
	stop := run(t, a)

	waitFor(t, base, "all records counted", func(m map[string]float64) bool {
		return m[`flowd_records_total{status="ok"}`] == 30
	})
	m := scrapeCounted(t, base)
	checks := map[string]float64{
		`flowd_flows_total{action="accept",port="443",protocol="tcp"}`:        float64(env.accepted),
		`flowd_flows_total{action="reject",port="443",protocol="tcp"}`:        float64(env.rejected),
		`flowd_interface_flows_total{action="reject",interface_id="eni-aaa"}`: float64(env.rejected),
		`flowd_records_total{status="malformed"}`:                             1,
		`flowd_records_total{status="unmatched"}`:                             1,
		`flowd_parse_errors_total{reason="bad_address"}`:                      1,
		`flowd_config_last_reload_successful`:                                 1,
		`flowd_worker_panics_total`:                                           0,
	}
	for k, want := range checks {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if resp, err := client.Get(base + "/-/ready"); err != nil || resp.StatusCode != 200 {
		t.Errorf("ready: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// A bad file keeps the running config.
	if err := os.WriteFile(path, []byte("sources:\n  - log_grup: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := post(t, base+"/-/reload"); code != 500 || !strings.Contains(body, `unknown key "log_grup"`) {
		t.Errorf("bad reload = %d %q", code, body)
	}
	if m := scrape(t, base); m["flowd_config_last_reload_successful"] != 0 || m[`flowd_records_total{status="ok"}`] != 30 {
		t.Errorf("after a bad reload: successful=%v ok=%v", m["flowd_config_last_reload_successful"], m[`flowd_records_total{status="ok"}`])
	}

	// Adding a source restarts ingest; the kept source resumes without counting again.
	if err := env.emu.CreateLogGroup("/other"); err != nil {
		t.Fatal(err)
	}
	env.writeConfig(t, "flowd.yml", "  - log_group: /other\n    endpoint: "+env.url)
	if code, body := post(t, base+"/-/reload"); code != 200 {
		t.Fatalf("reload = %d %q", code, body)
	}
	m = waitFor(t, base, "the new source", func(m map[string]float64) bool {
		return m[`flowd_ingest_last_success_timestamp_seconds{log_group="/other"}`] > 0 &&
			m[`flowd_ingest_last_success_timestamp_seconds{log_group="/aws/vpc/flow-logs"}`] > 0
	})
	if m["flowd_config_last_reload_successful"] != 1 || m[`flowd_records_total{status="ok"}`] != 30 {
		t.Errorf("after reload: successful=%v ok=%v (want 1, 30)", m["flowd_config_last_reload_successful"], m[`flowd_records_total{status="ok"}`])
	}

	// Changing a setting that needs a restart is refused.
	if err := os.WriteFile(path, []byte(strings.Replace(mustRead(t, path), "workers: 2", "workers: 3", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := post(t, base+"/-/reload"); code != 500 || !strings.Contains(body, "workers changed: restart flowd") {
		t.Errorf("reload of workers = %d %q", code, body)
	}
	stop()
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAppCheckpointRestart counts, stops (writing the final checkpoint), starts again on the
// same checkpoint and checks the counters come back without counting anything twice.
func TestAppCheckpointRestart(t *testing.T) {
	env := newEnv(t)
	path := env.writeConfig(t, "checkpoint.yml", "")
	a := env.newApp(t, path)
	base := "http://" + a.Addrs()[0].String()
	stop := run(t, a)
	// With a checkpoint file, counts publish at checkpoints (an hour apart here): wait on ingest's
	// live event count, then stop, which drains the queue and writes the final checkpoint.
	waitFor(t, base, "events read", func(m map[string]float64) bool {
		return m[`flowd_ingest_events_total{log_group="/aws/vpc/flow-logs"}`] == 32
	})
	stop()

	b := env.newApp(t, path)
	base = "http://" + b.Addrs()[0].String()
	stop = run(t, b)
	// The restored counts are published at once (the next checkpoint is an hour away).
	m := scrape(t, base)
	if got := m[`flowd_flows_total{action="accept",port="443",protocol="tcp"}`]; got != float64(env.accepted) {
		t.Errorf("restored accept flows = %v, want %d", got, env.accepted)
	}
	// Records by fate are checkpointed like the domain counters: restored, not reset to zero.
	if got := m[`flowd_records_total{status="ok"}`]; got != 30 {
		t.Errorf("restored flowd_records_total{status=\"ok\"} = %v, want 30", got)
	}
	watermark := float64(time.Now().Unix())
	waitFor(t, base, "a pass after the restart", func(m map[string]float64) bool {
		return m[`flowd_ingest_watermark_timestamp_seconds{log_group="/aws/vpc/flow-logs"}`] >= watermark-15
	})
	stop()
	// The final checkpoint of b published the state after its passes.
	m = scrape2(t, b)
	for k, want := range map[string]float64{
		`flowd_flows_total{action="accept",port="443",protocol="tcp"}`: float64(env.accepted),
		`flowd_flows_total{action="reject",port="443",protocol="tcp"}`: float64(env.rejected),
	} {
		if m[k] != want {
			t.Errorf("after restart %s = %v, want %v (counted twice or lost)", k, m[k], want)
		}
	}
	if rc := b.publishedCounts.Load(); rc == nil || rc.OK != 30 {
		t.Errorf("after restart the published records ok = %+v, want 30 (counted twice or lost)", rc)
	}
	if cp, err := checkpoint.Read(filepath.Join(env.dir, "checkpoint")); err != nil || cp.Aggregate == nil || cp.Records.OK != 30 || len(cp.Sources) != 1 {
		t.Errorf("checkpoint: %v", err)
	}
}

// scrape2 reads the collector of a stopped app directly (its server is closed).
func scrape2(t *testing.T, a *App) map[string]float64 {
	t.Helper()
	s := a.published.Load()
	if s == nil {
		t.Fatal("nothing published")
	}
	out := map[string]float64{}
	for _, p := range s.primary.Ports {
		act := "accept"
		if p.Action == 2 {
			act = "reject"
		}
		out[fmt.Sprintf(`flowd_flows_total{action=%q,port="%d",protocol="tcp"}`, act, p.Port)] = float64(p.Flows)
	}
	return out
}

func TestAppShutdownMethod(t *testing.T) {
	env := newEnv(t)
	a := env.newApp(t, env.writeConfig(t, "flowd.yml", ""))
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestAppPortInUse(t *testing.T) {
	env := newEnv(t)
	path := env.writeConfig(t, "flowd.yml", "")
	a := env.newApp(t, path)
	defer func() { _ = a.Shutdown(context.Background()) }()
	cfg, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cfg, zaptest.NewLogger(t), Options{ListenAddresses: []string{a.Addrs()[0].String()}, Clients: env.clients})
	if err == nil || !strings.Contains(err.Error(), "http server: listen on") {
		t.Errorf("err = %v, want a listen error", err)
	}
}

// TestNeverReadSourceSaysWhy runs a configured log group that does not exist beside one that
// does, through the real SDK: the missing one shows no lag (unknown, not 0), up 0 and the
// reason, and API requests are attributed to each source.
func TestNeverReadSourceSaysWhy(t *testing.T) {
	env := newEnv(t)
	path := env.writeConfig(t, "flowd.yml", "  - log_group: /aws/vpc/missing\n    endpoint: "+env.url)
	a := env.newApp(t, path)
	base := "http://" + a.Addrs()[0].String()
	run(t, a)
	m := waitFor(t, base, "the missing group's error", func(m map[string]float64) bool {
		return m[`flowd_ingest_source_last_error_info{log_group="/aws/vpc/missing",reason="not_found"}`] == 1 &&
			m[`flowd_ingest_source_up{log_group="/aws/vpc/flow-logs"}`] == 1 &&
			m[`flowd_ingest_events_total{log_group="/aws/vpc/flow-logs"}`] == 32
	})
	if v, ok := m[`flowd_ingest_lag_seconds{log_group="/aws/vpc/missing"}`]; ok {
		t.Errorf("never-read source shows lag %v; want no series", v)
	}
	if _, ok := m[`flowd_ingest_lag_seconds{log_group="/aws/vpc/flow-logs"}`]; !ok {
		t.Error("the source that was read shows no lag")
	}
	if v, ok := m[`flowd_ingest_source_up{log_group="/aws/vpc/missing"}`]; !ok || v != 0 {
		t.Errorf("flowd_ingest_source_up of the missing group = %v (present %v), want 0", v, ok)
	}
	if m[`flowd_ingest_api_requests_total{log_group="/aws/vpc/missing",operation="FilterLogEvents",outcome="error"}`] == 0 ||
		m[`flowd_ingest_api_requests_total{log_group="/aws/vpc/flow-logs",operation="FilterLogEvents",outcome="ok"}`] == 0 {
		t.Error("API requests not attributed to their sources")
	}
}
