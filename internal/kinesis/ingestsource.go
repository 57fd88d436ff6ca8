package kinesis

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/flowd-dev/flowd/internal/ingest"
)

// IngestSource puts a Source behind ingest's source boundary (ingest.Source), so that the app
// can wire it like the CloudWatch Logs poller. Each Kinesis batch becomes one ingest.Batch per
// log group, named by BatchSource (the app finds the group's formats and labels by that name).
//
// When the app keeps a checkpoint file (durable), a batch's Ack only means "aggregated in
// memory"; it becomes the source's Done (and so moves the lease checkpoint) once the next
// Checkpoint has written the aggregator state that includes it. That order is what makes the
// counts exact across a kill -9: a lease checkpoint never runs ahead of what a restart
// restores. On stop, Run returns once reading has stopped; the shards keep their leases
// (renewed) until the app's final Checkpoint, which lets them write their lease checkpoints and
// release. Without a checkpoint file an Ack is Done at once: counts restart from zero with the
// process anyway, and the leases must still move forward.
type IngestSource struct {
	src     *Source
	durable bool

	// The cut: Checkpoint sets holding, waits until inFlight is zero (idle), captures, then
	// closes resume. Channels rather than ingest.Barrier's RWMutex, so that an emit blocked on
	// a full queue never holds a lock the checkpoint waits for (and so that the waits are
	// durable in synctest bubbles).
	inFlight int
	holding  bool
	resume   chan struct{}
	idle     chan struct{}
	failed   map[int]bool // batches whose hand-over was abandoned

	mu          sync.Mutex
	pending     []func(error)       // Done of batches aggregated but not yet in a written checkpoint
	outstanding map[int]func(error) // Done of batches handed over and not yet all acknowledged
	next        int
	closed      bool
	emits       sync.WaitGroup

	runDone chan struct{}
	runErr  error

	// FinalWait bounds how long the final Checkpoint waits for the leases to be released (1m).
	FinalWait time.Duration
}

var _ ingest.Source = (*IngestSource)(nil)

// NewIngestSource wraps src; durable says whether the app calls Checkpoint (a checkpoint file).
func NewIngestSource(src *Source, durable bool) *IngestSource {
	return &IngestSource{src: src, durable: durable, outstanding: map[int]func(error){}, failed: map[int]bool{},
		runDone: make(chan struct{}), FinalWait: time.Minute}
}

var errStopped = errors.New("kinesis source stopped")

// Run reads until ctx is done and returns once no batch can be handed over any more.
func (a *IngestSource) Run(ctx context.Context, out chan<- ingest.Batch) error {
	inner, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	go func() {
		defer close(a.runDone)
		a.runErr = a.src.Run(inner, func(ictx context.Context, b Batch) error { return a.emit(ctx, ictx, out, b) })
	}()
	select {
	case <-ctx.Done():
	case <-a.runDone:
		return a.runErr
	}
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	stop() // shards stop reading; they wait for their batches' Done before letting leases go
	a.emits.Wait()
	if !a.durable {
		<-a.runDone
		return a.runErr
	}
	return nil
}

func (a *IngestSource) emit(ctx, ictx context.Context, out chan<- ingest.Batch, b Batch) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return errStopped
	}
	a.emits.Add(1)
	id := a.next
	a.next++
	a.outstanding[id] = b.Done
	a.mu.Unlock()
	defer a.emits.Done()
	// One ingest batch per log group; the Kinesis batch is acknowledged when all of them are.
	groups := splitByGroup(b.Events)
	var left sync.WaitGroup
	left.Add(len(groups))
	go func() { left.Wait(); a.ack(id) }()
	for i, evs := range groups {
		if err := a.handoff(ctx, ictx); err != nil {
			a.abandon(id, &left, len(groups)-i)
			return err
		}
		var once sync.Once
		ib := ingest.Batch{Source: BatchSource(a.src.Name(), evs[0].LogGroup), Events: toIngest(evs), Ack: func() {
			once.Do(func() { left.Done(); a.landed() })
		}}
		var err error
		select {
		case out <- ib:
		case <-ctx.Done():
			err = ctx.Err()
		case <-ictx.Done():
			err = ictx.Err()
		}
		if err != nil {
			a.landed()
			a.abandon(id, &left, len(groups)-i)
			return err
		}
	}
	return nil
}

// handoff counts one ingest batch in flight, first waiting out a checkpoint's cut.
func (a *IngestSource) handoff(ctx, ictx context.Context) error {
	for {
		a.mu.Lock()
		if !a.holding {
			a.inFlight++
			a.mu.Unlock()
			return nil
		}
		resume := a.resume
		a.mu.Unlock()
		select {
		case <-resume:
		case <-ctx.Done():
			return ctx.Err()
		case <-ictx.Done():
			return ictx.Err()
		}
	}
}

// landed takes one ingest batch out of flight (acknowledged, or its send abandoned).
func (a *IngestSource) landed() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
	if a.inFlight == 0 && a.idle != nil {
		close(a.idle)
		a.idle = nil
	}
}

// abandon marks a Kinesis batch whose ingest batches were not all handed over: its events are
// not all counted, so it fails (its shard reads it again) instead of being acknowledged.
func (a *IngestSource) abandon(id int, left *sync.WaitGroup, n int) {
	a.mu.Lock()
	a.failed[id] = true
	a.mu.Unlock()
	for range n {
		left.Done()
	}
}

