// Package kinesis is flowd's Kinesis Data Streams source: it reads the records a CloudWatch
// Logs subscription filter writes into a stream, shares the stream's shards with the other
// replicas through leases (internal/lease), decodes the records (internal/subscription), drops
// repeated log events, and hands batches of raw events to the pipeline. It never parses.
//
// # Per shard
//
// For every lease it holds, a worker polls GetRecords (at most one call per MinCallInterval,
// 200 ms, so 5 calls/s, and no faster than ReadBytesPerSecond, 2 MB/s, allows for the bytes of
// the last answer: the shard's read quotas, which every reader of the shard shares; an idle
// shard is polled every PollInterval). Each answer becomes one Batch: the DATA_MESSAGE events of
// its records, each tagged with its log group's format. CONTROL_MESSAGE records are skipped and
// counted, undecodable records are skipped, counted and logged, events already seen within
// DedupHorizon are dropped and counted.
//
// # Exactly once
//
// A batch is handed over with a Done callback; the pipeline calls it once the batch's counts
// are committed. The worker writes the lease checkpoint (the last sequence number of the
// batch) only after that, in batch order, and keeps at most MaxInFlight batches outstanding.
// The lease write is fenced by the lease counter (internal/lease), so a replica that has lost the
// lease cannot move the checkpoint, and the worker emits nothing while its lease is not Valid.
// On a graceful stop or hand-off it stops reading, waits for its outstanding batches, writes the
// checkpoint and only then lets the lease go, so the next owner starts exactly after the last
// counted record. A kill -9 loses what was not committed; the next owner re-reads it from the
// checkpoint. The one window: batches committed while the lease was being lost (the holder cut
// off from DynamoDB for longer than the lease's commit margin) are counted by the holder and
// again by the next owner; they are counted in Stats.UncheckpointedBatches.
//
// Expired iterators are replaced (AFTER_SEQUENCE_NUMBER the last record read),
// ProvisionedThroughputExceededException backs off exponentially with jitter, and a failed
// conditional write (the lease lost) stops the shard without a checkpoint.
package kinesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	kds "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/lease"
	"github.com/flowd-dev/flowd/internal/subscription"
)

// API is the part of the Kinesis API the source uses; *kinesis.Client satisfies it.
type API interface {
	ListShards(ctx context.Context, in *kds.ListShardsInput, opts ...func(*kds.Options)) (*kds.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kds.GetShardIteratorInput, opts ...func(*kds.Options)) (*kds.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kds.GetRecordsInput, opts ...func(*kds.Options)) (*kds.GetRecordsOutput, error)
}

// Event is one log event of a subscription record. Times are Unix milliseconds.
type Event struct {
	ID        string
	LogGroup  string
	LogStream string
	Timestamp int64
	Message   string
	Format    string // the log group's format (Options.Formats), as configured
}

// Batch is the events of one GetRecords answer of one shard.
type Batch struct {
	Shard  string
	Events []Event
	// Done must be called exactly once, also while shutting down: with nil once the batch's
	// counts are committed, or with an error if they never will be (the shard then re-reads
	// from the last checkpoint). A stopping shard waits for it before it lets its lease go.
	Done func(err error)
}

// Emit hands a batch to the pipeline. It may block (backpressure); it returns an error only if
// ctx is done first, and then Done is never called.
type Emit func(ctx context.Context, b Batch) error

// Options configure a Source. Zero values take the defaults in brackets.
type Options struct {
	Stream string // stream name or ARN (required)
	Owner  string // this replica's lease owner id, unique per process (required)
	// Formats maps a log group to its format; DefaultFormat applies to other groups ("" = such
	// events are skipped and counted as unmapped).
	Formats       map[string]string
	DefaultFormat string

	DedupHorizon    time.Duration // [10m]
	DedupMaxEntries int           // [2,000,000]
	PollInterval    time.Duration // [1s] between calls on a shard with nothing new
	MinCallInterval time.Duration // [200ms] between GetRecords calls of one shard
	// ReadBytesPerSecond paces a shard's calls by the bytes they returned [2 MiB].
	ReadBytesPerSecond float64
	RecordsPerCall     int32         // GetRecords Limit [10000]
	MaxInFlight        int           // batches per shard awaiting Done [4]
	BackoffBase        time.Duration // [500ms]
	BackoffMax         time.Duration // [30s]
	MaxRecordBytes     int           // decompressed size limit [subscription.DefaultMaxBytes]
	// InitialPosition of shards without a checkpoint: lease.TrimHorizon [] or lease.Latest.
	InitialPosition string
	LeaseDuration   time.Duration // [10s]
}

