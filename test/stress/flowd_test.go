//go:build stress

package stress

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// flowd is the real flowd binary running as a subprocess with a config in a temporary directory.
type flowd struct {
	t       *testing.T
	dir     string
	addr    string // host:port of /metrics
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	starts  int
	client  *http.Client
	web     *webSetup // nil: plain HTTP, no auth
}

// webSetup serves flowd over TLS with basic auth: the flags to add, and how to reach it.
type webSetup struct {
	args       []string
	transport  *http.Transport // trusts flowd's certificate
	user, pass string
}

// base is flowd's base URL.
func (f *flowd) base() string {
	if f.web != nil {
		return "https://" + f.addr
	}
	return "http://" + f.addr
}

// get sends an authenticated GET (when flowd has basic auth) with client.
func (f *flowd) get(client *http.Client, path string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, f.base()+path, nil)
	if err != nil {
		return nil, err
	}
	if f.web != nil {
		req.SetBasicAuth(f.web.user, f.web.pass)
	}
	return client.Do(req)
}

// ingestParams are the ingest and checkpoint settings of a scenario (durations as YAML text).
type ingestParams struct {
	PollInterval, MaxDelay, LateGrace, MaxDefer, StartPosition string
	EarlyPasses                                                string // YAML list, e.g. "[20s]" or "[]"
	RequestsPerSecond                                          float64
	MaxInFlight                                                int
	CheckpointInterval                                         string
	Aggregate                                                  string   // extra YAML under aggregate:, indented by 2
	Groups                                                     []string // log groups to read; nil: the cloud's group
}

// simIngest suits the simulator's records, 1-65 s old when visible: every one is on time
// (max_delay 70s), read a first time 20 s after its slice and a last time 80 s after it.
func simIngest() ingestParams {
	return ingestParams{PollInterval: "2s", MaxDelay: "70s", LateGrace: "10s", EarlyPasses: "[20s]",
		MaxDefer: "0s", StartPosition: "-3m", RequestsPerSecond: 5, MaxInFlight: 4, CheckpointInterval: "1s"}
}

func (p ingestParams) yaml(c *cloud, checkpoint string) string {
	var b strings.Builder
	groups := p.Groups
	if groups == nil {
		groups = []string{c.group}
	}
	b.WriteString("sources:\n")
	for _, g := range groups {
		fmt.Fprintf(&b, "  - log_group: %s\n    region: us-east-1\n    endpoint: %s\n", g, c.url)
	}
	fmt.Fprintf(&b, "ingest:\n  poll_interval: %s\n  max_delay: %s\n  late_grace: %s\n  early_passes: %s\n  max_defer: %s\n  start_position: %q\n  requests_per_second: %g\n  max_in_flight: %d\n",
		p.PollInterval, p.MaxDelay, p.LateGrace, p.EarlyPasses, p.MaxDefer, p.StartPosition, p.RequestsPerSecond, p.MaxInFlight)
	fmt.Fprintf(&b, "checkpoint:\n  path: %s\n  interval: %s\n", checkpoint, p.CheckpointInterval)
	if p.Aggregate != "" {
		fmt.Fprintf(&b, "aggregate:\n%s", p.Aggregate)
	}
	return b.String()
}

// startFlowd writes the config and starts flowd; it is stopped (SIGKILL) when the test ends.
func startFlowd(t *testing.T, c *cloud, p ingestParams) *flowd {
	t.Helper()
	return startFlowdWeb(t, c, p, nil)
}

// startFlowdWeb is startFlowd with web settings (nil: plain HTTP).
func startFlowdWeb(t *testing.T, c *cloud, p ingestParams, web *webSetup) *flowd {
	t.Helper()
	return startFlowdConfig(t, func(dir string) string { return p.yaml(c, filepath.Join(dir, "checkpoint")) }, web)
}

