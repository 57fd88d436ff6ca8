package lease_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"go.uber.org/zap/zaptest"

	"github.com/flowd-dev/flowd/internal/awshttp"
	"github.com/flowd-dev/flowd/internal/dynamoemu"
	"github.com/flowd-dev/flowd/internal/emufault"
	"github.com/flowd-dev/flowd/internal/lease"
	"github.com/flowd-dev/flowd/internal/memnet"
)

// partitionable is a DynamoDB client that fails every call while cut is set: a replica cut
// off from DynamoDB, or dead (its leases are never released).
type partitionable struct {
	*dynamodb.Client
	cut atomic.Bool
}

var errCut = errors.New("network partition (test)")

func (p *partitionable) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if p.cut.Load() {
		return nil, errCut
	}
	return p.Client.GetItem(ctx, in, o...)
}

func (p *partitionable) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if p.cut.Load() {
		return nil, errCut
	}
	return p.Client.PutItem(ctx, in, o...)
}

func (p *partitionable) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if p.cut.Load() {
		return nil, errCut
	}
	return p.Client.UpdateItem(ctx, in, o...)
}

func (p *partitionable) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	if p.cut.Load() {
		return nil, errCut
	}
	return p.Client.Scan(ctx, in, o...)
}

// world is the test's stream and ground truth: shards, their lengths when closed, and every
// position each replica committed.
type world struct {
	t      *testing.T
	tr     *http.Transport
	srv    *dynamoemu.Server // nil when the table is served by another implementation
	mu     sync.Mutex
	shards []lease.Shard
	length map[string]int // closed shards: number of records
	// commits[shard][pos] = owners that committed pos
	commits     map[string]map[int][]string
	unconfirmed map[string]map[int]string // commits whose checkpoint was never written, by owner
	firstCommit map[string]time.Time
	ended       map[string]time.Time
	// holding[shard] = owner currently inside a Valid commit (the single-owner invariant)
	holding map[string]string
	// counters[shard][leaseCounter] = the owner that wrote it (fencing: never two)
	counters map[string]map[int64]string
	reps     map[string]*replica
}

type replica struct {
	id     string
	client *partitionable
	coord  *lease.Coordinator
	cancel context.CancelFunc
	done   chan struct{}
}

func newWorldWith(t *testing.T, cfg dynamoemu.Config, shards ...lease.Shard) *world {
	srv, err := dynamoemu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorldOn(t, srv, shards...)
	w.srv = srv
	return w
}

// newWorldOn serves the lease table from h, a DynamoDB over HTTP: dynamoemu for most tests,
// another implementation for the cross-check (minidyn_test.go). Call it inside the bubble.
func newWorldOn(t *testing.T, h http.Handler, shards ...lease.Shard) *world {
	l, stop := memnet.Serve(h)
	t.Cleanup(stop)
	tr := l.Transport()
	t.Cleanup(tr.CloseIdleConnections)
	w := &world{t: t, tr: tr, shards: shards, length: map[string]int{}, commits: map[string]map[int][]string{},
		unconfirmed: map[string]map[int]string{}, firstCommit: map[string]time.Time{}, ended: map[string]time.Time{},
		holding: map[string]string{}, counters: map[string]map[int64]string{}, reps: map[string]*replica{}}
	tab, err := lease.NewTable(w.client(), "flowd-leases")
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) client() *partitionable {
	return &partitionable{Client: dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://dynamodb.test"),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		HTTPClient:  awshttp.Wrap(&http.Client{Transport: w.tr}), Retryer: aws.NopRetryer{},
	})}
}

func (w *world) listShards(context.Context) ([]lease.Shard, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.shards), nil
}

func (w *world) start(id string) *replica {
	w.t.Helper()
	c := w.client()
	tab, _ := lease.NewTable(c, "flowd-leases")
	r := &replica{id: id, client: c, done: make(chan struct{})}
	coord, err := lease.New(lease.Config{Table: tab, Owner: id, ListShards: w.listShards, Work: w.work(id),
		LeaseDuration: 9 * time.Second, Logger: zaptest.NewLogger(w.t)})
	if err != nil {
		w.t.Fatal(err)
	}
	r.coord = coord
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		if err := coord.Run(ctx); err != nil {
			w.t.Errorf("%s: Run: %v", id, err)
		}
	}()
	w.mu.Lock()
	w.reps[id] = r
	w.mu.Unlock()
	return r
}

