package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
	"go.uber.org/zap/zaptest"
)

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	const w = 1000
	lags := []int64{5000, 20000}
	tests := []struct {
		name   string
		pos    []int64
		now    int64
		fill   int64
		est    int64
		want   passRange
		ok     bool
		wantWk int64
	}{
		{name: "nothing due yet", pos: []int64{10000, 10000}, now: 15999, ok: false, wantWk: 16000},
		{name: "early pass due for one slice", pos: []int64{10000, 10000}, now: 16000, want: passRange{0, 10000, 11000}, ok: true},
		{name: "early pass due for several slices reads one range", pos: []int64{10000, 10000}, now: 18500, want: passRange{0, 10000, 13000}, ok: true},
		{name: "final pass after the early one caught up", pos: []int64{26000, 10000}, now: 31000, want: passRange{1, 10000, 11000}, ok: true},
		{name: "backlog: early pass skips what the final pass reads", pos: []int64{0, 0}, now: 40000, want: passRange{0, 20000, 30000}, ok: true},
		{name: "backlog range capped to MaxRangeSlices", pos: []int64{100000, 0}, now: 100000, want: passRange{1, 0, 10000}, ok: true},
		{name: "deferred to fill pages", pos: []int64{10000, 10000}, now: 16000, fill: 100, est: 10, ok: false, wantWk: 17000},
		{name: "deferral expires", pos: []int64{10000, 10000}, now: 18000, fill: 100, est: 10, want: passRange{0, 10000, 13000}, ok: true},
		{name: "full enough", pos: []int64{10000, 10000}, now: 16000, fill: 100, est: 100, want: passRange{0, 10000, 11000}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := schedule{width: w, lags: lags, maxSpan: 10 * w, pos: slices.Clone(tt.pos), fillEvents: tt.fill, maxDefer: 2000}
			r, ok, wake := s.next(tt.now, func(int, int64, int64) int64 { return tt.est })
			if ok != tt.ok || (ok && r != tt.want) || (!ok && wake != tt.wantWk) {
				t.Fatalf("next(%d) = %+v, %v, wake %d; want %+v, %v, wake %d", tt.now, r, ok, wake, tt.want, tt.ok, tt.wantWk)
			}
		})
	}
}

func TestFloorTo(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ t, w, want int64 }{{0, 10, 0}, {9, 10, 0}, {10, 10, 10}, {-1, 10, -10}, {-10, 10, -10}} {
		if got := floorTo(c.t, c.w); got != c.want {
			t.Errorf("floorTo(%d, %d) = %d, want %d", c.t, c.w, got, c.want)
		}
	}
}

func TestDedupLifecycle(t *testing.T) {
	t.Parallel()
	d := newDedup(1000)
	h1, h2 := hashID("a"), hashID("b")
	d.add(0, h1)
	d.add(1000, h2)
	if !d.seen(0, h1) || d.seen(0, h2) || !d.seen(1000, h2) {
		t.Fatal("seen before seal wrong")
	}
	d.seal()
	if !d.seen(0, h1) || d.seen(1000, h1) || d.entries != 2 {
		t.Fatalf("seen after seal wrong, entries %d", d.entries)
	}
	exported := d.export()
	d.settle(1000)
	if d.seen(0, h1) || !d.seen(1000, h2) || d.entries != 1 {
		t.Fatalf("settle(1000) kept slice 0 or dropped slice 1000; entries %d", d.entries)
	}
	d2 := newDedup(2000) // a wider slice after a restart with a changed poll interval
	d2.load(exported, 1000)
	if !d2.seen(0, h1) || !d2.seen(0, h2) {
		t.Fatal("re-keyed hashes not found in the wider slice")
	}
}

