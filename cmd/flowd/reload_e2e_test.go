package main

import (
	"bufio"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/emulator"
)

// TestRunReloadsOnSIGHUP runs the built binary as `flowd run` against the emulator and reloads
// it with SIGHUP: a broken file keeps the old config running and reports the failure on
// /metrics, a fixed one (with a second source) is taken, and SIGTERM then stops it cleanly.
func TestRunReloadsOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"/vpc/a", "/vpc/b"} {
		if err := emu.CreateLogGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(emu)
	t.Cleanup(hs.Close)

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "flowd.yml")
	writeConfig := func(body string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	source := func(group string) string {
		return fmt.Sprintf("  - log_group: %s\n    region: us-east-1\n    endpoint: %s\n", group, hs.URL)
	}
	writeConfig("sources:\n" + source("/vpc/a"))

	bin := filepath.Join(dir, "flowd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freePort(t)
	cmd := exec.Command(bin, "run", "--config.file="+cfgPath, "--web.listen-address="+addr, "--log.level=warn")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1")
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	base := "http://" + addr

	// waitFor polls /metrics until ok accepts its series (keyed by their text, as exposed).
	waitFor := func(what string, ok func(m map[string]float64) bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		var m map[string]float64
		for time.Now().Before(deadline) {
			select {
			case err := <-exited:
				t.Fatalf("flowd exited while waiting for %s: %v\n%s", what, err, logs.String())
			case <-time.After(200 * time.Millisecond):
			}
			if m = exposition(base); m != nil && ok(m) {
				return
			}
		}
		t.Fatalf("timed out waiting for %s; flowd_config_last_reload_successful=%v\n%s", what, m["flowd_config_last_reload_successful"], logs.String())
	}
	const reloadOK = "flowd_config_last_reload_successful"
	sourceSeen := func(m map[string]float64, group string) bool {
		for k := range m {
			if strings.HasPrefix(k, "flowd_ingest_events_total{") && strings.Contains(k, `log_group="`+group+`"`) {
				return true
			}
		}
		return false
	}

	waitFor("the first source", func(m map[string]float64) bool { return m[reloadOK] == 1 && sourceSeen(m, "/vpc/a") })

	writeConfig("sources:\n" + source("/vpc/a") + "  - log_grup: typo\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("the failed reload", func(m map[string]float64) bool { return m[reloadOK] == 0 && sourceSeen(m, "/vpc/a") })

	writeConfig("sources:\n" + source("/vpc/a") + source("/vpc/b"))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("the good reload with a second source", func(m map[string]float64) bool {
		return m[reloadOK] == 1 && sourceSeen(m, "/vpc/a") && sourceSeen(m, "/vpc/b")
	})

	stopped = true
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("flowd run exited with %v after SIGTERM\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Error("flowd run did not stop within 10s of SIGTERM")
	}
}

// exposition scrapes /metrics into values keyed by series text; nil if flowd does not answer.
func exposition(base string) map[string]float64 {
	resp, err := httpClient.Get(base + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}
