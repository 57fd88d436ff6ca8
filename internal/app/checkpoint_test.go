package app

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/flowd-dev/flowd/internal/checkpoint"
	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/ingest"
)

// noClients is a client factory for apps that never reach AWS in the test.
var noClients = ingest.ClientFactoryFunc(func(context.Context, ingest.AWSSpec) (ingest.Client, error) { return nil, nil })

// offlineApp builds (does not run) an app on the config body with noClients, shut down at the
// test's end.
func offlineApp(t *testing.T, body string) *App {
	t.Helper()
	cfg, err := config.Load([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, zaptest.NewLogger(t), Options{ListenAddresses: []string{"127.0.0.1:0"}, Clients: noClients})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	return a
}

// TestRestoreVersion1Checkpoint restores testdata/checkpoint-v1.bin, written by the code before
// the checkpoint had one owner (ingest's gob holding the app's gob; see testdata/README.md):
// the counts and the source's position must come back, and the next checkpoint is version 2.
func TestRestoreVersion1Checkpoint(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/checkpoint-v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "checkpoint")
	if err := os.WriteFile(ckpt, b, 0o600); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".checkpoint.tmp-99") // what a kill -9 during a write leaves
	if err := os.WriteFile(stale, []byte("FLOWD"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := offlineApp(t, "sources:\n  - log_group: /aws/vpc/flow-logs\n    endpoint: http://127.0.0.1:1\ningest:\n  poll_interval: 2s\n  max_delay: 2s\n  late_grace: 1s\n  early_passes: []\ncheckpoint:\n  path: "+ckpt+"\n  interval: 1h\n")
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary checkpoint file still there after start: %v", err)
	}

	m := scrape2(t, a)
	for k, want := range map[string]float64{
		`flowd_flows_total{action="accept",port="443",protocol="tcp"}`: 20,
		`flowd_flows_total{action="reject",port="443",protocol="tcp"}`: 10,
	} {
		if m[k] != want {
			t.Errorf("restored %s = %v, want %v", k, m[k], want)
		}
	}
	rc := a.publishedCounts.Load()
	if want := (recordCounts{OK: 30, Malformed: 1, Unmatched: 1, ByKind: [numKinds]uint64{4: 1}}); rc == nil || *rc != want {
		t.Errorf("restored records = %+v, want %+v", rc, want)
	}
	var states []ingest.SourceState
	if err := a.currentSource().Checkpoint(context.Background(), func(s []ingest.SourceState) error { states = s; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].Name != "/aws/vpc/flow-logs" || !slices.Equal(states[0].Positions, []int64{1796193522000}) {
		t.Errorf("restored source states = %+v, want /aws/vpc/flow-logs at position 1796193522000", states)
	}

	// The next write is the current version, and reads back the same.
	if err := a.saveCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	nb, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if v := nb[11]; v != 3 {
		t.Errorf("rewritten checkpoint version = %d, want 3", v)
	}
	st, err := checkpoint.Read(ckpt)
	if err != nil || st.Records.OK != 30 || st.Aggregate == nil || len(st.Sources) != 1 {
		t.Errorf("rewritten checkpoint = %+v, %v", st, err)
	}
}

// TestRestoreNeverFails checks that a missing or damaged checkpoint never stops flowd from
// starting: New succeeds and the counts start from zero.
func TestRestoreNeverFails(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt")
	if err := os.WriteFile(corrupt, []byte("FLOWDCKPgarbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "none"), corrupt} {
		a := offlineApp(t, "sources: [{log_group: g, endpoint: 'http://127.0.0.1:1'}]\ncheckpoint:\n  path: "+path+"\n")
		if rc := a.publishedCounts.Load(); rc == nil || *rc != (recordCounts{}) {
			t.Errorf("%s: published records %+v, want zeros", path, rc)
		}
	}
}

// TestStuckReloadDoesNotBlockShutdown replaces the config file with a FIFO nobody writes (a
// reload that cannot finish), sends SIGHUP's reload, and checks that cancelling Run still stops
// flowd within run's 2 s bound, the old config still running until then.
func TestStuckReloadDoesNotBlockShutdown(t *testing.T) {
	env := newEnv(t)
	path := env.writeConfig(t, "flowd.yml", "")
	hup := make(chan os.Signal, 1)
	cfg, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, zaptest.NewLogger(t), Options{ConfigFile: path, ListenAddresses: []string{"127.0.0.1:0"}, Clients: env.clients, HUP: hup})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, a)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	// Release the abandoned load at the end (goleak checks every goroutine stopped).
	t.Cleanup(func() {
		if w, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			_ = w.Close()
		}
	})
	hup <- syscall.SIGHUP
	for len(hup) > 0 { // taken by Run's reload loop, which is now stuck opening the FIFO
		runtime.Gosched()
	}
	stop() // fails the test if Run does not return within 2 s
	if a.cfg.Load() != cfg {
		t.Error("the running config was replaced by a load that never finished")
	}
}

