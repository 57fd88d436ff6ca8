package kinesis_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	kds "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"go.uber.org/zap/zaptest"

	"github.com/flowd-dev/flowd/internal/awshttp"
	"github.com/flowd-dev/flowd/internal/dynamoemu"
	"github.com/flowd-dev/flowd/internal/emufault"
	"github.com/flowd-dev/flowd/internal/kinesis"
	"github.com/flowd-dev/flowd/internal/kinesisemu"
	"github.com/flowd-dev/flowd/internal/lease"
	"github.com/flowd-dev/flowd/internal/memnet"
	"github.com/flowd-dev/flowd/internal/subscription"
)

var (
	errCut    = errors.New("replica cut off (test)")
	errKilled = errors.New("replica killed (test)")
)

// cutKinesis and cutDynamo fail every call once cut is set: a killed replica's network.
type cutKinesis struct {
	*kds.Client
	cut *atomic.Bool
}

func (c cutKinesis) ListShards(ctx context.Context, in *kds.ListShardsInput, o ...func(*kds.Options)) (*kds.ListShardsOutput, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	return c.Client.ListShards(ctx, in, o...)
}

func (c cutKinesis) GetShardIterator(ctx context.Context, in *kds.GetShardIteratorInput, o ...func(*kds.Options)) (*kds.GetShardIteratorOutput, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	return c.Client.GetShardIterator(ctx, in, o...)
}

func (c cutKinesis) GetRecords(ctx context.Context, in *kds.GetRecordsInput, o ...func(*kds.Options)) (*kds.GetRecordsOutput, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	return c.Client.GetRecords(ctx, in, o...)
}

type cutDynamo struct {
	*dynamodb.Client
	cut *atomic.Bool
}

func (c cutDynamo) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	return c.Client.GetItem(ctx, in, o...)
}

func (c cutDynamo) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	return c.Client.PutItem(ctx, in, o...)
}

func (c cutDynamo) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	return c.Client.UpdateItem(ctx, in, o...)
}

func (c cutDynamo) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	return c.Client.Scan(ctx, in, o...)
}

// harness: both emulators on in-memory networks, a producer playing CloudWatch Logs, and
// replicas whose "pipeline" commits batches after a short delay.
type harness struct {
	t        *testing.T
	kin      *kinesisemu.Server
	dyn      *dynamoemu.Server
	kinTr    *http.Transport
	dynTr    *http.Transport
	mu       sync.Mutex
	produced map[string]bool           // unique event ids put into the stream
	counted  map[string][]string       // event id -> replicas that committed it
	formats  map[string]map[string]int // replica -> format -> events
	// commitDelay: how long the test pipeline takes to commit a batch
	commitDelay time.Duration
}

func newHarness(t *testing.T, shards int) *harness {
	kin, err := kinesisemu.New(kinesisemu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamoemu.New(dynamoemu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	kl, kstop := memnet.Serve(kin)
	t.Cleanup(kstop)
	dl, dstop := memnet.Serve(dyn)
	t.Cleanup(dstop)
	h := &harness{t: t, kin: kin, dyn: dyn, kinTr: kl.Transport(), dynTr: dl.Transport(), produced: map[string]bool{},
		counted: map[string][]string{}, formats: map[string]map[string]int{}, commitDelay: 300 * time.Millisecond}
	t.Cleanup(h.kinTr.CloseIdleConnections)
	t.Cleanup(h.dynTr.CloseIdleConnections)
	if err := kin.CreateStream("flow-logs", shards); err != nil {
		t.Fatal(err)
	}
	tab, err := lease.NewTable(h.dynamo(new(atomic.Bool)), "flowd-leases")
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

func creds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")
}

func (h *harness) kinesis(cut *atomic.Bool) cutKinesis {
	return cutKinesis{Client: kds.New(kds.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://kinesis.test"), Credentials: creds(),
		HTTPClient: awshttp.Wrap(&http.Client{Transport: h.kinTr}), Retryer: aws.NopRetryer{}}), cut: cut}
}

func (h *harness) dynamo(cut *atomic.Bool) cutDynamo {
	return cutDynamo{Client: dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://dynamodb.test"), Credentials: creds(),
		HTTPClient: awshttp.Wrap(&http.Client{Transport: h.dynTr}), Retryer: aws.NopRetryer{}}), cut: cut}
}