func TestOptionsValidation(t *testing.T) {
	t.Parallel()
	base := func() Options { return testOptions(GroupSpec{Name: "g"}) }
	tests := []struct {
		name  string
		edit  func(*Options)
		field string
	}{
		{"no sources", func(o *Options) { o.Groups = nil }, "Groups"},
		{"empty group", func(o *Options) { o.Groups = []GroupSpec{{}} }, "Groups[0].Name"},
		{"duplicate source", func(o *Options) { o.Groups = append(o.Groups, GroupSpec{Name: "g"}) }, "Groups[1]"},
		{"early pass after final", func(o *Options) { o.EarlyPasses = []time.Duration{30 * time.Minute} }, "EarlyPasses[0]"},
		{"early passes not increasing", func(o *Options) { o.EarlyPasses = []time.Duration{2 * time.Minute, time.Minute} }, "EarlyPasses[1]"},
		{"start in the future", func(o *Options) { o.StartOffset = time.Hour }, "StartOffset"},
		{"no max delay", func(o *Options) { o.MaxDelay = 0 }, "MaxDelay"},
		{"no in-flight request", func(o *Options) { o.MaxInFlight = 0 }, "MaxInFlight"},
		{"page limit", func(o *Options) { o.PageLimit = 20000 }, "PageLimit"},
		{"shard index", func(o *Options) { o.Shard = Shard{Index: 2, Count: 2} }, "Shard"},
		{"discovery without prefix", func(o *Options) { o.Discovery = []DiscoverySpec{{}} }, "Discovery[0].Prefix"},
		{"negative rate", func(o *Options) { o.RequestsPerSecond = -1 }, "RequestsPerSecond"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := base()
			tt.edit(&o)
			_, err := o.resolve()
			var oe *OptionError
			if !errors.As(err, &oe) || !strings.Contains(err.Error(), tt.field+" =") {
				t.Fatalf("got %v, want an OptionError naming %s", err, tt.field)
			}
		})
	}
	r, err := base().resolve()
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{300000, 1200000}; !slices.Equal(r.lags, want) {
		t.Fatalf("lags %v, want %v", r.lags, want)
	}
}

func TestShardSplitsSources(t *testing.T) {
	t.Parallel()
	counts := make([]int, 3)
	for i := range 300 {
		name := fmt.Sprintf("/aws/vpc/group-%d", i)
		owners := 0
		for k := range counts {
			if (Shard{Index: k, Count: 3}).owns(name) {
				owners++
				counts[k]++
			}
		}
		if owners != 1 {
			t.Fatalf("%s owned by %d shards", name, owners)
		}
	}
	for k, n := range counts {
		if n < 60 {
			t.Errorf("shard %d got %d of 300 sources: the hash does not spread", k, n)
		}
	}
}

// stubClient is the scripted seam: each FilterLogEvents call pops the next answer.
type stubClient struct {
	mu      sync.Mutex
	answers []stubAnswer
	calls   int
}

type stubAnswer struct {
	out *cloudwatchlogs.FilterLogEventsOutput
	err error
}

func (s *stubClient) FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.answers) == 0 {
		return &cloudwatchlogs.FilterLogEventsOutput{}, nil
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a.out, a.err
}

func (s *stubClient) DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	return &cloudwatchlogs.DescribeLogGroupsOutput{}, nil
}

type fastClock struct{}

func (fastClock) Now() time.Time                       { return time.Now() }
func (fastClock) After(time.Duration) <-chan time.Time { return time.After(0) }

func apiErr(code string) error {
	return &smithy.OperationError{ServiceID: "CloudWatch Logs", OperationName: "FilterLogEvents", Err: &smithy.GenericAPIError{Code: code, Message: "scripted"}}
}

