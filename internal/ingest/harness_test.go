package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/flowd-dev/flowd/internal/emulator"
	"github.com/flowd-dev/flowd/internal/simulate"
)

// The end-to-end tests run inside a testing/synctest bubble (synctest.Test): time.Now and every
// timer there are virtual and move only when every goroutine of the bubble is durably blocked,
// so production durations (30 s slices, 15 min max delay) run unchanged in moments, exactly the
// same way on an idle laptop and on a machine at load 20. A scheduling stall cannot become
// virtual minutes: no test clock derives from real elapsed time. The emulator is served over
// in-memory pipes (emulator.StartInMemory), because a goroutine waiting on a real socket is not
// durably blocked and would stop virtual time.

// testEnv is an emulator served in memory inside the bubble, reached through the real SDK.
type testEnv struct {
	t      testing.TB
	clock  Clock
	base   time.Time // virtual time when the environment was made
	emu    *emulator.Server
	url    string
	client *awshttp.BuildableClient
}

// newTestEnv must be called inside a synctest bubble. The emulator reads the bubble's clock.
func newTestEnv(t testing.TB, cfg emulator.Config) *testEnv {
	t.Helper()
	cfg.Clock = time.Now
	emu, err := emulator.New(cfg)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	dial, stop := emu.StartInMemory()
	client := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.DialContext = dial
		tr.DisableKeepAlives = true
	})
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stop emulator: %v", err)
		}
	})
	return &testEnv{t: t, clock: SystemClock{}, base: time.Now(), emu: emu, url: "http://emulator.test", client: client}
}

// clients returns a real AWS client factory with static credentials pointed at the emulator.
func (e *testEnv) clients() *AWSClients {
	return NewAWSClients(
		config.WithRegion("us-east-1"),
		config.WithHTTPClient(e.client),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")),
	)
}

func (e *testEnv) spec() AWSSpec { return AWSSpec{Region: "us-east-1", Endpoint: e.url} }

// feed puts a simulator's deliveries into one log group and remembers exactly what was put.
type feed struct {
	emu   *emulator.Server
	group string
	sim   *simulate.Simulator

	mu      sync.Mutex
	streams map[string]bool
	put     map[string]int // eventKey -> count
	events  int
	bytes   int
	maxTS   int64
}

func eventKey(group, stream string, ts int64, msg string) string {
	return group + "\x00" + stream + "\x00" + strconv.FormatInt(ts, 10) + "\x00" + msg
}

func newFeed(t testing.TB, emu *emulator.Server, group string, cfg simulate.Config) *feed {
	t.Helper()
	sim, err := simulate.New(cfg)
	if err != nil {
		t.Fatalf("simulate.New: %v", err)
	}
	if err := emu.CreateLogGroup(group); err != nil {
		t.Fatalf("create group: %v", err)
	}
	return &feed{emu: emu, group: group, sim: sim, streams: map[string]bool{}, put: map[string]int{}}
}

// step delivers everything due by now.
func (f *feed) step(now time.Time) error {
	for _, d := range f.sim.Advance(now) {
		if len(d.Events) == 0 {
			continue
		}
		f.mu.Lock()
		if !f.streams[d.Stream] {
			if err := f.emu.CreateLogStream(f.group, d.Stream); err != nil {
				f.mu.Unlock()
				return err
			}
			f.streams[d.Stream] = true
		}
		f.mu.Unlock()
		in := make([]emulator.InputEvent, len(d.Events))
		for i, ev := range d.Events {
			in[i] = emulator.InputEvent{Timestamp: ev.Timestamp, Message: ev.Message}
		}
		if err := f.emu.PutLogEvents(f.group, d.Stream, in); err != nil {
			return fmt.Errorf("put %d events: %w", len(in), err)
		}
		f.mu.Lock()
		for _, ev := range d.Events {
			f.put[eventKey(f.group, d.Stream, ev.Timestamp, ev.Message)]++
			f.events++
			f.bytes += len(ev.Message) + 26
			f.maxTS = max(f.maxTS, ev.Timestamp)
		}
		f.mu.Unlock()
	}
	return nil
}