// stop is a graceful stop; kill cuts the replica off first, so nothing it does reaches the table.
func (r *replica) stop() { r.cancel(); <-r.done }
func (r *replica) kill() { r.client.cut.Store(true); r.cancel(); <-r.done }

// work commits one position per second (the stand-in for a batch counted by the pipeline),
// then checkpoints it; it never commits a new position before the last one is checkpointed.
func (w *world) work(owner string) lease.Worker {
	return func(ctx context.Context, h *lease.Held) error {
		l := h.Lease()
		w.sawCounter(l.Key, l.Counter, owner)
		pos := 0
		if l.Checkpoint != lease.TrimHorizon {
			n, err := strconv.Atoi(l.Checkpoint)
			if err != nil {
				return fmt.Errorf("checkpoint %q: %w", l.Checkpoint, err)
			}
			pos = n
		}
		pending := false
		for {
			select {
			case <-ctx.Done():
				if pending {
					w.unconfirm(l.Key, pos, owner)
				}
				return nil
			case <-time.After(time.Second):
			}
			if pending {
				if err := h.Checkpoint(ctx, strconv.Itoa(pos)); err == nil {
					w.sawCounter(l.Key, h.Lease().Counter, owner)
					pending = false
				} else if errors.Is(err, lease.ErrLost) {
					w.unconfirm(l.Key, pos, owner)
					return nil
				}
				continue
			}
			w.mu.Lock()
			n, closed := w.length[l.Key]
			w.mu.Unlock()
			if closed && pos >= n {
				if err := h.Checkpoint(ctx, lease.ShardEnd); err != nil {
					continue
				}
				w.mu.Lock()
				w.ended[l.Key] = time.Now()
				w.mu.Unlock()
				return nil
			}
			if !h.Valid() {
				continue
			}
			pos++
			w.commit(l.Key, pos, owner)
			if err := h.Checkpoint(ctx, strconv.Itoa(pos)); err != nil {
				if errors.Is(err, lease.ErrLost) {
					w.unconfirm(l.Key, pos, owner)
					return nil
				}
				pending = true
			} else {
				w.sawCounter(l.Key, h.Lease().Counter, owner)
			}
		}
	}
}

func (w *world) commit(shard string, pos int, owner string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.commits[shard] == nil {
		w.commits[shard] = map[int][]string{}
	}
	w.commits[shard][pos] = append(w.commits[shard][pos], owner)
	if _, ok := w.firstCommit[shard]; !ok {
		w.firstCommit[shard] = time.Now()
	}
	// The single-owner invariant at this instant: no other replica's coordinator holds this
	// shard as Valid. Checked through the owners' own view: any other replica listing the
	// shard as owned must have lost it in the table already (its writes would fail).
	if prev, ok := w.holding[shard]; ok && prev != owner {
		if r := w.reps[prev]; r != nil && slices.Contains(r.coord.Owned(), shard) && !r.client.cut.Load() {
			w.t.Errorf("%s committed %s/%d while %s still holds it", owner, shard, pos, prev)
		}
	}
	w.holding[shard] = owner
}

// sawCounter records that owner held shard's lease at counter n.
func (w *world) sawCounter(shard string, n int64, owner string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.counters[shard] == nil {
		w.counters[shard] = map[int64]string{}
	}
	if prev, ok := w.counters[shard][n]; ok && prev != owner {
		w.t.Errorf("%s: %s and %s both held the lease at counter %d", shard, prev, owner, n)
	}
	w.counters[shard][n] = owner
}

func (w *world) unconfirm(shard string, pos int, owner string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.unconfirmed[shard] == nil {
		w.unconfirmed[shard] = map[int]string{}
	}
	w.unconfirmed[shard][pos] = owner
}

// exact checks that every committed position of every shard was committed exactly once, from 1
// up, except a position whose checkpoint its committer could not write before losing the lease
// (the documented window), which may be committed again by the next owner.
func (w *world) exact() (total int) {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for shard, m := range w.commits {
		for pos := 1; pos <= len(m); pos++ {
			owners := m[pos]
			switch {
			case len(owners) == 0:
				w.t.Errorf("%s: position %d never committed (max %d)", shard, pos, len(m))
			case len(owners) > 1:
				if u, ok := w.unconfirmed[shard][pos]; !ok || u != owners[0] {
					w.t.Errorf("%s: position %d committed by %v", shard, pos, owners)
				}
			}
		}
		total += len(m)
	}
	return total
}

