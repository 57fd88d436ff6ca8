package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/crypto/bcrypt"
)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, method, url string, auth ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode/100 == 3 {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(body)
}

func TestServerEndpoints(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var ready atomic.Bool
	var reloads atomic.Int32
	_, base := f.start(t, Config{
		Options: Options{EnableLifecycle: true},
		Ready: func() error {
			if !ready.Load() {
				return errors.New("no source polled successfully yet")
			}
			return nil
		},
		Reload: func(context.Context) error {
			if reloads.Add(1) > 1 {
				return errors.New("sources[0].log_group: bad")
			}
			return nil
		},
		Extra: map[string]http.Handler{"/-/demo/truth": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "{}") })},
	})
	tests := []struct {
		name, method, path string
		before             func()
		code               int
		contains           string
	}{
		{name: "metrics", method: "GET", path: "metrics", code: 200, contains: `flowd_flows_total{action="reject"`},
		{name: "go metrics", method: "GET", path: "metrics", code: 200, contains: "go_goroutines"},
		{name: "healthy", method: "GET", path: "-/healthy", code: 200, contains: "healthy"},
		{name: "not ready", method: "GET", path: "-/ready", code: 503, contains: "no source polled successfully yet"},
		{name: "ready", method: "GET", path: "-/ready", before: func() { ready.Store(true) }, code: 200, contains: "ready"},
		{name: "reload needs POST", method: "GET", path: "-/reload", code: 405, contains: "POST"},
		{name: "reload", method: "POST", path: "-/reload", code: 200, contains: "reloaded"},
		{name: "reload fails", method: "POST", path: "-/reload", code: 500, contains: "previous configuration stays in use: sources[0].log_group: bad"},
		{name: "page", method: "GET", path: "", code: 200, contains: `<script src="static/live.js"`},
		{name: "page script", method: "GET", path: "static/live.js", code: 200, contains: "api/v1/live"},
		{name: "page style", method: "GET", path: "static/live.css", code: 200, contains: "--reject"},
		{name: "no directory listing", method: "GET", path: "static/", code: 404},
		{name: "live", method: "GET", path: "api/v1/live", code: 200, contains: `"schema_version":1`},
		{name: "live lists extra", method: "GET", path: "api/v1/live", code: 200, contains: `"path":"-/demo/truth"`},
		{name: "live is read-only", method: "POST", path: "api/v1/live", code: 405},
		{name: "extra", method: "GET", path: "-/demo/truth", code: 200, contains: "{}"},
		{name: "unknown", method: "GET", path: "nope", code: 404},
		{name: "no pprof by default", method: "GET", path: "debug/pprof/", code: 404},
	}
	// Sequential: the cases change the ready and reload state in order.
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			code, body := get(t, tc.method, base+tc.path)
			if code != tc.code || !strings.Contains(body, tc.contains) {
				t.Errorf("%s %s = %d %.300q, want %d containing %q", tc.method, tc.path, code, body, tc.code, tc.contains)
			}
		})
	}
}

// TestReloadNeedsLifecycle: without --web.enable-lifecycle, POST /-/reload is refused with
// 403 and says how to reload instead, as Prometheus does.
func TestReloadNeedsLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var reloads atomic.Int32
	_, base := f.start(t, Config{Reload: func(context.Context) error { reloads.Add(1); return nil }})
	code, body := get(t, "POST", base+"-/reload")
	if code != http.StatusForbidden || !strings.Contains(body, "--web.enable-lifecycle") || !strings.Contains(body, "SIGHUP") {
		t.Errorf("POST /-/reload = %d %q, want 403 naming --web.enable-lifecycle and SIGHUP", code, body)
	}
	if n := reloads.Load(); n != 0 {
		t.Errorf("reloaded %d times, want 0", n)
	}
}

// TestRoutePrefix serves everything under the prefix and nothing outside it.
func TestRoutePrefix(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, opts := range []Options{{RoutePrefix: "/flowd/"}, {ExternalURL: "https://proxy.example.com/flowd"}} {
		s, base := f.start(t, Config{Options: opts})
		root := "http://" + s.Addrs()[0].String()
		if got := s.RoutePrefix(); got != "/flowd" {
			t.Errorf("%+v: prefix %q, want /flowd", opts, got)
		}
		for path, want := range map[string]int{"metrics": 200, "api/v1/live": 200, "": 200, "static/live.js": 200, "-/healthy": 200} {
			if code, body := get(t, "GET", base+path); code != want {
				t.Errorf("%+v: GET %s = %d %.200q, want %d", opts, base+path, code, body, want)
			}
		}
		if code, _ := get(t, "GET", root+"/metrics"); code != 404 {
			t.Errorf("%+v: /metrics outside the prefix = %d, want 404", opts, code)
		}
		for _, p := range []string{"/", "/flowd"} {
			if code, loc := get(t, "GET", root+p); code/100 != 3 || loc != "/flowd/" {
				t.Errorf("%+v: GET %s = %d to %q, want a redirect to /flowd/", opts, p, code, loc)
			}
		}
	}
}

