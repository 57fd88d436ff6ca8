package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// password is the secret the tests hide in URLs and keys; it must never be printed.
const password = "s3cr3t-Pa55w0rd"

// TestHealthcheckHidesPassword runs `flowd healthcheck` with basic auth in the URL against
// answers that are not 2xx, a port nobody listens on and URLs that do not parse: the password
// appears in no output, and the URL is still named (with the password masked).
func TestHealthcheckHidesPassword(t *testing.T) {
	t.Parallel()
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, p, ok := r.BasicAuth(); ok {
			gotAuth = p
		}
		switch r.URL.Path {
		case "/-/healthy":
			_, _ = w.Write([]byte("Healthy"))
		case "/denied":
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	base := strings.Replace(srv.URL, "http://", "http://flowd:"+password+"@", 1)
	closed := "http://flowd:" + password + "@" + freePort(t) + "/-/healthy"
	for _, tc := range []struct {
		name, url string
		code      int
		want      string // on stdout
	}{
		{name: "healthy", url: base + "/-/healthy", code: 0, want: "healthy"},
		{name: "401", url: base + "/denied", code: 1, want: "answered 401 Unauthorized"},
		{name: "503", url: base + "/down", code: 1, want: "flowd:xxxxx@"},
		{name: "refused", url: closed, code: 1, want: "connection refused"},
		{name: "bad host", url: "http://flowd:" + password + "@[::1", code: 1, want: `--url "http://flowd:xxxxx@[::1"`},
		{name: "bad port", url: "http://flowd:" + password + "@127.0.0.1:port/", code: 1, want: "flowd:xxxxx@"},
		{name: "no scheme", url: "flowd:" + password + "@127.0.0.1/", code: 1, want: `scheme "flowd"`},
		{name: "no host", url: "http:///-/healthy", code: 1, want: "want http://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBinary(t, "", nil, "", "healthcheck", "--url="+tc.url, "--timeout=10s")
			if r.code != tc.code || !strings.Contains(r.stdout, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", r.code, r.stdout, r.stderr, tc.code, tc.want)
			}
			if strings.Contains(r.stdout+r.stderr, password) {
				t.Errorf("the password is printed: stdout %q, stderr %q", r.stdout, r.stderr)
			}
		})
	}
	if gotAuth != password {
		t.Errorf("the server saw password %q: healthcheck must still send it", gotAuth)
	}
}

// TestCheckConfigHidesSecrets checks a config with a password in its endpoint URL and an
// external_id, a config whose error echoes such an endpoint, and the same config from a
// variable: check-config prints neither secret, in the effective config or in errors.
func TestCheckConfigHidesSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	goodYAML := "sources:\n  - log_group: /vpc/flow-logs\n    region: us-east-1\n    endpoint: http://flowd:" + password + "@127.0.0.1:4566\n" +
		"    role_arn: arn:aws:iam::123456789012:role/flowd\n    external_id: " + password + "\n"
	bad := filepath.Join(dir, "bad.yaml")
	badYAML := "sources:\n  - log_group: /vpc/flow-logs\n    region: us-east-1\n    endpoint: ftp://flowd:" + password + "@127.0.0.1:21\n"
	for name, body := range map[string]string{good: goodYAML, bad: badYAML} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name        string
		env         []string
		args        []string
		code        int
		out, errOut string
	}{
		{name: "good file", args: []string{"check-config", good}, code: 0, out: "endpoint: http://flowd:xxxxx@127.0.0.1:4566"},
		{name: "good env", env: []string{"FLOWD_TEST_CONFIG=" + goodYAML}, args: []string{"check-config", "--config.env=FLOWD_TEST_CONFIG"}, code: 0, out: "external_id: <secret>"},
		{name: "bad file", args: []string{"check-config", "--config.file=" + bad}, code: 1, errOut: "ftp://flowd:xxxxx@127.0.0.1:21"},
		{name: "bad in run", args: []string{"run", "--config.file=" + bad, "--log.format=logfmt"}, code: 1, errOut: "ftp://flowd:xxxxx@127.0.0.1:21"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runBinary(t, dir, tc.env, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stdout, tc.out) || !strings.Contains(r.stderr, tc.errOut) {
				t.Errorf("exit %d\nstdout %s\nstderr %s\nwant %d, %q, %q", r.code, r.stdout, r.stderr, tc.code, tc.out, tc.errOut)
			}
			if strings.Contains(r.stdout+r.stderr, password) {
				t.Errorf("a secret is printed:\nstdout %s\nstderr %s", r.stdout, r.stderr)
			}
		})
	}
}