// run delivers until the virtual time stop, then returns.
func (f *feed) run(ctx context.Context, clock Clock, stop time.Time, tick time.Duration) error {
	for {
		now := clock.Now()
		if now.After(stop) {
			now = stop
		}
		if err := f.step(now); err != nil {
			return err
		}
		if !now.Before(stop) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-clock.After(tick):
		}
	}
}

// collector is the consumer: it counts every event by id and by content, and acknowledges each
// batch through the batch's own Ack, as the app's parse workers do.
type collector struct {
	mu   sync.Mutex
	ids  map[string]int
	keys map[string]int
}

func newCollector() *collector {
	return &collector{ids: map[string]int{}, keys: map[string]int{}}
}

func (c *collector) add(b Batch) {
	group, _, _ := cutSource(b.Source)
	c.mu.Lock()
	for _, ev := range b.Events {
		c.ids[ev.ID]++
		c.keys[eventKey(group, ev.Stream, ev.Timestamp, ev.Message)]++
	}
	c.mu.Unlock()
}

func (c *collector) run(out <-chan Batch) {
	for b := range out {
		c.add(b)
		b.Done()
	}
}

// cutSource splits a source name into group and prefix.
func cutSource(name string) (group, prefix string, ok bool) {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '#' {
			return name[:i], name[i+1:], true
		}
	}
	return name, "", false
}

// verify checks exactly-once delivery: no id twice, and the multiset of events received equal to
// the multiset put.
func verify(t testing.TB, c *collector, feeds ...*feed) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	// The emulator's ground truth: every id it holds must have been emitted, and nothing else.
	// The contract covers events visible within MaxDelay (15 min) of their timestamp; the harness
	// keeps to it unless the machine stalls the feed goroutine for minutes of virtual time, so
	// an event missed beyond the contract is reported, not failed, and one within it fails.
	const contract = int64(15 * 60 * 1000)
	truth := map[string]bool{}
	beyond := map[string]bool{}
	for _, f := range feeds {
		for _, ev := range f.emu.GroundTruth(f.group) {
			truth[ev.EventID] = true
			if ev.IngestionTime-ev.Timestamp > contract {
				beyond[eventKey(f.group, ev.LogStreamName, ev.Timestamp, ev.Message)] = true
				beyond[ev.EventID] = true
			}
		}
	}
	lost, lostBeyond, foreign := 0, 0, 0
	for id := range truth {
		if c.ids[id] == 0 {
			if beyond[id] {
				lostBeyond++
			} else {
				lost++
			}
		}
	}
	for id := range c.ids {
		if !truth[id] {
			foreign++
		}
	}
	if lostBeyond > 0 {
		t.Logf("%d events put more than 15 min after their timestamp (the feed stalled) were not read: beyond the contract", lostBeyond)
	}
	if lost != 0 || foreign != 0 {
		t.Errorf("ground truth holds %d ids: %d within the contract never emitted, %d emitted ids not in it", len(truth), lost, foreign)
	}
	want := map[string]int{}
	total := 0
	for _, f := range feeds {
		f.mu.Lock()
		for k, n := range f.put {
			want[k] += n
		}
		total += f.events
		f.mu.Unlock()
	}
	missing, extra := 0, 0
	for k, n := range want {
		if got := c.keys[k]; got < n && !beyond[k] {
			missing += n - got
		}
	}
	for k, n := range c.keys {
		if w := want[k]; n > w {
			extra += n - w
		}
	}
	got := 0
	for _, n := range c.ids {
		got += n
	}
	if missing != 0 || extra != 0 || (got != total && lostBeyond == 0) {
		t.Errorf("put %d events, emitted %d: %d missing within the contract, %d extra", total, got, missing, extra)
	}
}

