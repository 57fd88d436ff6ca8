package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/flowd-dev/flowd/internal/emulator"
)

// runningFlowd is a `flowd run` process against an emulator.
type runningFlowd struct {
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan error
	base   string
}

// syncBuffer is a strings.Builder safe for the process's writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRun starts `flowd run` with args (the config and log flags are added) under prep's
// changes to the command, and waits until addr answers /-/healthy with want.
func startRun(t *testing.T, addr string, wantHealthy int, prep func(*exec.Cmd), args ...string) *runningFlowd {
	t.Helper()
	bin := flowdBinary(t)
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.CreateLogGroup("/vpc/a"); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(emu)
	t.Cleanup(hs.Close)
	cfg := filepath.Join(t.TempDir(), "flowd.yml")
	if err := os.WriteFile(cfg, []byte("sources:\n  - log_group: /vpc/a\n    region: us-east-1\n    endpoint: "+hs.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"run", "--config.file=" + cfg, "--log.level=info"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1")
	f := &runningFlowd{cmd: cmd, logs: &syncBuffer{}, exited: make(chan error, 1), base: "http://" + addr}
	cmd.Stderr = f.logs
	if prep != nil {
		prep(cmd)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { f.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-f.exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := f.do(t, "GET", "/-/healthy", nil)
		if code == wantHealthy {
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("/-/healthy never answered %d\n%s", wantHealthy, f.logs.String())
		}
		select {
		case err := <-f.exited:
			t.Fatalf("flowd exited: %v\n%s", err, f.logs.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// do sends one request; code 0 means no answer.
func (f *runningFlowd) do(t *testing.T, method, path string, auth []string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestWebLifecycleFlag: POST /-/reload is refused (403, with the way out) unless flowd runs
// with --web.enable-lifecycle.
func TestWebLifecycleFlag(t *testing.T) {
	t.Parallel()
	offAddr := freePort(t)
	off := startRun(t, offAddr, 200, nil, "--web.listen-address="+offAddr)
	if code, body := off.do(t, "POST", "/-/reload", nil); code != 403 || !strings.Contains(body, "--web.enable-lifecycle") {
		t.Errorf("without the flag: POST /-/reload = %d %q, want 403 naming --web.enable-lifecycle", code, body)
	}
	addr := freePort(t)
	on := startRun(t, addr, 200, nil, "--web.listen-address="+addr, "--web.enable-lifecycle")
	if code, body := on.do(t, "POST", "/-/reload", nil); code != 200 {
		t.Errorf("with the flag: POST /-/reload = %d %q, want 200", code, body)
	}
}

// TestWebSystemdSocket: with --web.systemd-socket flowd serves on the socket systemd passes
// (LISTEN_FDS, fd 3, LISTEN_PID = its pid), and refuses to start without one.
func TestWebSystemdSocket(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lf, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // the child holds the duplicate
	t.Cleanup(func() { _ = lf.Close() })
	bin := flowdBinary(t)
	// sh sets LISTEN_PID to its own pid and execs flowd in place, as systemd would.
	f := startRun(t, addr, 200, func(c *exec.Cmd) {
		args := c.Args[1:]
		c.Path = "/bin/sh"
		c.Args = append([]string{"sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"`, bin}, args...)
		c.ExtraFiles = []*os.File{lf}
	}, "--web.systemd-socket", "--web.listen-address=127.0.0.1:1")
	if code, body := f.do(t, "GET", "/metrics", nil); code != 200 || !strings.Contains(body, "flowd_build_info") {
		t.Errorf("GET /metrics on the systemd socket = %d %.100q", code, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := filepath.Join(t.TempDir(), "flowd.yml")
	if err := os.WriteFile(cfg, []byte("sources:\n  - log_group: /vpc/a\n    region: us-east-1\n    endpoint: http://127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config.file="+cfg, "--web.systemd-socket")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "systemd") {
		t.Errorf("--web.systemd-socket without a socket: err %v, output %s; want a failure naming systemd", err, out)
	}
}

// TestWebConfigEmptiedFailsClosed: emptying the web config file of a running flowd does not
// turn basic auth off: requests get 503 and the log says why, until the file is restored.
func TestWebConfigEmptiedFailsClosed(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	good := "basic_auth_users:\n  prom: " + string(hash) + "\n"
	webCfg := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(webCfg, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	f := startRun(t, addr, 401, nil, "--web.listen-address="+addr, "--web.config.file="+webCfg)
	auth := []string{"prom", "s3cret"}
	if code, _ := f.do(t, "GET", "/metrics", auth); code != 200 {
		t.Fatalf("with credentials: %d", code)
	}
	if err := os.WriteFile(webCfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, a := range [][]string{nil, auth} {
		for _, p := range []string{"/metrics", "/", "/api/v1/live"} {
			if code, body := f.do(t, "GET", p, a); code != 503 {
				t.Errorf("emptied, GET %s (auth %v) = %d %.100q, want 503", p, a != nil, code, body)
			}
		}
	}
	if !strings.Contains(f.logs.String(), "web config file is no longer usable") {
		t.Errorf("no log line says the web config is refused:\n%s", f.logs.String())
	}
	if err := os.WriteFile(webCfg, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _ := f.do(t, "GET", "/metrics", nil); code != 401 {
		t.Errorf("restored, without credentials: %d, want 401", code)
	}
	if code, _ := f.do(t, "GET", "/metrics", auth); code != 200 {
		t.Errorf("restored, with credentials: %d, want 200", code)
	}
}
