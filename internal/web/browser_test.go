package web

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

var screenshot = flag.String("screenshot", "", "write a 1280 px wide PNG of the live view to this file (go test ./internal/web -run TestLiveViewInBrowser -screenshot ../../docs/live-view.png)")

// chromium returns the path of Debian's Chromium. Without it the test is skipped on a
// developer's machine, and fails in CI (CI=true), where scripts/ci.d/00-deps.sh installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install -y chromium); CI=true, so the browser test must run")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium): skipping the browser test outside CI")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and nothing running in the
// background (no update checks, no sync: the page must load nothing from elsewhere). The
// returned context bounds each step; the browser lives until the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first call starts the browser; it must not carry the timeout (which would stop it).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	return tctx
}

// pageNumbers are the numbers the page shows that /metrics also has, read from the DOM
// (each number's exact value is in its data-value attribute; the text is formatted).
const pageNumbersJS = `(() => {
  const v = (id) => document.getElementById(id).dataset.value;
  const rows = (id, n) => [...document.querySelectorAll('#' + id + ' tr')].filter(tr => tr.cells.length >= n)
    .map(tr => [...tr.cells].map(td => td.dataset.value !== undefined ? td.dataset.value : td.textContent));
  return JSON.stringify({
    totalAccept: v('total-accept'), totalReject: v('total-reject'),
    window: document.getElementById('window').value,
    ports: rows('ports', 3), rejected: rows('rejected', 3), scans: rows('scans', 2),
    interfaces: rows('interfaces', 3), health: rows('health', 7),
    spike: document.getElementById('spike').hidden ? '' : document.getElementById('spike').textContent,
    spikeRows: document.querySelectorAll('tr.spike').length,
  });
})()`

type pageNumbers struct {
	TotalAccept, TotalReject string
	Window                   string
	Ports, Rejected, Scans   [][]string
	Interfaces, Health       [][]string
	Spike                    string
	SpikeRows                int
}