func (o *Options) setDefaults() error {
	var errs []error
	if o.Stream == "" {
		errs = append(errs, errors.New("kinesis source: stream: required (a stream name or ARN)"))
	}
	if o.Owner == "" {
		errs = append(errs, errors.New("kinesis source: owner: required"))
	}
	def := func(d *time.Duration, v time.Duration, name string) {
		if *d == 0 {
			*d = v
		}
		if *d < 0 {
			errs = append(errs, fmt.Errorf("kinesis source: %s %v: must be > 0", name, *d))
		}
	}
	def(&o.DedupHorizon, 10*time.Minute, "dedup_horizon")
	def(&o.PollInterval, time.Second, "poll_interval")
	def(&o.MinCallInterval, 200*time.Millisecond, "min_call_interval")
	def(&o.BackoffBase, 500*time.Millisecond, "backoff_base")
	def(&o.BackoffMax, 30*time.Second, "backoff_max")
	if o.DedupMaxEntries == 0 {
		o.DedupMaxEntries = 2_000_000
	}
	if o.ReadBytesPerSecond == 0 {
		o.ReadBytesPerSecond = 2 << 20
	}
	if o.RecordsPerCall == 0 {
		o.RecordsPerCall = 10000
	}
	if o.RecordsPerCall < 1 || o.RecordsPerCall > 10000 {
		errs = append(errs, fmt.Errorf("kinesis source: records_per_call %d: must be 1..10000", o.RecordsPerCall))
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 4
	}
	if o.MaxInFlight < 1 || o.DedupMaxEntries < 0 || o.ReadBytesPerSecond < 0 {
		errs = append(errs, fmt.Errorf("kinesis source: max_in_flight %d, dedup_max_entries %d, read_bytes_per_second %v: must be positive", o.MaxInFlight, o.DedupMaxEntries, o.ReadBytesPerSecond))
	}
	return errors.Join(errs...)
}

// Stats are the source's counters (monotonic for the life of the process) and gauges.
type Stats struct {
	Lease                 lease.Stats
	RecordsRead           int64 // Kinesis records read
	BytesRead             int64 // their data bytes (compressed)
	EventsEmitted         int64 // log events handed to the pipeline
	ControlMessages       int64 // CONTROL_MESSAGE records skipped
	DecodeErrors          int64 // records that could not be decoded (skipped)
	Unmapped              int64 // events of log groups without a format (skipped)
	DuplicatesDropped     int64 // events already seen within the dedup horizon
	Throttled             int64 // ProvisionedThroughputExceededException answers
	ExpiredIterators      int64 // iterators replaced after ExpiredIteratorException
	ReadErrors            int64 // other failed GetRecords/GetShardIterator calls
	Checkpoints           int64 // lease checkpoints written
	UncheckpointedBatches int64 // committed batches whose checkpoint could not be written (lease lost)
	UncheckpointedEvents  int64 // their events: the next owner reads them again
	MillisBehindLatest    int64 // the largest MillisBehindLatest of the shards held (gauge)
	OpenShards            int64 // open shards at the last listing (gauge; 0 before the first)
	// LastRead is when a GetRecords call last succeeded (zero before the first); LastError is
	// "" if the latest call succeeded, else why it failed: throttled, expired_iterator or
	// read_error.
	LastRead     time.Time
	LastError    string
	DedupEntries int // ids remembered (gauge)
}

// Source reads one stream for one replica.
type Source struct {
	opts  Options
	kin   API
	table *lease.Table
	clock lease.Clock
	log   *zap.Logger

	dedupMu sync.Mutex
	dedup   *dedup

	behindMu sync.Mutex
	behind   map[string]int64

	coord *lease.Coordinator

	lastRead  atomic.Int64 // ms of the last successful GetRecords
	lastError atomic.Value // string: why the latest GetRecords failed, "" if it succeeded

	records, bytes, events, control, decodeErr, unmapped, dups, throttled, expired, readErr, checkpoints, unchecked, uncheckedEvents, openShards atomic.Int64
}