// waitSettled waits until every source's watermark has passed t (all slices up to t had their
// final pass), or fails after a generous guard of virtual time.
func waitSettled(t testing.TB, m *Manager, sources int, ts int64) {
	t.Helper()
	guard := time.After(6 * time.Hour)
	for {
		st := m.Stats()
		done := len(st.Sources) >= sources
		for _, s := range st.Sources {
			if s.Watermark.UnixMilli() <= ts {
				done = false
			}
		}
		if done {
			return
		}
		select {
		case <-guard:
			t.Fatalf("sources not settled past %d after 6h of virtual time: %+v", ts, st.Sources)
		case <-time.After(time.Second):
		}
	}
}

// startFromCheckpoint builds a Manager from opts, restores it and a new collector from the
// test checkpoint at path (a missing file is a first start) and runs them: what a restarted
// daemon does.
func startFromCheckpoint(t testing.TB, env *testEnv, opts Options, path string) (*Manager, *collector, func()) {
	t.Helper()
	m, err := New(opts, env.clients(), env.clock, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	states, blob, err := readTestCheckpoint(path)
	if err != nil {
		t.Fatalf("read checkpoint: %v", err)
	}
	m.Restore(states)
	if err := c.restore(blob); err != nil {
		t.Fatalf("restore consumer state: %v", err)
	}
	return m, c, runManager(t, m, c)
}

// runManager runs m with a queue and a collector; stop cancels, waits and closes the queue.
func runManager(t testing.TB, m *Manager, c *collector) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan Batch, 16)
	done := make(chan error, 1)
	cdone := make(chan struct{})
	go func() { c.run(out); close(cdone) }()
	go func() { done <- m.Run(ctx, out) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(2 * time.Second):
				t.Errorf("Run did not return within 2s (virtual) of cancel")
			}
			close(out)
			<-cdone
		})
	}
	t.Cleanup(stop)
	return stop
}

func testLogger(t testing.TB) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
}

// ratio reports API calls against the page-limit minimum.
func reportCost(t testing.TB, name string, st Stats, f *feed, pageEvents int) (calls uint64, ratio float64) {
	t.Helper()
	calls = st.API.Total(OpFilterLogEvents)
	minPages := (f.events + pageEvents - 1) / pageEvents
	minBytes := (f.bytes + (1 << 20) - 1) >> 20
	lower := max(minPages, minBytes, 1)
	ratio = float64(calls) / float64(lower)
	t.Logf("%s: events=%d FilterLogEvents calls=%d (ok %d, throttled %d, error %d, retries %d) pages empty=%d nonempty=%d duplicates=%d late=%d; minimum ceil(events/%d)=%d, ceil(bytes/1MB)=%d; ratio=%.2f",
		name, f.events, calls,
		st.API.Calls[OpFilterLogEvents][OutcomeOK], st.API.Calls[OpFilterLogEvents][OutcomeThrottled], st.API.Calls[OpFilterLogEvents][OutcomeError], st.API.Retries[OpFilterLogEvents],
		sumPages(st, true), sumPages(st, false), st.DuplicatesDropped, st.LateEvents, pageEvents, minPages, minBytes, ratio)
	return calls, ratio
}

func sumPages(st Stats, empty bool) uint64 {
	var n uint64
	for _, s := range st.Sources {
		if empty {
			n += s.PagesEmpty
		} else {
			n += s.PagesNonEmpty
		}
	}
	return n
}

// testOptions are the options of the end-to-end tests: production's default values (those of
// config.Default; internal/config builds them in flowd) with the scaled-down page limit.
func testOptions(groups ...GroupSpec) Options {
	return Options{
		Groups:            groups,
		DiscoveryInterval: 5 * time.Minute,
		PollInterval:      30 * time.Second,
		EarlyPasses:       []time.Duration{5 * time.Minute},
		MaxDelay:          15 * time.Minute,
		LateGrace:         5 * time.Minute,
		RequestsPerSecond: 5,
		MaxInFlight:       4,
		RequestTimeout:    30 * time.Second,
		StartOffset:       -time.Minute,
		MaxDefer:          2 * time.Minute,
		PageLimit:         testPageEvents,
	}
}
