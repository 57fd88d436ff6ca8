package metrics

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
	"time"

	"go.uber.org/zap/zaptest"
	"golang.org/x/crypto/bcrypt"
)

func startServer(t *testing.T, cfg ServerConfig) string {
	t.Helper()
	cfg.ListenAddresses = []string{"127.0.0.1:0"}
	cfg.Logger = zaptest.NewLogger(t)
	if cfg.Registry == nil {
		reg, err := NewRegistry(goldenCollector(t))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Registry = reg
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + s.Addrs()[0].String()
}

func get(t *testing.T, method, url string, auth ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestServerEndpoints(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	var reloads atomic.Int32
	base := startServer(t, ServerConfig{
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
		Status: func() Status {
			return Status{Version: "1.2.3", Sources: []SourceStatus{{Name: "/aws/vpc/flow-logs", Lag: time.Minute, Events: 42}}}
		},
		Extra: map[string]http.Handler{"/-/demo/truth": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "{}") })},
	})
	tests := []struct {
		name, method, path string
		before             func()
		code               int
		contains           string
	}{
		{name: "metrics", method: "GET", path: "/metrics", code: 200, contains: `flowd_flows_total{action="reject",direction="ingress",port="22",protocol="tcp"} 1`},
		{name: "go metrics", method: "GET", path: "/metrics", code: 200, contains: "go_goroutines"},
		{name: "healthy", method: "GET", path: "/-/healthy", code: 200, contains: "healthy"},
		{name: "not ready", method: "GET", path: "/-/ready", code: 503, contains: "no source polled successfully yet"},
		{name: "ready", method: "GET", path: "/-/ready", before: func() { ready.Store(true) }, code: 200, contains: "ready"},
		{name: "reload needs POST", method: "GET", path: "/-/reload", code: 405, contains: "POST"},
		{name: "reload", method: "POST", path: "/-/reload", code: 200, contains: "reloaded"},
		{name: "reload fails", method: "POST", path: "/-/reload", code: 500, contains: "previous configuration stays in use: sources[0].log_group: bad"},
		{name: "landing", method: "GET", path: "/", code: 200, contains: "/aws/vpc/flow-logs"},
		{name: "landing links extra", method: "GET", path: "/", code: 200, contains: "/-/demo/truth"},
		{name: "extra", method: "GET", path: "/-/demo/truth", code: 200, contains: "{}"},
		{name: "unknown", method: "GET", path: "/nope", code: 404},
		{name: "no pprof by default", method: "GET", path: "/debug/pprof/", code: 404},
	}
	// Sequential: the cases change the ready and reload state in order.
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			code, body := get(t, tc.method, base+tc.path)
			if code != tc.code || !strings.Contains(body, tc.contains) {
				t.Errorf("%s %s = %d %q, want %d containing %q", tc.method, tc.path, code, body, tc.code, tc.contains)
			}
		})
	}
}

// TestServerBasicAuth checks that --web.config.file is honoured.
func TestServerBasicAuth(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(path, []byte("basic_auth_users:\n  prom: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startServer(t, ServerConfig{WebConfigFile: path})
	if code, _ := get(t, "GET", base+"/metrics"); code != http.StatusUnauthorized {
		t.Errorf("without credentials: %d, want 401", code)
	}
	if code, _ := get(t, "GET", base+"/metrics", "prom", "s3cret"); code != http.StatusOK {
		t.Errorf("with credentials: %d, want 200", code)
	}
}

func TestServerBadWebConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(path, []byte("tls_server_config:\n  cert_file: /nonexistent\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewServer(ServerConfig{WebConfigFile: path, ListenAddresses: []string{"127.0.0.1:0"}, Logger: zaptest.NewLogger(t)})
	if err == nil || !strings.Contains(err.Error(), "web config file") {
		t.Errorf("err = %v, want a web config file error", err)
	}
}
