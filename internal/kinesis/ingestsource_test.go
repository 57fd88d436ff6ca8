package kinesis_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	kds "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"go.uber.org/zap/zaptest"

	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/kinesis"
	"github.com/flowd-dev/flowd/internal/lease"
)

// appReplica plays the app behind the source boundary: a worker that aggregates batches in
// memory and acknowledges them, and a checkpoint every 5 s that makes what was aggregated
// durable. A kill loses the memory and keeps the durable part.
type appReplica struct {
	id      string
	src     *kinesis.IngestSource
	cut     atomic.Bool
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	memory  []string // aggregated since the last checkpoint
	durable []string // in written checkpoints
	groups  map[string]int
}

func (h *harness) startApp(id string) *appReplica {
	r := &appReplica{id: id, done: make(chan struct{}), groups: map[string]int{}}
	tab, _ := lease.NewTable(h.dynamo(&r.cut), "flowd-leases")
	inner, err := kinesis.New(kinesis.Options{Stream: "flow-logs", Owner: id, Formats: map[string]string{"/vpc/a": "v2", "/vpc/b": "v5"},
		LeaseDuration: 9 * time.Second}, h.kinesis(&r.cut), tab, nil, zaptest.NewLogger(h.t))
	if err != nil {
		h.t.Fatal(err)
	}
	r.src = kinesis.NewIngestSource(inner, true)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	queue := make(chan ingest.Batch, 4)
	var workers sync.WaitGroup
	workers.Add(1)
	go func() { // the parse and aggregate worker
		defer workers.Done()
		for b := range queue {
			time.Sleep(100 * time.Millisecond)
			r.mu.Lock()
			for _, e := range b.Events {
				r.memory = append(r.memory, e.ID)
			}
			r.groups[b.Source] += len(b.Events)
			r.mu.Unlock()
			b.Done()
		}
	}()
	checkpoint := func(ctx context.Context) error {
		return r.src.Checkpoint(ctx, func([]ingest.SourceState) error {
			if r.cut.Load() {
				return errCut // a killed process writes nothing
			}
			r.mu.Lock()
			r.durable = append(r.durable, r.memory...)
			r.memory = nil
			r.mu.Unlock()
			return nil
		})
	}
	go func() {
		defer close(r.done)
		runDone := make(chan error, 1)
		go func() { runDone <- r.src.Run(ctx, queue) }()
		for {
			select {
			case err := <-runDone:
				if err != nil {
					h.t.Errorf("%s: Run: %v", id, err)
				}
				close(queue) // the app owns the queue: closed after Run returned
				workers.Wait()
				if !r.cut.Load() {
					if err := checkpoint(context.WithoutCancel(ctx)); err != nil {
						h.t.Errorf("%s: final checkpoint: %v", id, err)
					}
				}
				return
			case <-time.After(5 * time.Second):
				_ = checkpoint(ctx)
			}
		}
	}()
	return r
}

func (r *appReplica) stop() { r.cancel(); <-r.done }

func (r *appReplica) kill() {
	r.cut.Store(true)
	r.cancel()
	<-r.done
	r.mu.Lock()
	r.memory = nil // kill -9: what was only in memory is gone
	r.mu.Unlock()
	r.src.Close() // and so are its goroutines (here: let them end, with AWS cut off)
}

func TestIngestSourceExactAcrossKillWithCheckpoints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, 2)
		a, b := h.startApp("a"), h.startApp("b")
		h.produce(200, 0)
		kc := h.kinesis(new(atomic.Bool))
		if _, err := kc.SplitShard(context.Background(), &kds.SplitShardInput{StreamName: aws.String("flow-logs"),
			ShardToSplit: aws.String("shardId-000000000001"), NewStartingHashKey: aws.String("255211775190703847597530955573826158592")}); err != nil {
			t.Fatal(err)
		}
		h.produce(200, 200)
		// The producer has taken 80 s of virtual time, a multiple of the 5 s checkpoint period:
		// a kill now would race b's checkpoint of the same instant, and a kill right after a
		// checkpoint's capture and before its lease writes is the documented window (counted
		// again by the next owner). Half a period later the kill is between checkpoints.
		time.Sleep(2500 * time.Millisecond)
		b.kill() // between checkpoints: its in-memory counts are lost, its leases expire
		h.produce(200, 400)
		time.Sleep(time.Minute)
		a.stop()
		seen := map[string]int{}
		for _, r := range []*appReplica{a, b} {
			for _, id := range r.durable {
				seen[id]++
			}
		}
		missing, twice := 0, 0
		for id := range h.produced {
			switch seen[id] {
			case 0:
				missing++
			case 1:
			default:
				twice++
			}
		}
		if missing > 0 || twice > 0 || len(seen) != len(h.produced) {
			t.Fatalf("%d events produced, %d counted durably: %d missing, %d more than once", len(h.produced), len(seen), missing, twice)
		}
		if a.groups[kinesis.BatchSource("flow-logs", "/vpc/a")] == 0 || a.groups[kinesis.BatchSource("flow-logs", "/vpc/b")] == 0 {
			t.Fatalf("batches by log group: %v", a.groups)
		}
		if st := a.src.Stats(); st.EventsRead == 0 || st.Sources[0].Name != "kinesis:flow-logs" {
			t.Fatalf("stats: %+v", st)
		}
		if len(b.durable) == 0 {
			t.Fatal("b committed nothing before the kill; the test means to kill a working replica")
		}
	})
}
