package simulate

import (
	"context"
	"fmt"
	"time"
)

// Clock is the time source of Run; tests pass a fake one.
type Clock interface {
	Now() time.Time
	// After delivers the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// After is time.After.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Run delivers the simulation to sink in real time until ctx is cancelled, then returns nil.
// Its first step advances to the clock's current time, so the past since Config.Start (the
// backfill: set Start to, say, 15 minutes ago) is delivered at once, except the batches whose
// delivery delay has not passed yet, which follow in due time like the rest. It then advances
// every Config.Tick. A sink error stops Run and is returned.
func (s *Simulator) Run(ctx context.Context, clock Clock, sink Sink) error {
	for {
		for _, d := range s.Advance(clock.Now()) {
			if err := sink.Put(ctx, d.Stream, d.Events); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("simulate: deliver %d events to stream %s: %w", len(d.Events), d.Stream, err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-clock.After(s.cfg.Tick):
		}
	}
}