// TestLiveViewInBrowser loads the live view in Chromium and checks that the chart is drawn,
// that the numbers on the page equal those on /metrics, that it fits 390 px, and that the
// keyboard reaches its controls.
func TestLiveViewInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	f := newFixture(t)
	_, base := f.start(t, Config{Options: Options{RoutePrefix: "/proxied/flowd"}})

	if err := chromedp.Do(ctx, chromedp.Navigate(base), chromedp.WaitReady(loadedSel)); err != nil {
		t.Fatal(err)
	}
	attr := func(sel, name string) string {
		t.Helper()
		r, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
		if err != nil || !r.Exists {
			t.Fatalf("%s[%s]: %v (exists %v)", sel, name, err, r.Exists)
		}
		return r.Value
	}
	points := attr("#chart", "data-points")
	acceptPath := attr(`#chart path.line[data-series="accept"]`, "d")
	rejectPath := attr(`#chart path.line[data-series="reject"]`, "d")
	title, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#chart-title")))
	if err != nil {
		t.Fatal(err)
	}
	if points != strconv.Itoa(historyPoints) {
		t.Errorf("chart has %s points, want %d", points, historyPoints)
	}
	for name, d := range map[string]string{"accept": acceptPath, "reject": rejectPath} {
		if segs := strings.Count(d, "L"); segs < historyPoints-1 || !strings.HasPrefix(d, "M") {
			t.Errorf("%s line %.80q has %d segments, want %d", name, d, segs, historyPoints-1)
		}
	}
	if !strings.Contains(title, "per second") {
		t.Errorf("chart title %q", title)
	}

	// The numbers on the page and on /metrics, at the same moment (the fixture is fixed).
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](pageNumbersJS))
	if err != nil {
		t.Fatal(err)
	}
	var p pageNumbers
	if err := jsonUnmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	m := scrapeMetrics(t, base+"metrics")
	checks := 0
	eq := func(what, page string, prom float64) {
		t.Helper()
		checks++
		if v, err := strconv.ParseFloat(page, 64); err != nil || v != prom {
			t.Errorf("%s: page %q, /metrics %v", what, page, prom)
		}
	}
	eq("accepted flows", p.TotalAccept, m.sum("flowd_flows_total", "action", "accept"))
	eq("rejected flows", p.TotalReject, m.sum("flowd_flows_total", "action", "reject"))
	if p.Window != "15m" || len(p.Ports) == 0 || len(p.Rejected) == 0 || len(p.Scans) == 0 || len(p.Interfaces) == 0 || len(p.Health) != 2 {
		t.Fatalf("page tables: %+v", p)
	}
	for _, r := range p.Ports {
		eq("port "+r[0], r[1], m.sum("flowd_window_flows", "window", p.Window, "action", "reject", "port", r[0]))
	}
	for _, r := range p.Rejected {
		eq("rejected source "+r[0], r[1], m.sum("flowd_window_top_rejected_source_flows", "window", p.Window, "src_addr", r[0]))
	}
	for _, r := range p.Scans {
		eq("scan candidate "+r[0], r[1], m.sum("flowd_window_scan_candidate_ports", "window", p.Window, "src_addr", r[0]))
	}
	for _, r := range p.Interfaces {
		eq("interface "+r[0]+" rejected", r[1], m.sum("flowd_interface_flows_total", "interface_id", r[0], "action", "reject"))
		eq("interface "+r[0]+" accepted", r[2], m.sum("flowd_interface_flows_total", "interface_id", r[0], "action", "accept"))
	}
	for _, r := range p.Health {
		eq("source "+r[0]+" events", r[1], m.sum("flowd_ingest_events_total", "log_group", r[0]))
	}
	eq("lag", p.Health[0][2], m.sum("flowd_ingest_lag_seconds", "log_group", p.Health[0][0]))
	if p.Health[1][2] != "" || !strings.Contains(p.Health[1][6], "never read") {
		t.Errorf("the never-read source shows lag %q, state %q; want no lag value and 'never read'", p.Health[1][2], p.Health[1][6])
	}
	if !strings.Contains(p.Spike, "port 5900") || p.SpikeRows == 0 {
		t.Errorf("spike banner %q, %d highlighted rows; want port 5900 highlighted", p.Spike, p.SpikeRows)
	}
	t.Logf("%d numbers compared with /metrics", checks)

	if *screenshot != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Keyboard: Tab from the top reaches the skip link, the endpoint links, the pause button
	// and the window select, in that order; Enter on the button pauses the refresh.
	var order []string
	if err := chromedp.Do(ctx, chromedp.Navigate(base), chromedp.WaitReady(loadedSel)); err != nil {
		t.Fatal(err)
	}
	for range 12 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const e = document.activeElement; return e.id || e.getAttribute('href') || e.tagName; })()`))
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, id)
		if id == "window" {
			break
		}
	}
	got := strings.Join(order, " ")
	if !strings.HasPrefix(got, "#main ") || !strings.Contains(got, "metrics") || !strings.Contains(got, "pause window") {
		t.Errorf("tab order %q, want the skip link, the links, then pause and window", got)
	}
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#pause")), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	if pressed := attr("#pause", "aria-pressed"); pressed != "true" {
		t.Errorf("Enter on the pause button: aria-pressed %q, want true", pressed)
	}

	// 390 px wide (a phone): nothing wider than the viewport but the tables' own scrollers.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Navigate(base), chromedp.WaitReady(loadedSel)); err != nil {
		t.Fatal(err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const w = document.documentElement.clientWidth;
	  const wide = [...document.querySelectorAll('body *')].filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > w + 1);
	  return document.documentElement.scrollWidth + ' ' + w + ' ' + wide.map(e => e.tagName + '#' + e.id).join(','); })()`))
	if err != nil {
		t.Fatal(err)
	}
	if *screenshot != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(strings.TrimSuffix(*screenshot, ".png")+"-390.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if fields := strings.Fields(overflow); len(fields) != 2 || fields[0] != fields[1] {
		t.Errorf("at 390 px: scroll width, width, elements wider = %q, want no overflow", overflow)
	}
}

// loadedSel matches once the page has rendered a document.
const loadedSel = chromedp.CSS("body[data-loaded]")
