package ingest

import (
	"context"
	"sync"
)

// Barrier makes a checkpoint a consistent cut of the whole pipeline.
//
// A source holds the read side (Enter/Leave) while it updates its state (positions, dedup
// hashes) and hands a batch to the queue, and counts the batch as in flight (Handoff) before
// sending it. The batch's Ack calls Done once the consumer has fully aggregated it. Quiesce takes the write side (so no source changes state or
// hands off), waits until every handed-off batch is Done, runs the capture function, and releases.
// At that moment the ingest state (positions, dedup hashes) and the consumer's state (aggregator
// counters) describe exactly the same set of events.
//
// A nil *Barrier is valid and does nothing (for sources used without checkpoints).
type Barrier struct {
	rw sync.RWMutex

	mu       sync.Mutex
	inFlight int
	idle     chan struct{} // closed when inFlight drops to zero while Quiesce waits
}

// NewBarrier returns a Barrier with nothing in flight.
func NewBarrier() *Barrier { return &Barrier{} }

// Enter takes the read side: the source's state may change and batches may be handed off.
func (b *Barrier) Enter() {
	if b != nil {
		b.rw.RLock()
	}
}

// Leave releases the read side.
func (b *Barrier) Leave() {
	if b != nil {
		b.rw.RUnlock()
	}
}

// Handoff counts one batch as in flight; call it under the read side before sending. A batch
// that is then not sent (the context ended) is taken back with Done.
func (b *Barrier) Handoff() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.inFlight++
	b.mu.Unlock()
}

// Done acknowledges one batch received from the queue as fully processed. Call it exactly once
// per batch. Extra calls are ignored rather than driving the count negative.
func (b *Barrier) Done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	if b.inFlight > 0 {
		b.inFlight--
	}
	if b.inFlight == 0 && b.idle != nil {
		close(b.idle)
		b.idle = nil
	}
	b.mu.Unlock()
}

// InFlight reports how many handed-off batches are not yet Done.
func (b *Barrier) InFlight() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inFlight
}

// Quiesce blocks new hand-offs, waits until every handed-off batch is Done, runs capture, and
// releases. It returns ctx.Err() without running capture if ctx ends first, and capture's error
// otherwise. The consumer must keep draining the queue while Quiesce waits.
func (b *Barrier) Quiesce(ctx context.Context, capture func() error) error {
	if b == nil {
		return capture()
	}
	b.rw.Lock()
	defer b.rw.Unlock()
	for {
		b.mu.Lock()
		if b.inFlight == 0 {
			b.mu.Unlock()
			return capture()
		}
		if b.idle == nil {
			b.idle = make(chan struct{})
		}
		idle := b.idle
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-idle:
		}
	}
}