// startFlowdConfig starts flowd on the config that config writes for flowd's directory (its
// checkpoint belongs there, so that a restart on the same directory resumes from it), with web
// settings (nil: plain HTTP); it is stopped (SIGKILL) when the test ends.
func startFlowdConfig(t *testing.T, config func(dir string) string, web *webSetup) *flowd {
	t.Helper()
	dir := t.TempDir()
	cfg := config(dir)
	if err := os.WriteFile(filepath.Join(dir, "flowd.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	f := &flowd{t: t, dir: dir, addr: freeAddr(t), logPath: filepath.Join(dir, "flowd.log"),
		client: &http.Client{Timeout: 5 * time.Second}, web: web}
	if web != nil {
		f.client.Transport = web.transport
	}
	t.Cleanup(func() {
		f.kill()
		if t.Failed() {
			f.dumpLog(60)
		}
	})
	f.start()
	return f
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs the binary and waits until /-/healthy answers.
func (f *flowd) start() {
	f.t.Helper()
	logf, err := os.OpenFile(f.logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		f.t.Fatal(err)
	}
	cmd := exec.Command(flowdBin, "run", "--config.file="+filepath.Join(f.dir, "flowd.yaml"),
		"--web.listen-address="+f.addr, "--log.level=info")
	if f.web != nil {
		cmd.Args = append(cmd.Args, f.web.args...)
	}
	cmd.Env = append(cleanEnv(), "AWS_ACCESS_KEY_ID=stress", "AWS_SECRET_ACCESS_KEY=stress",
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		f.t.Fatalf("start flowd: %v", err)
	}
	f.starts++
	f.cmd = cmd
	exited := make(chan struct{})
	f.exited = exited
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(exited)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := f.get(f.client, "/-/healthy")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			f.dumpLog(40)
			f.t.Fatalf("flowd exited at start: %v", cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			f.dumpLog(40)
			f.t.Fatalf("flowd not healthy after 15s: %v", err)
		}
	}
}

// cleanEnv is the environment without AWS settings of the machine running the tests.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

// alive reports whether the process is still running.
func (f *flowd) alive() bool {
	select {
	case <-f.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (f *flowd) kill() {
	if f.cmd == nil || !f.alive() {
		return
	}
	_ = f.cmd.Process.Signal(syscall.SIGKILL)
	<-f.exited
}

// stop sends SIGTERM and waits up to 10 s for a clean exit; it reports the exit code.
func (f *flowd) stop() (int, error) {
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.exited:
		return f.cmd.ProcessState.ExitCode(), nil
	case <-time.After(10 * time.Second):
		f.kill()
		return -1, fmt.Errorf("flowd did not stop within 10s of SIGTERM")
	}
}

// memory returns VmRSS and VmHWM (peak RSS) of the process, in bytes.
func (f *flowd) memory() (rss, peak int64, err error) {
	file, err := os.Open(fmt.Sprintf("/proc/%d/status", f.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", k, err)
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak, sc.Err()
}

// dumpLog logs the last n lines of flowd's log.
func (f *flowd) dumpLog(n int) {
	b, err := os.ReadFile(f.logPath)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	f.t.Logf("last %d lines of flowd's log:\n%s", len(lines), strings.Join(lines, "\n"))
}

// logCount counts log lines containing s (e.g. "panic").
func (f *flowd) logCount(s string) int {
	b, err := os.ReadFile(f.logPath)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), s)
}

// waitSettled scrapes until flowd's settled event time (flowd_ingest_watermark_timestamp_seconds)
// passes lastTS (ms) and a checkpoint has completed more than 2 s later (checkpoints are 1 s apart
// and a write takes milliseconds, so its cut was taken after the watermark was seen), so that the
// published counts include every event up to lastTS; it returns that scrape.
func (f *flowd) waitSettled(ctx context.Context, group string, lastTS int64, timeout time.Duration) (*scrape, error) {
	deadline := time.Now().Add(timeout)
	var settledAt time.Time
	var last *scrape
	for {
		s, err := f.scrape()
		if err == nil {
			last = s
			wm := s.value("flowd_ingest_watermark_timestamp_seconds", "log_group", group)
			if settledAt.IsZero() && wm*1000 > float64(lastTS) {
				settledAt = s.at
			}
			ck := s.value("flowd_checkpoint_last_success_timestamp_seconds")
			if !settledAt.IsZero() && ck > float64(settledAt.Add(2*time.Second).UnixMilli())/1000 {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			wm := 0.0
			if last != nil {
				wm = last.value("flowd_ingest_watermark_timestamp_seconds", "log_group", group)
			}
			return last, fmt.Errorf("not settled within %s: watermark %s, last event %s", timeout,
				time.UnixMilli(int64(wm*1000)).Format(time.TimeOnly), time.UnixMilli(lastTS).Format(time.TimeOnly))
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// cpuSeconds is the process's user plus system CPU time (/proc/<pid>/stat, clock ticks of
// 1/100 s, the Linux USER_HZ).
func (f *flowd) cpuSeconds() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", f.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", f.cmd.Process.Pid, len(fields))
	}
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", f.cmd.Process.Pid, fields[11], fields[12])
	}
	return (utime + stime) / 100, nil
}