// New checks opts and returns a source reading through kin, with leases in table.
func New(opts Options, kin API, table *lease.Table, clock lease.Clock, logger *zap.Logger) (*Source, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	if kin == nil || table == nil {
		return nil, errors.New("kinesis source: a Kinesis client and a lease table are required")
	}
	if clock == nil {
		clock = lease.SystemClock{}
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Source{opts: opts, kin: kin, table: table, clock: clock, log: logger.Named("kinesis").With(zap.String("stream", opts.Stream)),
		dedup: newDedup(opts.DedupHorizon, opts.DedupMaxEntries), behind: map[string]int64{}}, nil
}

// Name is the stream, as configured.
func (s *Source) Name() string { return s.opts.Stream }

// Run reads until ctx is done, then stops every shard gracefully (outstanding batches
// acknowledged, checkpoints written, leases released) and returns.
func (s *Source) Run(ctx context.Context, emit Emit) error {
	coord, err := lease.New(lease.Config{Table: s.table, Owner: s.opts.Owner, ListShards: s.listShards,
		Work:          func(ctx context.Context, h *lease.Held) error { return s.work(ctx, h, emit) },
		LeaseDuration: s.opts.LeaseDuration, InitialPosition: s.opts.InitialPosition, Clock: s.clock, Logger: s.log})
	if err != nil {
		return fmt.Errorf("kinesis source %q: %w", s.opts.Stream, err)
	}
	s.behindMu.Lock()
	s.coord = coord
	s.behindMu.Unlock()
	return coord.Run(ctx)
}

// Stats returns the counters.
func (s *Source) Stats() Stats {
	st := Stats{RecordsRead: s.records.Load(), BytesRead: s.bytes.Load(), EventsEmitted: s.events.Load(),
		ControlMessages: s.control.Load(), DecodeErrors: s.decodeErr.Load(), Unmapped: s.unmapped.Load(),
		DuplicatesDropped: s.dups.Load(), Throttled: s.throttled.Load(), ExpiredIterators: s.expired.Load(),
		ReadErrors: s.readErr.Load(), Checkpoints: s.checkpoints.Load(), UncheckpointedBatches: s.unchecked.Load(), UncheckpointedEvents: s.uncheckedEvents.Load(), OpenShards: s.openShards.Load()}
	if ms := s.lastRead.Load(); ms != 0 {
		st.LastRead = time.UnixMilli(ms)
	}
	st.LastError, _ = s.lastError.Load().(string)
	s.behindMu.Lock()
	for _, b := range s.behind {
		st.MillisBehindLatest = max(st.MillisBehindLatest, b)
	}
	coord := s.coord
	s.behindMu.Unlock()
	if coord != nil {
		st.Lease = coord.Stats()
	}
	s.dedupMu.Lock()
	st.DedupEntries = s.dedup.len()
	s.dedupMu.Unlock()
	return st
}

func (s *Source) streamInput() (name, arn *string) {
	if len(s.opts.Stream) > 4 && s.opts.Stream[:4] == "arn:" {
		return nil, &s.opts.Stream
	}
	return &s.opts.Stream, nil
}

func (s *Source) listShards(ctx context.Context) ([]lease.Shard, error) {
	name, arn := s.streamInput()
	in := &kds.ListShardsInput{StreamName: name, StreamARN: arn}
	var out []lease.Shard
	open := int64(0)
	for {
		page, err := s.kin.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards of %q: %w", s.opts.Stream, err)
		}
		for _, sh := range page.Shards {
			if sh.SequenceNumberRange == nil || sh.SequenceNumberRange.EndingSequenceNumber == nil {
				open++
			}
			l := lease.Shard{ID: deref(sh.ShardId)}
			for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
				if p != nil && *p != "" {
					l.Parents = append(l.Parents, *p)
				}
			}
			out = append(out, l)
		}
		if page.NextToken == nil {
			s.openShards.Store(open)
			return out, nil
		}
		in = &kds.ListShardsInput{NextToken: page.NextToken}
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// pending is a batch handed over and not yet settled.
type pending struct {
	lastSeq string
	events  []Event    // to forget their ids if the batch is not committed
	done    chan error // buffered 1
}

// shardReader is one worker's state.
type shardReader struct {
	s       *Source
	h       *lease.Held
	shard   string
	emit    Emit
	log     *zap.Logger
	it      *string
	lastSeq string // last record read (emitted)
	ckpt    string // last checkpoint written
	queue   []pending
	dec     subscription.Decoder
	msg     subscription.Message
	backoff time.Duration
	// settled batches (and their events) not yet covered by a written checkpoint
	uncoveredBatches, uncoveredEvents int64
	toCkpt                            string // the checkpoint they need, until it is written
}

func (s *Source) work(ctx context.Context, h *lease.Held, emit Emit) error {
	l := h.Lease()
	r := &shardReader{s: s, h: h, shard: l.Key, emit: emit, log: s.log.With(zap.String("shard", l.Key)), ckpt: l.Checkpoint}
	r.dec.MaxBytes = s.opts.MaxRecordBytes
	defer func() {
		s.behindMu.Lock()
		delete(s.behind, r.shard)
		s.behindMu.Unlock()
	}()
	if l.Checkpoint == lease.ShardEnd {
		return nil
	}
	err := r.run(ctx)
	// Stopping (lost, handed off, shut down) or failed: wait until every outstanding batch is
	// settled (the pipeline promises to call Done) and checkpoint them; if the lease is lost by
	// then, they are counted as uncheckpointed, which keeps that count exact.
	fin := context.WithoutCancel(ctx)
	if r.settle(fin, true) == nil {
		// A checkpoint that failed for a passing reason is retried until it is written or the
		// lease is gone (Held.Checkpoint refuses once the lease's validity has lapsed, so this
		// ends within a lease duration); only then may the lease move on.
		for r.toCkpt != "" {
			select {
			case <-fin.Done():
			case <-s.clock.After(r.nextBackoff()):
			}
			if r.checkpoint(fin, r.toCkpt) != nil {
				break
			}
		}
	}
	return err
}

func (r *shardReader) run(ctx context.Context) error {
	s := r.s
	next := s.clock.Now()
	for {
		if err := r.settle(ctx, false); err != nil {
			return nil // lease lost: stop quietly, the coordinator knows
		}
		// Wake for the next call, or as soon as the oldest batch is settled, so that its
		// checkpoint follows its commit at once (the shorter that gap, the smaller the window
		// in which a kill -9 leaves a committed batch unrecorded in the lease).
		var head chan error
		if len(r.queue) > 0 {
			head = r.queue[0].done
		}
		var timer <-chan time.Time
		if len(r.queue) < s.opts.MaxInFlight {
			if wait := next.Sub(s.clock.Now()); wait > 0 {
				timer = s.clock.After(wait)
			}
		}
		if timer != nil || len(r.queue) >= s.opts.MaxInFlight {
			select {
			case <-ctx.Done():
				return nil
			case err := <-head:
				head <- err // settle takes it at the top of the loop
				continue
			case <-timer:
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if !r.h.Valid() {
			next = s.clock.Now().Add(s.opts.MinCallInterval)
			continue
		}
		if r.it == nil {
			if err := r.iterator(ctx); err != nil {
				next = s.clock.Now().Add(r.nextBackoff())
				if ctx.Err() == nil {
					r.log.Warn("get shard iterator failed", zap.Error(err))
				}
				continue
			}
		}
		start := s.clock.Now()
		out, err := s.kin.GetRecords(ctx, &kds.GetRecordsInput{ShardIterator: r.it, Limit: &s.opts.RecordsPerCall})
		var expired *types.ExpiredIteratorException
		var pte *types.ProvisionedThroughputExceededException
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &expired):
			s.expired.Add(1)
			s.lastError.Store("expired_iterator")
			r.it = nil
			next = start
			continue
		case errors.As(err, &pte):
			s.throttled.Add(1)
			s.lastError.Store("throttled")
			next = start.Add(r.nextBackoff())
			continue
		case err != nil:
			s.readErr.Add(1)
			s.lastError.Store("read_error")
			r.log.Warn("get records failed", zap.Error(err))
			next = start.Add(r.nextBackoff())
			continue
		}
		r.backoff = 0
		s.lastError.Store("")
		s.lastRead.Store(s.clock.Now().UnixMilli())
		size := 0
		for i := range out.Records {
			size += len(out.Records[i].Data)
		}
		if out.MillisBehindLatest != nil {
			s.behindMu.Lock()
			s.behind[r.shard] = *out.MillisBehindLatest
			s.behindMu.Unlock()
		}
		if len(out.Records) > 0 {
			if err := r.hand(ctx, out.Records); err != nil {
				return nil
			}
		}
		r.it = out.NextShardIterator
		if r.it == nil {
			return r.finish(ctx)
		}
		pace := max(s.opts.MinCallInterval, time.Duration(float64(size)/s.opts.ReadBytesPerSecond*float64(time.Second)))
		if len(out.Records) == 0 {
			pace = max(pace, s.opts.PollInterval)
		}
		next = start.Add(pace)
	}
}

func (r *shardReader) nextBackoff() time.Duration {
	o := r.s.opts
	if r.backoff == 0 {
		r.backoff = o.BackoffBase
	} else {
		r.backoff = min(2*r.backoff, o.BackoffMax)
	}
	return r.backoff/2 + rand.N(r.backoff/2+1) // jitter in [b/2, b]
}

func (r *shardReader) iterator(ctx context.Context) error {
	s := r.s
	name, arn := s.streamInput()
	in := &kds.GetShardIteratorInput{StreamName: name, StreamARN: arn, ShardId: &r.shard}
	switch from := r.lastSeq; {
	case from == "" && (r.ckpt == lease.TrimHorizon || r.ckpt == ""):
		in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
	case from == "" && r.ckpt == lease.Latest:
		in.ShardIteratorType = types.ShardIteratorTypeLatest
	default:
		if from == "" {
			from = r.ckpt
		}
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.StartingSequenceNumber = &from
	}
	out, err := s.kin.GetShardIterator(ctx, in)
	if err != nil {
		var pte *types.ProvisionedThroughputExceededException
		if errors.As(err, &pte) {
			s.throttled.Add(1)
		} else {
			s.readErr.Add(1)
		}
		return fmt.Errorf("get shard iterator (%s): %w", r.shard, err)
	}
	r.it = out.ShardIterator
	return nil
}

// hand decodes records into a batch and hands it over (an empty batch is settled at once).
func (r *shardReader) hand(ctx context.Context, recs []types.Record) error {
	s := r.s
	var events []Event
	// The decoder's strings live until its next Decode; the batch outlives that, so its strings
	// are copied into one buffer per batch (one allocation per batch, not per event).
	var arena []byte
	keep := func(v string) string {
		if len(arena)+len(v) > cap(arena) {
			arena = make([]byte, 0, max(64<<10, 2*len(v)))
		}
		start := len(arena)
		arena = append(arena, v...)
		return unsafe.String(unsafe.SliceData(arena[start:]), len(v))
	}
	now := s.clock.Now()
	s.dedupMu.Lock()
	for i := range recs {
		s.records.Add(1)
		s.bytes.Add(int64(len(recs[i].Data)))
		if err := r.dec.Decode(recs[i].Data, &r.msg); err != nil {
			s.decodeErr.Add(1)
			r.log.Warn("undecodable record skipped", zap.String("sequence_number", deref(recs[i].SequenceNumber)), zap.Error(err))
			continue
		}
		if r.msg.Control() {
			s.control.Add(1)
			continue
		}
		format, ok := s.opts.Formats[r.msg.LogGroup]
		if !ok {
			format = s.opts.DefaultFormat
		}
		group, stream := "", ""
		for _, e := range r.msg.LogEvents {
			if s.dedup.seen(e.ID, now) {
				s.dups.Add(1)
				continue
			}
			if format == "" {
				s.unmapped.Add(1)
				continue
			}
			if group == "" {
				group, stream = keep(r.msg.LogGroup), keep(r.msg.LogStream)
			}
			events = append(events, Event{ID: keep(e.ID), LogGroup: group, LogStream: stream, Timestamp: e.Timestamp, Message: keep(e.Message), Format: format})
		}
	}
	s.dedupMu.Unlock()
	last := deref(recs[len(recs)-1].SequenceNumber)
	r.lastSeq = last
	p := pending{lastSeq: last, events: events, done: make(chan error, 1)}
	if len(events) == 0 {
		p.done <- nil
		r.queue = append(r.queue, p)
		return nil
	}
	var once sync.Once
	b := Batch{Shard: r.shard, Events: events, Done: func(err error) { once.Do(func() { p.done <- err }) }}
	if err := r.emit(ctx, b); err != nil {
		return err
	}
	s.events.Add(int64(len(events)))
	r.queue = append(r.queue, p)
	return nil
}

// settle checkpoints the longest run of settled batches at the head of the queue; with wait it
// waits for all of them first. It returns an error when the lease is lost.
func (r *shardReader) settle(ctx context.Context, wait bool) error {
	upTo := ""
	n := 0
	var failed error
loop:
	for _, p := range r.queue {
		var err error
		if wait {
			select {
			case err = <-p.done:
			case <-ctx.Done():
				break loop
			}
		} else {
			select {
			case err = <-p.done:
			default:
				break loop
			}
		}
		if err != nil {
			failed = err
			n++
			break
		}
		upTo = p.lastSeq
		r.uncoveredBatches++
		r.uncoveredEvents += int64(len(p.events))
		n++
	}
	if failed != nil {
		// A batch the pipeline could not commit: checkpoint what precedes it and re-read from
		// there. Its events and those of the batches after it (whatever becomes of them) are
		// forgotten by the dedup, or the re-read would drop them.
		r.log.Warn("batch not committed; re-reading from the last checkpoint", zap.Error(failed))
		forget := r.queue[n-1:]
		for _, p := range r.queue[n:] {
			select {
			case <-p.done:
			case <-ctx.Done():
			}
		}
		r.s.dedupMu.Lock()
		for _, p := range forget {
			for _, e := range p.events {
				r.s.dedup.forget(e.ID)
			}
		}
		r.s.dedupMu.Unlock()
		r.queue = nil
		r.lastSeq, r.it = upTo, nil
	} else {
		r.queue = r.queue[n:]
	}
	if upTo != "" {
		r.toCkpt = upTo
	}
	if r.toCkpt == "" {
		return nil
	}
	return r.checkpoint(ctx, r.toCkpt)
}

func (r *shardReader) checkpoint(ctx context.Context, cp string) error {
	err := r.h.Checkpoint(ctx, cp)
	switch {
	case err == nil:
		r.s.checkpoints.Add(1)
		r.ckpt, r.toCkpt = cp, ""
		r.uncoveredBatches, r.uncoveredEvents = 0, 0
		return nil
	case errors.Is(err, lease.ErrLost):
		r.s.unchecked.Add(r.uncoveredBatches)
		r.s.uncheckedEvents.Add(r.uncoveredEvents)
		r.log.Warn("lease lost before the checkpoint of committed batches", zap.String("checkpoint", cp),
			zap.Int64("batches", r.uncoveredBatches), zap.Int64("events", r.uncoveredEvents), zap.Error(err))
		r.uncoveredBatches, r.uncoveredEvents, r.toCkpt = 0, 0, ""
		return err
	default:
		// A transient failure: the next settled batch carries the checkpoint further.
		r.log.Warn("checkpoint failed", zap.Error(err))
		return nil
	}
}

// finish: the shard is closed and read to its end; once every batch is settled, checkpoint
// SHARD_END so that its children may be taken.
func (r *shardReader) finish(ctx context.Context) error {
	if err := r.settle(ctx, true); err != nil || len(r.queue) > 0 || r.toCkpt != "" {
		return nil // lost, or stopped before every batch was settled and checkpointed: not the end yet
	}
	for {
		err := r.h.Checkpoint(ctx, lease.ShardEnd)
		if err == nil || errors.Is(err, lease.ErrLost) || ctx.Err() != nil {
			if err == nil {
				r.s.checkpoints.Add(1)
				r.log.Info("shard finished")
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.s.clock.After(r.nextBackoff()):
		}
	}
}

// AddCounters returns s with the counters of o added (the gauges stay s's): the app keeps a
// stream's counters monotonic across a reload that replaces its Source.
func (s Stats) AddCounters(o Stats) Stats {
	s.RecordsRead += o.RecordsRead
	s.BytesRead += o.BytesRead
	s.EventsEmitted += o.EventsEmitted
	s.ControlMessages += o.ControlMessages
	s.DecodeErrors += o.DecodeErrors
	s.Unmapped += o.Unmapped
	s.DuplicatesDropped += o.DuplicatesDropped
	s.Throttled += o.Throttled
	s.ExpiredIterators += o.ExpiredIterators
	s.ReadErrors += o.ReadErrors
	s.Checkpoints += o.Checkpoints
	s.UncheckpointedBatches += o.UncheckpointedBatches
	s.UncheckpointedEvents += o.UncheckpointedEvents
	l, ol := &s.Lease, o.Lease
	l.Taken += ol.Taken
	l.Takeovers += ol.Takeovers
	l.HandoffsIn += ol.HandoffsIn
	l.HandoffsOut += ol.HandoffsOut
	l.Lost += ol.Lost
	l.Released += ol.Released
	l.ShardsEnded += ol.ShardsEnded
	l.RenewFailures += ol.RenewFailures
	l.ScanFailures += ol.ScanFailures
	return s
}