func owned(rs ...*replica) []int {
	var out []int
	for _, r := range rs {
		out = append(out, len(r.coord.Owned()))
	}
	return out
}

func shards(n int) []lease.Shard {
	var out []lease.Shard
	for i := range n {
		out = append(out, lease.Shard{ID: fmt.Sprintf("shardId-%012d", i)})
	}
	return out
}

func TestBalanceAndGracefulHandoff(t *testing.T) { onDynamoemu(t, balanceAndGracefulHandoff) }

func balanceAndGracefulHandoff(t *testing.T, h http.Handler) {
	w := newWorldOn(t, h, shards(6)...)
	a := w.start("a")
	time.Sleep(15 * time.Second)
	if got := owned(a); got[0] != 6 {
		t.Fatalf("alone, a owns %v, want 6", got)
	}
	b, c := w.start("b"), w.start("c")
	time.Sleep(2 * time.Minute)
	if got := owned(a, b, c); !slices.Equal(got, []int{2, 2, 2}) {
		t.Fatalf("three replicas own %v, want [2 2 2]", got)
	}
	if s := a.coord.Stats(); s.HandoffsOut != 4 || s.Lost != 0 {
		t.Fatalf("a: %+v, want 4 hand-offs out and nothing lost", s)
	}
	// A graceful stop releases at once: the others take the leases without waiting for expiry.
	a.stop()
	time.Sleep(10 * time.Second)
	if got := owned(b, c); got[0]+got[1] != 6 || got[0] != 3 {
		tab, _ := lease.NewTable(w.client(), "flowd-leases")
		ls, err := tab.List(context.Background())
		t.Fatalf("after a stopped, b and c own %v, want [3 3]; table %+v %v", got, ls, err)
	}
	if s := b.coord.Stats(); s.Takeovers != 0 {
		t.Fatalf("b took over %d expired leases; a graceful stop should leave none", s.Takeovers)
	}
	b.stop()
	c.stop()
	if n := w.exact(); n < 6*100 {
		t.Fatalf("only %d positions committed", n)
	}
}

func TestTakeoverAfterKill(t *testing.T) { onDynamoemu(t, takeoverAfterKill) }

func takeoverAfterKill(t *testing.T, h http.Handler) {
	w := newWorldOn(t, h, shards(4)...)
	a, b := w.start("a"), w.start("b")
	time.Sleep(time.Minute)
	if got := owned(a, b); !slices.Equal(got, []int{2, 2}) {
		t.Fatalf("own %v, want [2 2]", got)
	}
	lostShards := a.coord.Owned()
	killedAt := time.Now()
	a.kill()
	// b must wait out the lease duration (9s) from when it last saw a's counters move.
	time.Sleep(8 * time.Second)
	if got := len(b.coord.Owned()); got != 2 {
		t.Fatalf("b owns %d leases %v after the kill, before expiry; want 2", got, time.Since(killedAt))
	}
	time.Sleep(30 * time.Second)
	if got := b.coord.Owned(); len(got) != 4 {
		t.Fatalf("b owns %v, want all 4", got)
	}
	if s := b.coord.Stats(); s.Takeovers != 2 {
		t.Fatalf("b: %+v, want 2 takeovers", s)
	}
	for _, sh := range lostShards {
		w.mu.Lock()
		last := w.holding[sh]
		w.mu.Unlock()
		if last != "b" {
			t.Errorf("%s last committed by %s, want b", sh, last)
		}
	}
	b.stop()
	w.exact()
}

func TestPartitionedOwnerStopsCommitting(t *testing.T) {
	onDynamoemu(t, partitionedOwnerStopsCommitting)
}

func partitionedOwnerStopsCommitting(t *testing.T, h http.Handler) {
	w := newWorldOn(t, h, shards(2)...)
	a := w.start("a")
	time.Sleep(20 * time.Second)
	b := w.start("b")
	time.Sleep(time.Minute)
	// Cut a off from DynamoDB but keep it running: it must stop committing on its own
	// before b can take its leases.
	a.client.cut.Store(true)
	time.Sleep(time.Minute)
	if got := b.coord.Owned(); len(got) != 2 {
		t.Fatalf("b owns %v, want both", got)
	}
	if got := a.coord.Owned(); len(got) != 0 {
		t.Fatalf("partitioned a still owns %v", got)
	}
	if s := a.coord.Stats(); s.Lost != 1 {
		t.Fatalf("a: %+v, want 1 lease lost", s)
	}
	a.stop()
	b.stop()
	w.exact()
}

