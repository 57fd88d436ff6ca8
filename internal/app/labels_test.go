package app

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/flowd-dev/flowd/internal/checkpoint"
	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/emulator"
)

// scrapeCounted scrapes once more after a waitFor on flowd_records_total: a scrape reads the
// aggregator's snapshot before the record counters, so the scrape that first shows every record
// may hold a snapshot taken just before the last batch was added; workers count records only
// after adding them, so the next scrape holds them all.
func scrapeCounted(t *testing.T, base string) map[string]float64 {
	t.Helper()
	return scrape(t, base)
}

// sumSeries sums the series of family whose labels contain every one of want.
func sumSeries(m map[string]float64, family string, want ...string) float64 {
	var sum float64
	for k, v := range m {
		// scrape also adds each directed series without its direction: count those only.
		if !strings.HasPrefix(k, family+"{") || strings.Contains(k, `direction="`) {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(k, w)
		}
		if ok {
			sum += v
		}
	}
	return sum
}

// TestAppSourceLabels reads two log groups with different labels from the emulator: each label
// set has its own series, whose counts are that group's records; a reload that changes one
// source's labels keeps the other set's counters, and one that changes the label names is refused.
func TestAppSourceLabels(t *testing.T) {
	env := newEnv(t)
	const second = "/aws/vpc/second"
	put := func(start time.Time, n int, port int) {
		t.Helper()
		var events []emulator.InputEvent
		for i := range n {
			ts := start.Add(time.Duration(i) * time.Second)
			events = append(events, emulator.InputEvent{Timestamp: ts.UnixMilli(), Message: fmt.Sprintf(
				"2 123456789012 eni-bbb 10.1.0.%d 10.1.1.5 5%04d %d 6 10 840 %d %d ACCEPT OK", i, i, port, ts.Unix(), ts.Unix()+60)})
		}
		if err := env.emu.PutLogEvents(second, "eni-bbb-all", events); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.emu.CreateLogGroup(second); err != nil {
		t.Fatal(err)
	}
	if err := env.emu.CreateLogStream(second, "eni-bbb-all"); err != nil {
		t.Fatal(err)
	}
	put(time.Now().Add(-10*time.Minute).Truncate(time.Minute), 7, 80)
	extra := func(env2 string) string {
		return "    labels: {env: prod}\n  - log_group: " + second + "\n    endpoint: " + env.url + "\n    labels: {env: " + env2 + "}\n    log_group_label: true"
	}
	path := env.writeConfig(t, "flowd.yml", extra("test"))
	a := env.newApp(t, path)
	base := "http://" + a.Addrs()[0].String()
	stop := run(t, a)

	waitFor(t, base, "both groups counted", func(m map[string]float64) bool {
		return m[`flowd_records_total{status="ok"}`] == 37
	})
	m := scrapeCounted(t, base)
	prod, test := `env="prod"`, `env="test"`
	group2 := `log_group_name="` + second + `"`
	checks := []struct {
		name      string
		got, want float64
	}{
		{"prod flows", sumSeries(m, "flowd_flows_total", prod), float64(env.accepted + env.rejected)},
		{"prod accepted on 443", sumSeries(m, "flowd_flows_total", prod, `action="accept"`, `port="443"`), float64(env.accepted)},
		{"prod rejected on eni-aaa", sumSeries(m, "flowd_interface_flows_total", prod, `action="reject"`, `interface_id="eni-aaa"`), float64(env.rejected)},
		{"prod without log_group_name", sumSeries(m, "flowd_flows_total", prod, `log_group_name=""`), float64(env.accepted + env.rejected)},
		{"test flows", sumSeries(m, "flowd_flows_total", test, group2), 7},
		{"test accepted on 80", sumSeries(m, "flowd_flows_total", test, group2, `port="80"`), 7},
		{"test on eni-bbb", sumSeries(m, "flowd_interface_flows_total", test, `interface_id="eni-bbb"`), 7},
		{"test on eni-aaa", sumSeries(m, "flowd_interface_flows_total", test, `interface_id="eni-aaa"`), 0},
		{"prod on eni-bbb", sumSeries(m, "flowd_interface_flows_total", prod, `interface_id="eni-bbb"`), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	// Changing the second source's label value keeps the prod set's counters; the new set
	// counts only what is read after the reload (the source resumes at its position).
	env.writeConfig(t, "flowd.yml", extra("staging"))
	if code, body := post(t, base+"/-/reload"); code != 200 {
		t.Fatalf("reload = %d %q", code, body)
	}
	put(time.Now(), 3, 8080) // events of now: the earlier range is read already
	waitFor(t, base, "the records put after the reload", func(m map[string]float64) bool {
		return m[`flowd_records_total{status="ok"}`] == 40
	})
	m = scrapeCounted(t, base)
	if got := sumSeries(m, "flowd_flows_total", prod); got != float64(env.accepted+env.rejected) {
		t.Errorf("prod flows after the reload = %v, want %v (kept)", got, env.accepted+env.rejected)
	}
	if got := sumSeries(m, "flowd_flows_total", `env="staging"`, group2); got != 3 {
		t.Errorf("staging flows = %v, want the 3 read after the reload", got)
	}
	if got := sumSeries(m, "flowd_flows_total", test); got != 0 {
		t.Errorf("the dropped set still has %v flows", got)
	}

	// A reload that changes the label names is refused: every family's label names would change.
	env.writeConfig(t, "flowd.yml", strings.Replace(extra("staging"), "{env: prod}", "{env: prod, team: net}", 1))
	if code, body := post(t, base+"/-/reload"); code != 500 || !strings.Contains(body, "the source label names ([env log_group_name team], were [env log_group_name])") {
		t.Errorf("reload with new label names = %d %q", code, body)
	}
	stop()
}

// TestAppSourceLabelsCheckpointRestart checks that each label set's counts survive a restart
// through the checkpoint (version 3), none moved to another set and none counted twice.
func TestAppSourceLabelsCheckpointRestart(t *testing.T) {
	env := newEnv(t)
	const second = "/aws/vpc/second"
	if err := env.emu.CreateLogGroup(second); err != nil {
		t.Fatal(err)
	}
	if err := env.emu.CreateLogStream(second, "eni-bbb-all"); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	var events []emulator.InputEvent
	for i := range 5 {
		ts := start.Add(time.Duration(i) * time.Second)
		events = append(events, emulator.InputEvent{Timestamp: ts.UnixMilli(), Message: fmt.Sprintf(
			"2 123456789012 eni-bbb 10.1.0.%d 10.1.1.5 5%04d 80 6 10 840 %d %d ACCEPT OK", i, i, ts.Unix(), ts.Unix()+60)})
	}
	if err := env.emu.PutLogEvents(second, "eni-bbb-all", events); err != nil {
		t.Fatal(err)
	}
	// The first source has no labels: its set is the checkpoint's unlabelled Aggregate.
	path := env.writeConfig(t, "checkpoint.yml", "  - log_group: "+second+"\n    endpoint: "+env.url+"\n    labels: {env: test}")
	a := env.newApp(t, path)
	stop := run(t, a)
	waitFor(t, "http://"+a.Addrs()[0].String(), "events read", func(m map[string]float64) bool {
		return m[`flowd_ingest_events_total{log_group="/aws/vpc/flow-logs"}`] == 32 && m[`flowd_ingest_events_total{log_group="`+second+`"}`] == 5
	})
	stop()
	cp, err := checkpoint.Read(filepath.Join(env.dir, "checkpoint"))
	if err != nil || cp.Aggregate == nil || len(cp.Labeled) != 1 || cp.Labeled[0].Labels.Key() != "env=test" {
		t.Fatalf("checkpoint %+v, %v: want the unlabelled set and env=test", cp, err)
	}

	b := env.newApp(t, path)
	stop = run(t, b)
	m := scrape(t, "http://"+b.Addrs()[0].String())
	stop()
	if got, want := sumSeries(m, "flowd_flows_total", `env=""`), float64(env.accepted+env.rejected); got != want {
		t.Errorf("restored unlabelled flows = %v, want %v", got, want)
	}
	if got := sumSeries(m, "flowd_flows_total", `env="test"`, `port="80"`); got != 5 {
		t.Errorf("restored env=test flows = %v, want 5", got)
	}
}

// TestRestoreVersion2IntoUnlabelledSet restores the checkpoint package's version 2 file (one
// aggregator, two accepted flows) into an app whose sources have two label sets: the counts go
// to the set without labels, the labelled set starts from zero.
func TestRestoreVersion2IntoUnlabelledSet(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load([]byte("sources:\n  - log_group: /aws/vpc/flow-logs\n  - log_group: /b\n    labels: {env: test}\n"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := checkpoint.Read(filepath.Join("..", "checkpoint", "testdata", "v2.checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	a := &App{log: zaptest.NewLogger(t), clock: fixedClock(st.Written)}
	a.cfg.Store(cfg)
	a.labelNames = config.LabelNames(config.LabelSets(cfg.Sources))
	table, err := a.newRoutes(cfg.Sources, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.formats.Store(table)
	if err := a.restoreSets(st, "v2.checkpoint"); err != nil {
		t.Fatal(err)
	}
	flows := func(key string) (n uint64) {
		for _, c := range a.sets().byKey[key].agg.Snapshot().Interfaces {
			n += c.Counts.Flows
		}
		return n
	}
	if got := flows(""); got != 2 {
		t.Errorf("unlabelled set restored %d flows, want 2", got)
	}
	if got := flows("env=test"); got != 0 {
		t.Errorf("labelled set has %d flows, want 0", got)
	}
}

// fixedClock is a clock that stands still (restoring needs no timer).
type fixedClock time.Time

func (c fixedClock) Now() time.Time                       { return time.Time(c) }
func (c fixedClock) After(time.Duration) <-chan time.Time { return nil }
