package main

import (
	"bufio"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/emulator"
)

// TestRunFromEnvironment runs `flowd run --config.env=FLOWD_CONFIG` on the built binary against
// the emulator, with no config file anywhere: it reads the source named in the variable, a
// SIGHUP re-reads the variable (and says nothing can have changed), and SIGTERM stops it.
func TestRunFromEnvironment(t *testing.T) {
	t.Parallel()
	bin := flowdBinary(t)
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.CreateLogGroup("/vpc/env"); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(emu)
	t.Cleanup(hs.Close)

	addr := freePort(t)
	cmd := exec.Command(bin, "--log.format=logfmt", "run", "--config.env=FLOWD_CONFIG", "--web.listen-address="+addr)
	cmd.Dir = t.TempDir() // no flowd.yaml: the default --config.file would fail
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"FLOWD_CONFIG=sources:\n  - log_group: /vpc/env\n    region: us-east-1\n    endpoint: "+hs.URL+"\n")
	logs := startWithLogs(t, cmd)
	base := "http://" + addr

	seen := func() bool {
		for k := range exposition(base) {
			if strings.HasPrefix(k, "flowd_ingest_events_total{") && strings.Contains(k, `log_group="/vpc/env"`) {
				return true
			}
		}
		return false
	}
	logs.waitFor(t, "the source from the variable", seen)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	logs.waitLine(t, `msg="config re-read from the environment: unchanged`)
	if m := exposition(base); m["flowd_config_last_reload_successful"] != 1 {
		t.Errorf("flowd_config_last_reload_successful = %v after SIGHUP, want 1", m["flowd_config_last_reload_successful"])
	}
	logs.stop(t, cmd)
}

// TestConfigEnvErrors checks the errors of --config.env: both sources named, an unset variable,
// a bad name, a bad config in the variable.
func TestConfigEnvErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		want string // on stderr
	}{
		{name: "both", args: []string{"run", "--config.file=flowd.yaml", "--config.env=FLOWD_CONFIG"}, code: 2, want: "--config.file and --config.env name two configs: give one"},
		{name: "unset", args: []string{"run", "--config.env=FLOWD_TEST_UNSET"}, code: 1, want: "--config.env=FLOWD_TEST_UNSET: the variable is not set"},
		{name: "bad name", args: []string{"check-config", "--config.env=1-bad"}, code: 1, want: "not an environment variable name"},
		{name: "bad config", env: []string{"FLOWD_TEST_BAD=sources: []\n"}, args: []string{"check-config", "--config.env=FLOWD_TEST_BAD"}, code: 1, want: "FAILED: config from $FLOWD_TEST_BAD: sources"},
		{name: "empty", env: []string{"FLOWD_TEST_EMPTY="}, args: []string{"run", "--config.env=FLOWD_TEST_EMPTY"}, code: 1, want: "config from $FLOWD_TEST_EMPTY: the file is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runBinary(t, "", tc.env, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
}

// TestStartupLogLine checks the first log line of run names the build, in both log formats,
// and that logfmt is logfmt: key=value pairs, values with spaces quoted.
func TestStartupLogLine(t *testing.T) {
	t.Parallel()
	r := runBinary(t, "", nil, "", "--log.format=logfmt", "run", "--config.file=/nonexistent/flowd.yaml")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	start := regexp.MustCompile(`^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info msg="starting flowd" caller=flowd/runcmd.go:\d+ version=dev revision=\S+ go_version=go\S+$`)
	failed := regexp.MustCompile(`^ts=\S+ level=error msg="invalid configuration" caller=\S+ source=/nonexistent/flowd.yaml error="read config: open /nonexistent/flowd.yaml: no such file or directory"$`)
	if r.code != 1 || len(lines) != 2 || !start.MatchString(lines[0]) || !failed.MatchString(lines[1]) {
		t.Errorf("exit %d, log:\n%s", r.code, r.stderr)
	}

	r = runBinary(t, "", nil, "", "run", "--config.file=/nonexistent/flowd.yaml")
	first, _, _ := strings.Cut(r.stderr, "\n")
	var line map[string]any
	if err := json.Unmarshal([]byte(first), &line); err != nil {
		t.Fatalf("first line is not JSON: %v: %q", err, first)
	}
	if line["msg"] != "starting flowd" || line["version"] != "dev" || line["revision"] == "" || line["revision"] == nil {
		t.Errorf("first JSON log line %v, want msg starting flowd with version and revision", line)
	}
}

// logLines follows the stderr of a started binary.
type logLines struct {
	lines  chan string
	all    strings.Builder // only read after exited is closed
	exited chan struct{}
	err    error
}

// startWithLogs starts cmd with its stderr followed; the process is killed at cleanup if the
// test did not stop it.
func startWithLogs(t *testing.T, cmd *exec.Cmd) *logLines {
	t.Helper()
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &logLines{lines: make(chan string, 1024), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			l.all.WriteString(sc.Text() + "\n")
			select {
			case l.lines <- sc.Text():
			default: // nobody waits for lines now
			}
		}
		l.err = cmd.Wait()
		close(l.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-l.exited:
		default:
			_ = cmd.Process.Kill()
			<-l.exited
		}
	})
	return l
}

// waitLine waits for a log line containing want (30 s at most: a backstop, not a pace).
func (l *logLines) waitLine(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line := <-l.lines:
			if strings.Contains(line, want) {
				return
			}
		case <-l.exited:
			t.Fatalf("flowd exited (%v) before logging %q:\n%s", l.err, want, l.all.String())
		case <-deadline:
			t.Fatalf("no log line with %q within 30s", want)
		}
	}
}

// waitFor polls ok until it holds, while the process runs (30 s at most).
func (l *logLines) waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		select {
		case <-l.exited:
			t.Fatalf("flowd exited (%v) while waiting for %s:\n%s", l.err, what, l.all.String())
		case <-time.After(100 * time.Millisecond): // the poll interval
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// stop sends SIGTERM and checks a clean exit.
func (l *logLines) stop(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.exited:
		if l.err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", l.err, l.all.String())
		}
	case <-time.After(10 * time.Second):
		t.Error("did not stop within 10s of SIGTERM")
	}
}