func TestRoutePrefixFlags(t *testing.T) {
	t.Parallel()
	tests := []struct{ external, prefix, want, err string }{
		{want: "/"},
		{prefix: "/", want: "/"},
		{prefix: "flowd", want: "/flowd"},
		{prefix: "/a/b/", want: "/a/b"},
		{external: "http://h:9820/", want: "/"},
		{external: "https://h/x/", want: "/x"},
		{external: "https://h/x/", prefix: "/y", want: "/y"},
		{external: "h/x", err: "--web.external-url"},
		{external: "://", err: "--web.external-url"},
		{prefix: "/a?b", err: "--web.route-prefix"},
	}
	for _, tc := range tests {
		got, err := routePrefix(tc.external, tc.prefix)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("routePrefix(%q, %q) = %q, %v; want an error naming %s", tc.external, tc.prefix, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("routePrefix(%q, %q) = %q, %v; want %q", tc.external, tc.prefix, got, err, tc.want)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func basicAuthConfig(t *testing.T) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return "basic_auth_users:\n  prom: " + string(hash) + "\n"
}

// TestServerBasicAuth checks that --web.config.file protects every path, the page and its API
// included.
func TestServerBasicAuth(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "web.yml")
	writeFile(t, path, basicAuthConfig(t))
	_, base := f.start(t, Config{WebConfigFile: path})
	for _, p := range []string{"metrics", "", "api/v1/live", "static/live.js", "-/healthy"} {
		if code, _ := get(t, "GET", base+p); code != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d, want 401", p, code)
		}
		if code, _ := get(t, "GET", base+p, "prom", "s3cret"); code != http.StatusOK {
			t.Errorf("%s with credentials: %d, want 200", p, code)
		}
	}
}

func TestServerBadWebConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"missing cert": "tls_server_config:\n  cert_file: /nonexistent\n",
		"empty":        "",
		"comments":     "# nothing here\n",
		"bad yaml":     "basic_auth_users: [\n",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yml")
		writeFile(t, path, content)
		_, err := NewServer(Config{WebConfigFile: path, ListenAddresses: []string{"127.0.0.1:0"}, Logger: zaptest.NewLogger(t)})
		if err == nil || !strings.Contains(err.Error(), "web config file") {
			t.Errorf("%s: err = %v, want a web config file error", name, err)
		}
	}
}

// TestWebConfigFailsClosed: a web config file that becomes empty or invalid while flowd runs
// must not turn basic auth off: every request is refused until it is fixed, and the log says
// so once per change.
func TestWebConfigFailsClosed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "web.yml")
	good := basicAuthConfig(t)
	writeFile(t, path, good)
	core, logs := observer.New(zap.InfoLevel)
	_, base := f.start(t, Config{WebConfigFile: path, Logger: zap.New(core)})
	steps := []struct {
		name, content string
		anon, auth    int
	}{
		{"good", good, 401, 200},
		{"emptied", "", 503, 503},
		{"comments only", "# all users removed\n", 503, 503},
		{"restored", good, 401, 200},
		{"bad yaml", "basic_auth_users: [\n", 500, 500}, // exporter-toolkit refuses it itself
		{"unknown key", "basic_auth_user:\n  prom: x\n", 500, 500},
		{"restored again", good, 401, 200},
	}
	for _, st := range steps {
		writeFile(t, path, st.content)
		if code, body := get(t, "GET", base+"metrics"); code != st.anon {
			t.Errorf("%s: without credentials %d %.100q, want %d", st.name, code, body, st.anon)
		}
		if code, body := get(t, "GET", base+"metrics", "prom", "s3cret"); code != st.auth {
			t.Errorf("%s: with credentials %d %.100q, want %d", st.name, code, body, st.auth)
		}
	}
	// The guard sees "emptied" and "comments only" (one reason: one line) and "restored"; the
	// toolkit refuses the invalid files before the guard and logs them itself.
	if n := logs.FilterMessageSnippet("no longer usable").Len(); n != 1 {
		t.Errorf("%d 'no longer usable' log lines, want 1", n)
	}
	if n := logs.FilterMessageSnippet("usable again").Len(); n != 1 {
		t.Errorf("%d 'usable again' log lines, want 1", n)
	}
	if n := logs.FilterMessage("Unable to parse configuration").Len(); n == 0 {
		t.Error("no log line for the invalid files")
	}
}