// ack settles a Kinesis batch whose ingest batches were all acknowledged: at once, or at the
// next written checkpoint when durable.
func (a *IngestSource) ack(id int) {
	a.mu.Lock()
	done, ok := a.outstanding[id]
	delete(a.outstanding, id)
	failed := a.failed[id]
	delete(a.failed, id)
	if ok && a.durable && !failed {
		a.pending = append(a.pending, done)
	}
	a.mu.Unlock()
	switch {
	case ok && failed:
		done(errStopped)
	case ok && !a.durable:
		done(nil)
	}
}

// Close gives up every batch not yet in a written checkpoint (their shards read them again)
// and lets the shards stop and release their leases: for an app that stops without a final
// Checkpoint. After the final Checkpoint it has nothing left to do.
func (a *IngestSource) Close() {
	a.mu.Lock()
	var fail []func(error)
	for id, d := range a.outstanding {
		fail = append(fail, d)
		delete(a.outstanding, id)
	}
	fail = append(fail, a.pending...)
	a.pending = nil
	a.mu.Unlock()
	for _, d := range fail {
		d(errStopped)
	}
}

func splitByGroup(evs []Event) [][]Event {
	var out [][]Event
	start := 0
	for i := 1; i <= len(evs); i++ {
		if i == len(evs) || evs[i].LogGroup != evs[start].LogGroup {
			out = append(out, evs[start:i])
			start = i
		}
	}
	return out
}

func toIngest(evs []Event) []ingest.Event {
	out := make([]ingest.Event, len(evs))
	for i, e := range evs {
		out[i] = ingest.Event{ID: e.ID, Stream: e.LogStream, Timestamp: e.Timestamp, Message: e.Message}
	}
	return out
}

// Checkpoint holds the source at a cut (every handed-off batch acknowledged) and captures (the
// source's positions live in its lease table, so it has no state of its own); once capture has
// succeeded, the batches it covered move their lease checkpoints. After Run has returned this is
// the final checkpoint: it then waits (up to FinalWait) until every lease is checkpointed and
// released.
func (a *IngestSource) Checkpoint(ctx context.Context, capture func(states []ingest.SourceState) error) error {
	if err := a.cut(ctx, capture); err != nil {
		return err
	}
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed {
		t := time.NewTimer(a.FinalWait)
		defer t.Stop()
		select {
		case <-a.runDone:
		case <-ctx.Done():
		case <-t.C:
		}
	}
	return nil
}

// cut holds new hand-overs, waits until every handed-over batch is acknowledged, captures,
// and on success settles the batches the capture covers.
func (a *IngestSource) cut(ctx context.Context, capture func(states []ingest.SourceState) error) error {
	a.mu.Lock()
	if a.holding {
		a.mu.Unlock()
		return errors.New("kinesis source: concurrent checkpoints")
	}
	a.holding, a.resume = true, make(chan struct{})
	defer func() {
		a.mu.Lock()
		a.holding = false
		close(a.resume)
		a.mu.Unlock()
	}()
	for a.inFlight > 0 {
		if a.idle == nil {
			a.idle = make(chan struct{})
		}
		idle := a.idle
		a.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
		a.mu.Lock()
	}
	p := a.pending
	a.pending = nil
	a.mu.Unlock()
	if err := capture(nil); err != nil { // positions live in the lease table
		a.mu.Lock()
		a.pending = append(p, a.pending...)
		a.mu.Unlock()
		return err
	}
	for _, d := range p {
		d(nil)
	}
	return nil
}

// SourcePrefix starts the name of a stream as an ingest source ("kinesis:<stream>", in the
// flowd_ingest_* families) and of its batches (BatchSource).
const SourcePrefix = "kinesis:"

func (a *IngestSource) name() string { return SourcePrefix + a.src.Name() }

// BatchSource is the Source of the ingest batches of a log group read from a stream: the
// stream is part of it so that two streams' groups of one name keep their own formats and
// labels, and so that it never equals a polled group's name.
func BatchSource(stream, group string) string { return SourcePrefix + stream + ":" + group }

// Stream is the stream, as configured.
func (a *IngestSource) Stream() string { return a.src.Name() }

// KinesisStats are the stream source's own statistics (leases, records, lag).
func (a *IngestSource) KinesisStats() Stats { return a.src.Stats() }

// Restore ignores the states: a Kinesis source resumes from its lease table.
func (a *IngestSource) Restore([]ingest.SourceState) {}

// Stats reports the stream as one source: events handed over, duplicates dropped, and the lag
// (MillisBehindLatest of the most delayed shard held).
func (a *IngestSource) Stats() ingest.Stats {
	s := a.src.Stats()
	ss := ingest.SourceStats{Name: a.name(), EventsRead: uint64(s.EventsEmitted), DuplicatesDropped: uint64(s.DuplicatesDropped),
		Lag: time.Duration(s.MillisBehindLatest) * time.Millisecond, DedupEntries: int64(s.DedupEntries),
		LastSuccessfulPoll: s.LastRead, LastError: s.LastError, Up: !s.LastRead.IsZero() && s.LastError == ""}
	return ingest.Stats{Sources: []ingest.SourceStats{ss}, EventsRead: ss.EventsRead, DuplicatesDropped: ss.DuplicatesDropped,
		DedupEntries: ss.DedupEntries, QueueInFlight: a.queueInFlight()}
}

func (a *IngestSource) queueInFlight() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inFlight
}
