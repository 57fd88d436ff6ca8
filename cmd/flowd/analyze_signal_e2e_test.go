package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAnalyzeStopsOnSignal blocks `flowd analyze` reading a FIFO, once with no writer (blocked
// in open) and once with a writer that sends nothing (blocked in read), and signals it: it must
// stop by itself, with exit code 128 + the signal, not need SIGKILL. The tests wait for the
// blocked state, not for time: the kernel's wait channel for an open without a writer, and the
// writer's own open, which returns only once flowd has opened the FIFO for reading.
func TestAnalyzeStopsOnSignal(t *testing.T) {
	t.Parallel()
	bin := flowdBinary(t)
	for _, tc := range []struct {
		name   string
		writer bool
		sig    syscall.Signal
	}{
		{name: "no writer, SIGTERM", sig: syscall.SIGTERM},
		{name: "no writer, SIGINT", sig: syscall.SIGINT},
		{name: "silent writer, SIGTERM", writer: true, sig: syscall.SIGTERM},
		{name: "silent writer on stdin, SIGINT", writer: true, sig: syscall.SIGINT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fifo := filepath.Join(t.TempDir(), "flows")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"analyze", fifo}
			stdin := strings.HasSuffix(tc.name, "on stdin")
			if stdin {
				args = []string{"analyze"}
			}
			cmd := exec.Command(bin, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			var w *os.File
			if stdin {
				// The test's own end of the FIFO is opened first (read-write, so it does not
				// wait for a partner), then the child's stdin is the FIFO read side.
				rw, err := os.OpenFile(fifo, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				w = rw
				r, err := os.Open(fifo)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				cmd.Stdin = r
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{}) // closed when the process has ended
			go func() { _ = cmd.Wait(); close(exited) }()
			t.Cleanup(func() {
				select {
				case <-exited:
				default:
					_ = cmd.Process.Kill()
					<-exited
				}
			})
			switch {
			case stdin:
				defer w.Close()
				waitBlocked(t, cmd.Process.Pid, exited, "anon_pipe_read", "pipe_read", "pipe_wait", "pipe_read_wait")
			case tc.writer:
				wf, err := os.OpenFile(fifo, os.O_WRONLY, 0) // returns once flowd opened it
				if err != nil {
					t.Fatal(err)
				}
				defer wf.Close()
			default:
				waitBlocked(t, cmd.Process.Pid, exited, "wait_for_partner", "fifo_open")
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Fatalf("flowd analyze did not stop within 10s of %v; stderr %q", tc.sig, stderr.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != 128+int(tc.sig) {
				t.Errorf("exit code %d (%v), want %d; stderr %q", code, cmd.ProcessState, 128+int(tc.sig), stderr.String())
			}
			if !strings.Contains(stderr.String(), "flowd analyze: stopped by "+tc.sig.String()) {
				t.Errorf("stderr %q", stderr.String())
			}
		})
	}
}

// waitBlocked waits until a thread of process pid sleeps in one of the kernel functions named
// (its /proc wait channel), which is how a blocked open or read of a pipe shows.
func waitBlocked(t *testing.T, pid int, exited <-chan struct{}, wchans ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var seen []string
	for time.Now().Before(deadline) {
		tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "wchan"))
		seen = seen[:0]
		for _, task := range tasks {
			b, err := os.ReadFile(task)
			if err != nil {
				continue
			}
			seen = append(seen, string(b))
			for _, w := range wchans {
				if string(b) == w {
					return
				}
			}
		}
		select {
		case <-exited:
			t.Fatal("flowd exited before blocking")
		case <-time.After(20 * time.Millisecond): // the poll interval
		}
	}
	t.Fatalf("flowd never blocked in %v; its threads wait in %q", wchans, seen)
}
