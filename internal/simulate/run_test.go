package simulate

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// tickClock is a fake clock for Run: each After call moves time forward by d and fires at once;
// after ticks calls it cancels the run and never fires again.
type tickClock struct {
	mu     sync.Mutex
	now    time.Time
	ticks  int
	cancel context.CancelFunc
}

func (c *tickClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *tickClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ticks == 0 {
		c.cancel()
		return nil // never fires: Run must leave through ctx.Done
	}
	c.ticks--
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// recorder is a Sink that keeps what it receives.
type recorder struct {
	mu  sync.Mutex
	got []Delivery
	err error
}

func (r *recorder) Put(_ context.Context, stream string, events []Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.got = append(r.got, Delivery{Stream: stream, Events: events})
	return nil
}

func TestRunBackfillsThenFollowsTheClock(t *testing.T) {
	t.Parallel()
	now := testStart.Add(15 * time.Minute) // Start is 15 minutes ago: the backfill
	cfg := testConfig(t)
	cfg.Tick = 10 * time.Second
	const ticks = 60
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &tickClock{now: now, ticks: ticks, cancel: cancel}
	rec := &recorder{}
	if err := newSim(t, cfg).Run(ctx, clock, rec); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Run advanced to now, now+10s, ..., now+600s: the same as one Advance to the last tick.
	want := newSim(t, cfg).Advance(now.Add(ticks * cfg.Tick))
	if len(rec.got) != len(want) {
		t.Fatalf("Run delivered %d batches, Advance %d", len(rec.got), len(want))
	}
	for i := range want {
		if rec.got[i].Stream != want[i].Stream || !reflect.DeepEqual(rec.got[i].Events, want[i].Events) {
			t.Fatalf("batch %d differs", i)
		}
	}
	// The backfill came first: the first Advance(now) already delivered most of the past.
	backfill := newSim(t, cfg).Advance(now)
	if len(backfill) < cfg.Interfaces*10 {
		t.Fatalf("backfill delivered only %d batches", len(backfill))
	}
}

func TestRunReturnsSinkError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &tickClock{now: testStart.Add(10 * time.Minute), ticks: 5, cancel: cancel}
	err := newSim(t, testConfig(t)).Run(ctx, clock, &recorder{err: boom})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "-all") {
		t.Fatalf("Run = %v, want the sink error naming the stream", err)
	}
}

func TestWriterSink(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		header bool
	}{{"plain", false}, {"with S3 header", true}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.Format = mustCompile(t, SeedFormat)
			s := newSim(t, cfg)
			var buf bytes.Buffer
			header := ""
			if tc.header {
				header = HeaderLine(cfg.Format)
			}
			sink := NewWriterSink(&buf, header)
			ds := s.Advance(testStart.Add(20 * time.Minute))
			for _, d := range ds {
				if err := sink.Put(context.Background(), d.Stream, d.Events); err != nil {
					t.Fatal(err)
				}
			}
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if tc.header {
				f, err := parse.Compile(lines[0])
				if err != nil || f.String() != cfg.Format.String() {
					t.Fatalf("header %q does not compile back to the format: %v", lines[0], err)
				}
				lines = lines[1:]
			}
			if uint64(len(lines)) != s.Delivered().Events {
				t.Fatalf("%d lines, %d events delivered", len(lines), s.Delivered().Events)
			}
			var r parse.Record
			for _, l := range lines {
				if err := cfg.Format.Parse(l, &r); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriterSinkError(t *testing.T) {
	t.Parallel()
	err := NewWriterSink(failWriter{}, "").Put(context.Background(), "s-all", []Event{{1, "m"}})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
}