// TestCheckpointLoopVirtualTime runs the checkpoint loop in a synctest bubble: a checkpoint is
// written exactly every interval of (virtual) time, each stamped with its time, and the snapshot
// taken at each cut is published.
func TestCheckpointLoopVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "checkpoint")
		cfg, err := config.Load([]byte("sources: [{log_group: g}]\ncheckpoint:\n  path: " + path + "\n  interval: 30s\n"))
		if err != nil {
			t.Fatal(err)
		}
		clock := ingest.SystemClock{} // the bubble's virtual clock
		log := zaptest.NewLogger(t)
		src, err := ingest.New(cfg.IngestOptions, noClients, clock, log)
		if err != nil {
			t.Fatal(err)
		}
		a := &App{log: log, clock: clock, ckpt: checkpoint.NewWriter(path, time.Now)}
		a.cfg.Store(cfg)
		table, err := a.newRoutes(cfg.Sources, nil)
		if err != nil {
			t.Fatal(err)
		}
		a.formats.Store(table)
		a.src.Store(&source{src})

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		start := time.Now()
		go func() { a.checkpointLoop(ctx); close(done) }()
		for i := 1; i <= 3; i++ {
			time.Sleep(30*time.Second + time.Millisecond)
			synctest.Wait() // the write due at i*30s is done
			want := start.Add(time.Duration(i) * 30 * time.Second)
			st, err := checkpoint.Read(path)
			if err != nil {
				t.Fatalf("after %d intervals: %v", i, err)
			}
			if !st.Written.Equal(want.Truncate(time.Millisecond)) || !a.ckpt.Stats().LastSuccess.Equal(st.Written) {
				t.Errorf("after %d intervals the checkpoint was written at %v (stats %v), want %v", i, st.Written, a.ckpt.Stats().LastSuccess, want)
			}
		}
		if a.published.Load() == nil || a.publishedCounts.Load() == nil {
			t.Error("nothing published at the checkpoints")
		}
		cancel()
		<-done
	})
}

// probeSource is a source whose Checkpoint looks at the checkpoint file right after its capture
// returned: the moment a Kinesis source moves its lease checkpoints.
type probeSource struct {
	path   string
	onDisk bool
}

func (p *probeSource) Run(ctx context.Context, _ chan<- ingest.Batch) error { <-ctx.Done(); return nil }
func (p *probeSource) Restore([]ingest.SourceState)                         {}
func (p *probeSource) Stats() ingest.Stats                                  { return ingest.Stats{} }
func (p *probeSource) Checkpoint(_ context.Context, capture func([]ingest.SourceState) error) error {
	if err := capture([]ingest.SourceState{{Name: "probe"}}); err != nil {
		return err
	}
	st, err := checkpoint.Read(p.path)
	p.onDisk = err == nil && len(st.Sources) == 1 && st.Sources[0].Name == "probe"
	return nil
}

// TestCheckpointOnDiskBeforeSourceActs: when a source's capture returns, the checkpoint that
// holds its state is already written, so whatever the source does on success (a Kinesis
// source writes its lease checkpoints) never runs ahead of what a restart restores.
func TestCheckpointOnDiskBeforeSourceActs(t *testing.T) {
	ckpt := filepath.Join(t.TempDir(), "checkpoint")
	a := offlineApp(t, "sources:\n  - log_group: /aws/vpc/flow-logs\n    endpoint: http://127.0.0.1:1\ncheckpoint:\n  path: "+ckpt+"\n  interval: 1h\n")
	p := &probeSource{path: ckpt}
	a.ckptMu.Lock()
	err := a.writeCheckpoint(context.Background(), p, nil)
	a.ckptMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if !p.onDisk {
		t.Error("the source's capture returned before the checkpoint holding its state was written")
	}
}