func TestGateRetries(t *testing.T) {
	t.Parallel()
	ok := stubAnswer{out: &cloudwatchlogs.FilterLogEventsOutput{}}
	tests := []struct {
		name                   string
		answers                []stubAnswer
		wantErr                bool
		calls                  int
		okN, throttledN, errsN uint64
	}{
		{"throttled then ok", []stubAnswer{{err: apiErr("ThrottlingException")}, {err: apiErr("RequestLimitExceeded")}, ok}, false, 3, 1, 2, 0},
		{"5xx and reset then ok", []stubAnswer{{err: apiErr("ServiceUnavailableException")}, {err: &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}}, ok}, false, 3, 1, 0, 2},
		{"access denied is not retried", []stubAnswer{{err: apiErr("AccessDeniedException")}}, true, 1, 0, 0, 1},
		{"not found is not retried", []stubAnswer{{err: apiErr("ResourceNotFoundException")}}, true, 1, 0, 0, 1},
		{"gives up after max attempts", []stubAnswer{{err: apiErr("ThrottlingException")}, {err: apiErr("ThrottlingException")}, {err: apiErr("ThrottlingException")}}, true, 3, 0, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stub := &stubClient{answers: tt.answers}
			stats := &callCounters{}
			g := &gate{next: stub, clock: fastClock{}, backoff: backoff{base: time.Millisecond, max: time.Millisecond, maxAttempts: 3}, stats: stats, sem: make(chan struct{}, 1)}
			_, err := g.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{})
			if (err != nil) != tt.wantErr || stub.calls != tt.calls {
				t.Fatalf("err %v after %d calls; want error %v after %d", err, stub.calls, tt.wantErr, tt.calls)
			}
			s := stats.snapshot()
			c := s.Calls[OpFilterLogEvents]
			if c[OutcomeOK] != tt.okN || c[OutcomeThrottled] != tt.throttledN || c[OutcomeError] != tt.errsN {
				t.Fatalf("outcomes %v, want ok %d throttled %d error %d", c, tt.okN, tt.throttledN, tt.errsN)
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	b := backoff{base: 100 * time.Millisecond, max: time.Second}
	for n := 1; n < 20; n++ {
		full := min(b.base<<min(n-1, 30), b.max)
		for range 50 {
			if d := b.delay(n); d < full/2 || d > full {
				t.Fatalf("delay(%d) = %v, want in [%v, %v]", n, d, full/2, full)
			}
		}
	}
}

// TestPollerStub drives a poller with scripted pages: repeats across pages and passes are dropped,
// events outside the range are ignored, and an expired token restarts without losing anything.
func TestPollerStub(t *testing.T) {
	t.Parallel()
	ev := func(id string, ts int64) types.FilteredLogEvent {
		return types.FilteredLogEvent{EventId: aws.String(id), Timestamp: aws.Int64(ts), IngestionTime: aws.Int64(ts + 10), Message: aws.String("m" + id), LogStreamName: aws.String("s")}
	}
	page := func(token string, evs ...types.FilteredLogEvent) stubAnswer {
		out := &cloudwatchlogs.FilterLogEventsOutput{Events: evs}
		if token != "" {
			out.NextToken = aws.String(token)
		}
		return stubAnswer{out: out}
	}
	stub := &stubClient{answers: []stubAnswer{
		page("t1", ev("a", 100), ev("b", 500)),
		page("t2"),                                             // an empty page with a token is not the end
		{err: apiErr("InvalidParameterException")},             // expired token: restart
		page("t3", ev("b", 500), ev("c", 1500), ev("x", 2000)), // b again; x is outside [0, 2000)
		page("", ev("d", 1999)),
	}}
	p := &Poller{name: "g", group: "g", client: stub, clock: fastClock{}, log: zaptest.NewLogger(t), pageLimit: 100,
		sched: newSchedule(1000, []int64{0, 10}, 0, 0), dd: newDedup(1000), stats: &sourceCounters{}}
	out := make(chan Batch, 10)
	if err := p.readRange(context.Background(), passRange{pass: 0, start: 0, end: 2000}, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var ids []string
	for b := range out {
		for _, e := range b.Events {
			ids = append(ids, e.ID)
		}
	}
	if want := []string{"a", "b", "c", "d"}; !slices.Equal(ids, want) {
		t.Fatalf("emitted %v, want %v", ids, want)
	}
	if p.stats.tokenRestarts.Load() != 1 || p.stats.duplicates.Load() != 1 || p.stats.pagesEmpty.Load() != 1 {
		t.Fatalf("restarts %d duplicates %d empty pages %d; want 1, 1, 1", p.stats.tokenRestarts.Load(), p.stats.duplicates.Load(), p.stats.pagesEmpty.Load())
	}
	if p.sched.pos[0] != 2000 {
		t.Fatalf("position %d after the range, want 2000", p.sched.pos[0])
	}
}

func TestBarrierQuiesceWaitsForDone(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := NewBarrier()
		b.Enter()
		b.Handoff()
		b.Leave()
		captured := make(chan struct{})
		go func() {
			_ = b.Quiesce(context.Background(), func() error { close(captured); return nil })
		}()
		synctest.Wait() // Quiesce is blocked for good unless the batch is acknowledged
		select {
		case <-captured:
			t.Fatal("captured while a batch was in flight")
		default:
		}
		b.Done()
		<-captured
		ctx, cancel := context.WithCancel(context.Background())
		b.Handoff()
		cancel()
		if err := b.Quiesce(ctx, func() error { t.Error("captured with a batch in flight"); return nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("Quiesce on a cancelled context: %v", err)
		}
	})
}

func TestClassify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want errorClass
	}{
		{"nil", ctx, nil, classOK},
		{"throttling", ctx, apiErr("ThrottlingException"), classThrottled},
		{"request limit", ctx, apiErr("RequestLimitExceeded"), classThrottled},
		{"unavailable", ctx, apiErr("ServiceUnavailableException"), classTransient},
		{"not found", ctx, apiErr("ResourceNotFoundException"), classNotFound},
		{"invalid parameter", ctx, apiErr("InvalidParameterException"), classInvalidParameter},
		{"access denied", ctx, apiErr("AccessDeniedException"), classPermanent},
		{"connection reset", ctx, fmt.Errorf("send: %w", &net.OpError{Op: "read", Err: errors.New("reset")}), classTransient},
		{"our cancellation", cancelled, fmt.Errorf("op: %w", context.Canceled), classCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := classify(tt.ctx, tt.err); got != tt.want {
				t.Fatalf("classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
