package ingest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/simulate"
)

// The child process of TestKillNine is this test binary re-executed with these variables.
const (
	envChild      = "FLOWD_INGEST_KILL_CHILD"
	envURL        = "FLOWD_INGEST_KILL_URL"
	envClock      = "FLOWD_INGEST_KILL_CLOCK" // base unix ns, real start unix ns, speed
	envCheckpoint = "FLOWD_INGEST_KILL_CHECKPOINT"
	envGroup      = "FLOWD_INGEST_KILL_GROUP"
	envSettle     = "FLOWD_INGEST_KILL_SETTLE" // exit cleanly once settled past this ms (0: run until killed)
)

// TestKillNine kills a child process running ingest with SIGKILL between checkpoints, restarts it
// from the last committed checkpoint, and checks the counts the committed checkpoints carry (what
// flowd publishes to Prometheus): the killed child's last commit is a subset of the final one,
// and the final one holds every event exactly once.
func TestKillNine(t *testing.T) {
	t.Parallel()
	clock := newVClock(300)
	env := newTestEnv(t, clock, emuConfig())
	scfg := simulate.DefaultConfig()
	scfg.Start = clock.base
	scfg.FlowsPerInterval = 100
	const group = "/aws/vpc/kill"
	f := newFeed(t, env.emu, group, scfg)
	path := filepath.Join(t.TempDir(), "checkpoint")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feedDone := make(chan error, 1)
	go func() { feedDone <- f.run(ctx, clock, clock.base.Add(14*time.Minute), 5*time.Second) }()

	child := func(settle int64) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillNineChild$", "-test.v")
		cmd.Env = append(os.Environ(),
			envChild+"=1",
			envURL+"="+env.url,
			fmt.Sprintf("%s=%d,%d,%g", envClock, clock.base.UnixNano(), clock.start.UnixNano(), clock.speed),
			envCheckpoint+"="+path,
			envGroup+"="+group,
			envSettle+"="+strconv.FormatInt(settle, 10),
		)
		cmd.Stderr = os.Stderr
		return cmd
	}

	// First child: wait for a few commits, then kill it at once, between two checkpoints.
	c1 := child(0)
	stdout, err := c1.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	commits, nonEmpty := 0, 0
	for nonEmpty < 4 && sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "COMMITTED "); ok {
			commits++
			if n != "0" {
				nonEmpty++
			}
		}
	}
	time.Sleep(30 * time.Millisecond) // about a third of the way to the next checkpoint
	if err := c1.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	_ = c1.Wait()
	if nonEmpty < 4 {
		t.Fatalf("child committed only %d checkpoints (%d with events) before exiting", commits, nonEmpty)
	}
	cp1, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatalf("checkpoint after kill: %v", err)
	}
	before := newCollector(nil)
	if err := before.restore(cp1.App); err != nil {
		t.Fatal(err)
	}

	if len(before.ids) == 0 {
		t.Fatal("the killed child's last commit holds no events")
	}
	if err := <-feedDone; err != nil {
		t.Fatalf("feed: %v", err)
	}
	// Second child: resume from the checkpoint and run until everything is settled.
	c2 := child(f.maxTS)
	c2.Stdout = os.Stderr
	if err := c2.Run(); err != nil {
		t.Fatalf("second child: %v", err)
	}
	cp2, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatalf("final checkpoint: %v", err)
	}
	after := newCollector(nil)
	if err := after.restore(cp2.App); err != nil {
		t.Fatal(err)
	}
	for id, n := range before.ids {
		if after.ids[id] != n {
			t.Errorf("event %s: %d in the killed child's last commit, %d in the final one", id, n, after.ids[id])
		}
	}
	verify(t, after, f)
	t.Logf("kill -9 after %d commits: %d events in the last commit before the kill, %d in the final commit, %d put", commits, len(before.ids), len(after.ids), f.events)
}

// TestKillNineChild is the child process of TestKillNine; it does nothing in a normal run.
func TestKillNineChild(t *testing.T) {
	if os.Getenv(envChild) != "1" {
		t.Skip("child process of TestKillNine only")
	}
	var baseNS, startNS int64
	var speed float64
	if _, err := fmt.Sscanf(os.Getenv(envClock), "%d,%d,%g", &baseNS, &startNS, &speed); err != nil {
		t.Fatalf("%s: %v", envClock, err)
	}
	clock := &vclock{base: time.Unix(0, baseNS), start: time.Unix(0, startNS), speed: speed}
	settle, _ := strconv.ParseInt(os.Getenv(envSettle), 10, 64)
	path := os.Getenv(envCheckpoint)
	env := &testEnv{t: t, clock: clock, url: os.Getenv(envURL)}
	opts := Options{
		Groups:        []GroupSpec{{Name: os.Getenv(envGroup), AWS: env.spec()}},
		StartPosition: "-1m",
		PageLimit:     testPageEvents,
	}
	m, c, stop := startFromCheckpoint(t, env, opts, clock, path)
	ctx := context.Background()
	for {
		<-clock.After(30 * time.Second)
		if err := m.SaveCheckpoint(ctx, path, c.marshal); err != nil {
			t.Fatalf("checkpoint: %v", err)
		}
		fmt.Println("COMMITTED", m.Stats().EventsRead)
		if settle > 0 {
			done := true
			for _, s := range m.Stats().Sources {
				if s.Watermark.UnixMilli() <= settle {
					done = false
				}
			}
			if done {
				stop()
				if err := m.SaveCheckpoint(ctx, path, c.marshal); err != nil {
					t.Fatalf("final checkpoint: %v", err)
				}
				return
			}
		}
	}
}