func TestParentsBeforeChildren(t *testing.T) { onDynamoemu(t, parentsBeforeChildren) }

func parentsBeforeChildren(t *testing.T, h http.Handler) {
	// shard 0 split into 2 and 3; 1 and 2 merged into 4. Parents are closed (finite).
	s := shards(5)
	s[2].Parents = []string{s[0].ID}
	s[3].Parents = []string{s[0].ID}
	s[4].Parents = []string{s[1].ID, s[2].ID}
	w := newWorldOn(t, h, s...)
	w.length[s[0].ID] = 20
	w.length[s[1].ID] = 50
	w.length[s[2].ID] = 10
	a, b := w.start("a"), w.start("b")
	time.Sleep(3 * time.Minute)
	w.mu.Lock()
	for child, parents := range map[int][]int{2: {0}, 3: {0}, 4: {1, 2}} {
		first, ok := w.firstCommit[s[child].ID]
		if !ok {
			t.Errorf("%s never started", s[child].ID)
			continue
		}
		for _, p := range parents {
			end, ok := w.ended[s[p].ID]
			if !ok || !end.Before(first) {
				t.Errorf("%s started at %v, its parent %s ended at %v (ok %v)", s[child].ID, first, s[p].ID, end, ok)
			}
		}
	}
	for i, n := range map[int]int{0: 20, 1: 50, 2: 10} {
		if got := len(w.commits[s[i].ID]); got != n {
			t.Errorf("%s: %d positions committed, want %d", s[i].ID, got, n)
		}
	}
	w.mu.Unlock()
	// Ended leases are not held by anyone: only 3 and 4 are live.
	if got := owned(a, b); got[0]+got[1] != 2 {
		t.Fatalf("own %v, want 2 live leases in all", got)
	}
	a.stop()
	b.stop()
	w.exact()
}

func TestFaultyTableKeepsOneOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Half the eventually consistent reads stale: the coordinator must not rely on them.
		w := newWorldWith(t, dynamoemu.Config{StaleReadProbability: 0.5, Seed: 3}, shards(6)...)
		for _, op := range []string{dynamoemu.OpUpdateItem, dynamoemu.OpScan} {
			if err := w.srv.SetFault(op, emufault.Fault{Kind: emufault.InternalError, Probability: 0.15}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.srv.SetFault(dynamoemu.OpGetItem, emufault.Fault{Kind: emufault.Disconnect, Probability: 0.15}); err != nil {
			t.Fatal(err)
		}
		a, b, c := w.start("a"), w.start("b"), w.start("c")
		time.Sleep(5 * time.Minute)
		if w.srv.FaultHits(dynamoemu.OpUpdateItem) == 0 {
			t.Fatal("no fault hit")
		}
		w.srv.ClearFaults()
		time.Sleep(2 * time.Minute)
		if got := owned(a, b, c); got[0]+got[1]+got[2] != 6 || slices.Max(got)-slices.Min(got) > 1 {
			t.Fatalf("own %v after the faults cleared, want 6 balanced", got)
		}
		a.stop()
		b.stop()
		c.stop()
		w.exact()
	})
}

func TestJoiningReplicaGetsItsShare(t *testing.T) { onDynamoemu(t, joiningReplicaGetsItsShare) }

func joiningReplicaGetsItsShare(t *testing.T, h http.Handler) {
	w := newWorldOn(t, h, shards(6)...)
	a, b, c := w.start("a"), w.start("b"), w.start("c")
	time.Sleep(2 * time.Minute)
	d := w.start("d")
	time.Sleep(2 * time.Minute)
	got := owned(a, b, c, d)
	if slices.Max(got)-slices.Min(got) > 1 || got[0]+got[1]+got[2]+got[3] != 6 || got[3] == 0 {
		t.Fatalf("after d joined: %v, want 6 leases spread within one", got)
	}
	for _, r := range []*replica{a, b, c, d} {
		r.stop()
	}
	w.exact()
}

// onDynamoemu runs a coordinator scenario in a synctest bubble against dynamoemu.
func onDynamoemu(t *testing.T, scenario func(*testing.T, http.Handler)) {
	synctest.Test(t, func(t *testing.T) {
		srv, err := dynamoemu.New(dynamoemu.Config{})
		if err != nil {
			t.Fatal(err)
		}
		scenario(t, srv)
	})
}