// produce writes n subscription records of 20 events each, one every 200 ms, as CloudWatch
// Logs does: partition key = log stream, every 7th record delivered twice, a control message
// every 25 records.
func (h *harness) produce(n int, from int) {
	for i := from; i < from+n; i++ {
		group := []string{"/vpc/a", "/vpc/b"}[i%2]
		stream := fmt.Sprintf("eni-%04d-all", i%13)
		m := subscription.Message{MessageType: subscription.TypeData, Owner: "123456789012", LogGroup: group, LogStream: stream, SubscriptionFilters: []string{"flowd"}}
		for j := range 20 {
			id := fmt.Sprintf("%056d", i*100+j)
			m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: id, Timestamp: int64(i) * 1000, Message: "2 123456789012 eni-x 10.0.0.1 10.0.0.2 443 5000 6 1 60 1 2 ACCEPT OK"})
			h.mu.Lock()
			h.produced[id] = true
			h.mu.Unlock()
		}
		data, err := subscription.Encode(&m)
		if err != nil {
			h.t.Error(err)
			return
		}
		copies := 1
		if i%7 == 0 {
			copies = 2
		}
		for range copies {
			if _, _, err := h.kin.Put("flow-logs", stream, data); err != nil {
				h.t.Error(err)
			}
		}
		if i%25 == 0 {
			ctl, _ := subscription.Encode(&subscription.Message{MessageType: subscription.TypeControl, Owner: "CloudwatchLogs",
				LogEvents: []subscription.LogEvent{{Message: "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}}})
			if _, _, err := h.kin.Put("flow-logs", "control", ctl); err != nil {
				h.t.Error(err)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type replica struct {
	id     string
	src    *kinesis.Source
	cut    atomic.Bool
	dead   atomic.Bool
	cancel context.CancelFunc
	done   chan struct{}
}

func (h *harness) start(id string) *replica {
	r := &replica{id: id, done: make(chan struct{})}
	tab, _ := lease.NewTable(h.dynamo(&r.cut), "flowd-leases")
	src, err := kinesis.New(kinesis.Options{Stream: "flow-logs", Owner: id, Formats: map[string]string{"/vpc/a": "v2", "/vpc/b": "v5"},
		LeaseDuration: 9 * time.Second}, h.kinesis(&r.cut), tab, nil, zaptest.NewLogger(h.t))
	if err != nil {
		h.t.Fatal(err)
	}
	r.src = src
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	queue := make(chan kinesis.Batch, 8)
	go func() { // the pipeline: commits each batch commitDelay after it arrives
		for b := range queue {
			time.Sleep(h.commitDelay)
			if r.dead.Load() {
				b.Done(errKilled) // killed: what was not committed is lost
				continue
			}
			h.mu.Lock()
			for _, e := range b.Events {
				h.counted[e.ID] = append(h.counted[e.ID], id)
				if h.formats[id] == nil {
					h.formats[id] = map[string]int{}
				}
				h.formats[id][e.Format]++
			}
			h.mu.Unlock()
			b.Done(nil)
		}
	}()
	go func() {
		defer close(r.done)
		defer close(queue)
		err := src.Run(ctx, func(ctx context.Context, b kinesis.Batch) error {
			select {
			case queue <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil {
			h.t.Errorf("%s: Run: %v", id, err)
		}
	}()
	return r
}

func (r *replica) stop() { r.cancel(); <-r.done }

// kill: the process dies: nothing more reaches AWS, nothing more is committed.
func (r *replica) kill() { r.dead.Store(true); r.cut.Store(true); r.cancel(); <-r.done }

// exact checks that every produced event was committed exactly once across replicas.
func (h *harness) exact() {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	missing, twice := 0, 0
	for id := range h.produced {
		switch n := len(h.counted[id]); {
		case n == 0:
			missing++
		case n > 1:
			twice++
			if twice <= 3 {
				h.t.Logf("event %s counted by %v", id, h.counted[id])
			}
		}
	}
	if missing > 0 || twice > 0 || len(h.counted) != len(h.produced) {
		h.t.Fatalf("%d events produced, %d counted: %d missing, %d counted more than once", len(h.produced), len(h.counted), missing, twice)
	}
}

func TestTwoReplicasKillAndSplitExactCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, 2)
		a, b := h.start("a"), h.start("b")
		// Some GetRecords calls throttled, one answer so slow that its iterator expires.
		if err := h.kin.SetFault(kinesisemu.OpGetRecords, emufault.Fault{Kind: emufault.Throttle, Probability: 0.05}); err != nil {
			t.Fatal(err)
		}
		h.produce(300, 0)
		if o := a.src.Stats().Lease.Owned + b.src.Stats().Lease.Owned; o != 2 {
			t.Fatalf("replicas own %d leases, want 2", o)
		}
		// Split shard 0 while producing.
		kc := h.kinesis(new(atomic.Bool))
		if _, err := kc.SplitShard(context.Background(), &kds.SplitShardInput{StreamName: aws.String("flow-logs"),
			ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("85070591730234615865843651857942052864")}); err != nil {
			t.Fatal(err)
		}
		h.produce(300, 300)
		// Kill b in the middle of its batches, keep producing; a takes over after expiry.
		b.kill()
		h.produce(300, 600)
		time.Sleep(time.Minute)
		sa := a.src.Stats()
		if sa.Lease.Takeovers == 0 {
			t.Errorf("a took over nothing after b was killed: %+v", sa.Lease)
		}
		a.stop()
		h.exact()
		sb := b.src.Stats()
		if got := sa.DuplicatesDropped + sb.DuplicatesDropped; got == 0 {
			t.Errorf("no duplicates dropped; the producer sent every 7th record twice")
		}
		if sa.ControlMessages+sb.ControlMessages == 0 {
			t.Errorf("no control messages counted")
		}
		if sa.Throttled+sb.Throttled == 0 {
			t.Errorf("no throttles seen")
		}
		if sa.UncheckpointedBatches+sb.UncheckpointedBatches != 0 {
			t.Errorf("uncheckpointed batches: a %d, b %d", sa.UncheckpointedBatches, sb.UncheckpointedBatches)
		}
		if h.formats["a"]["v2"] == 0 || h.formats["a"]["v5"] == 0 {
			t.Errorf("formats by log group: %v", h.formats)
		}
		t.Logf("a: %+v", sa)
		t.Logf("b: %+v", sb)
	})
}

// A replica cut off from DynamoDB (not dead) keeps committing what it had read, and its
// checkpoints fail: those events are read again by the next owner. The source says how many,
// exactly, so the double count is visible and bounded (the one documented window).
func TestPartitionFromDynamoCountsTheWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, 2)
		h.commitDelay = 5 * time.Second // a slow pipeline: batches in flight when the cut comes
		a, b := h.start("a"), h.start("b")
		h.produce(20, 0)
		for i := 0; b.src.Stats().Lease.Owned == 0; i++ { // the hand-off to b waits for a's slow batches
			if i == 120 {
				t.Fatal("b got no lease in 2 minutes")
			}
			time.Sleep(time.Second)
		}
		h.produce(80, 20)
		b.cut.Store(true) // b loses AWS (Kinesis and DynamoDB) but keeps committing what it has
		h.produce(200, 100)
		time.Sleep(time.Minute)
		a.stop()
		b.cut.Store(false)
		b.stop()
		if sb := b.src.Stats(); sb.UncheckpointedBatches == 0 {
			t.Fatalf("b: %+v; the test meant to commit batches after the cut", sb)
		}
		sa, sb := a.src.Stats(), b.src.Stats()
		h.mu.Lock()
		twice := 0
		for id := range h.produced {
			if len(h.counted[id]) > 1 {
				twice++
				if twice < 3 {
					t.Logf("%s counted by %v", id, h.counted[id])
				}
			}
			if len(h.counted[id]) == 0 {
				t.Errorf("event %s never counted", id)
			}
		}
		h.mu.Unlock()
		if int64(twice) != sa.UncheckpointedEvents+sb.UncheckpointedEvents {
			t.Fatalf("%d events counted twice; the sources report %d+%d uncheckpointed", twice, sa.UncheckpointedEvents, sb.UncheckpointedEvents)
		}
		t.Logf("events counted twice: %d (b: %d batches uncheckpointed)", twice, sb.UncheckpointedBatches)
	})
}

func TestExpiredIteratorAndDecodeErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, 1)
		a := h.start("a")
		h.produce(20, 0)
		// One answer held for 6 minutes: the iterator it was called with has expired by then.
		if err := h.kin.SetFault(kinesisemu.OpGetRecords, emufault.Fault{Kind: emufault.Slow, Count: 1, Delay: 6 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.kin.Put("flow-logs", "junk", []byte("not gzip")); err != nil {
			t.Fatal(err)
		}
		h.produce(20, 20)
		time.Sleep(8 * time.Minute)
		h.produce(20, 40)
		time.Sleep(time.Minute)
		a.stop()
		h.exact()
		st := a.src.Stats()
		if st.ExpiredIterators != 1 || st.DecodeErrors != 1 {
			t.Fatalf("expired iterators %d, decode errors %d; want 1 and 1", st.ExpiredIterators, st.DecodeErrors)
		}
	})
}
