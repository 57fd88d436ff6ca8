//go:build stress

package stress

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/emulator"
	"github.com/flowd-dev/flowd/internal/simulate"
)

// cloud is a CloudWatch Logs emulator serving on a loopback port of the test process: flowd, a
// separate process, reaches it through the AWS SDK exactly as it reaches AWS.
type cloud struct {
	emu   *emulator.Server
	url   string
	group string
	sink  *emuSink
}

// newCloud starts an emulator with cfg (real clock) holding one log group. wrap, if not nil,
// wraps the emulator's handler (the throttling storm puts its own quota in front).
func newCloud(t *testing.T, cfg emulator.Config, group string, wrap func(http.Handler) http.Handler) *cloud {
	t.Helper()
	emu, err := emulator.New(cfg)
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	if err := emu.CreateLogGroup(group); err != nil {
		t.Fatalf("create group: %v", err)
	}
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &cloud{emu: emu, url: srv.URL, group: group, sink: &emuSink{emu: emu, group: group, streams: map[string]bool{}}}
}

// filterCalls is every FilterLogEvents call the emulator answered (throttled and faulted ones included).
func (c *cloud) filterCalls() emulator.OpStats {
	return c.emu.Stats().Ops[emulator.OpFilterLogEvents]
}

// emuSink puts events into the emulator in-process (PutLogEvents' checks, no HTTP, not in the
// emulator's call counts, so those count flowd's calls only), creating streams on first use and
// splitting batches at the PutLogEvents limits. It implements simulate.Sink.
type emuSink struct {
	emu     *emulator.Server
	group   string
	mu      sync.Mutex
	streams map[string]bool
	events  atomic.Int64
	bytes   atomic.Int64 // message bytes + 26 per event, as pages are sized
	maxTS   atomic.Int64 // newest event timestamp put, ms
}

// PutLogEvents' limits: 10,000 events and 1 MiB (message bytes + 26 per event) per call.
const (
	putMaxEvents = 10000
	putMaxBytes  = 1 << 20
	putOverhead  = 26
)

// Put delivers events (in timestamp order) to stream.
func (s *emuSink) Put(_ context.Context, stream string, events []simulate.Event) error {
	in := make([]emulator.InputEvent, len(events))
	for i, e := range events {
		in[i] = emulator.InputEvent{Timestamp: e.Timestamp, Message: e.Message}
	}
	return s.put(stream, in)
}

func (s *emuSink) put(stream string, events []emulator.InputEvent) error {
	if err := s.ensureStream(stream); err != nil {
		return err
	}
	for len(events) > 0 {
		n, size := 0, 0
		for n < len(events) && n < putMaxEvents {
			sz := len(events[n].Message) + putOverhead
			if n > 0 && size+sz > putMaxBytes {
				break
			}
			size += sz
			n++
		}
		if err := s.emu.PutLogEvents(s.group, stream, events[:n]); err != nil {
			return fmt.Errorf("put %d events into %s: %w", n, stream, err)
		}
		s.events.Add(int64(n))
		s.bytes.Add(int64(size))
		for {
			old, ts := s.maxTS.Load(), events[n-1].Timestamp
			if ts <= old || s.maxTS.CompareAndSwap(old, ts) {
				break
			}
		}
		events = events[n:]
	}
	return nil
}

func (s *emuSink) ensureStream(stream string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams[stream] {
		return nil
	}
	if err := s.emu.CreateLogStream(s.group, stream); err != nil && !errors.Is(err, emulator.ErrResourceAlreadyExists) {
		return fmt.Errorf("create stream %s: %w", stream, err)
	}
	s.streams[stream] = true
	return nil
}

// simFeed delivers a simulator's batches into the emulator in real time.
type simFeed struct {
	sim  *simulate.Simulator
	sink *emuSink
}

// simConfig is the simulated VPC of the scenarios that need a ground truth from the simulator:
// its first capture windows end within a minute of now and batches arrive 1-5 s after their
// window, so a record is 1-65 s old when it becomes visible.
func simConfig(seed uint64, interfaces, flows int) simulate.Config {
	c := simulate.DefaultConfig()
	c.Seed = seed
	c.Start = time.Now().Add(-55 * time.Second).Truncate(time.Second)
	c.Interfaces = interfaces
	c.FlowsPerInterval = flows
	c.DelayMin, c.DelayMax = time.Second, 5*time.Second
	c.StragglerFraction, c.StragglerMax = 0, 0
	c.Tick = 250 * time.Millisecond
	return c
}

func newSimFeed(t *testing.T, c *cloud, cfg simulate.Config) *simFeed {
	t.Helper()
	sim, err := simulate.New(cfg)
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	return &simFeed{sim: sim, sink: c.sink}
}

// run delivers what falls due until the wall clock reaches stop (or ctx ends).
func (f *simFeed) run(ctx context.Context, stop time.Time) error {
	for {
		now := time.Now()
		if now.After(stop) {
			now = stop
		}
		for _, d := range f.sim.Advance(now) {
			if err := f.sink.Put(ctx, d.Stream, d.Events); err != nil {
				return err
			}
		}
		if !now.Before(stop) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// runAsync runs run in a goroutine and returns a function waiting for its end.
func (f *simFeed) runAsync(ctx context.Context, stop time.Time) func() error {
	done := make(chan error, 1)
	go func() { done <- f.run(ctx, stop) }()
	return func() error { return <-done }
}
