package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"go.uber.org/zap"
)

// maxTokenRestarts bounds how often a pagination is restarted after an invalid nextToken without
// progressing, so a server that rejects every token cannot keep a poller busy forever.
const maxTokenRestarts = 3

// Poller is the CloudWatch Logs source for one log group (optionally one stream prefix). It reads
// the group with FilterLogEvents on the pass schedule described in the package doc, drops
// repeats by eventId and hands new events to the queue.
type Poller struct {
	name       string
	group      string // name or ARN
	prefix     string
	client     Client // already gated
	clock      Clock
	barrier    *Barrier
	ack        func() // barrier.Done, made once: a method value per batch would allocate
	log        *zap.Logger
	maxDelayMS int64
	pageLimit  int32
	errWait    backoff
	explicit   bool // configured by name: a missing group is waited for, not dropped
	// minTS: events before it are never emitted. After a restart with a changed slice width,
	// the final position is rounded down to the new width, and this keeps the part of the
	// rounded slice that was already settled (its hashes dropped) from being counted again.
	minTS int64

	// Guarded by the barrier's read side for writes; read by checkpoint captures under the
	// write side; otherwise touched only by the Run goroutine.
	sched schedule
	dd    dedup

	stats *sourceCounters

	// rates[k] is a moving average of the events per millisecond of event time that pass k
	// returns, for page filling; read and written by Run only.
	rates []float64
	// returned counts the events returned by the range being read (new and repeated).
	returned int64

	// scratch, reused per page by Run only.
	added []addedHash
}

type addedHash struct {
	slice int64
	hash  uint64
}

// Name returns the source name: the log group, plus "#prefix" for a stream prefix source.
func (p *Poller) Name() string { return p.name }

// sourceName builds the name (and checkpoint key) of a group/prefix source.
func sourceName(group, prefix string) string {
	if prefix == "" {
		return group
	}
	return group + "#" + prefix
}

// groupInput sets the group of a FilterLogEvents request: ARNs go in logGroupIdentifier, without
// the ":*" suffix DescribeLogGroups puts on them.
func groupInput(in *cloudwatchlogs.FilterLogEventsInput, group string) {
	if strings.HasPrefix(group, "arn:") {
		in.LogGroupIdentifier = aws.String(strings.TrimSuffix(group, ":*"))
		return
	}
	in.LogGroupName = aws.String(group)
}

// Run polls until ctx is done. It returns nil on cancellation and ErrLogGroupNotFound (wrapped)
// when the group disappears, unless the group was configured explicitly, in which case it waits
// for the group to appear.
func (p *Poller) Run(ctx context.Context, out chan<- Batch) error {
	failures := 0
	for {
		now := p.clock.Now().UnixMilli()
		r, ok, wake := p.sched.next(now, p.estimate)
		p.stats.behind.Store(ok)
		if !ok {
			if err := sleep(ctx, p.clock, time.Duration(wake-now)*time.Millisecond); err != nil {
				return nil
			}
			continue
		}
		err := p.readRange(ctx, r, out)
		if err == nil {
			failures = 0
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		failures++
		switch classify(ctx, err) {
		case classNotFound:
			if !p.explicit {
				return fmt.Errorf("source %q: %w: %w", p.name, ErrLogGroupNotFound, err)
			}
			if failures == 1 {
				p.log.Warn("log group not found, waiting for it to appear", zap.Error(err))
			}
		default:
			if failures == 1 || failures%10 == 0 {
				p.log.Warn("reading log group failed, will retry", zap.Int("consecutive_failures", failures), zap.Error(err))
			}
		}
		if sleep(ctx, p.clock, p.errWait.delay(failures)) != nil {
			return nil
		}
	}
}

// estimate guesses the events pass k will return over [start, end): the final pass returns at
// least the events already emitted for those slices; an early pass returns about what it
// returned per millisecond before.
func (p *Poller) estimate(k int, start, end int64) int64 {
	if k == p.sched.final() {
		var n int64
		for a := start; a < end; a += p.sched.width {
			if s := p.dd.slices[a]; s != nil {
				n += int64(len(s.sealed) + len(s.fresh))
			}
		}
		return n
	}
	if p.rates == nil {
		return 0
	}
	return int64(p.rates[k] * float64(end-start))
}

// observe updates pass k's rate after reading a range.
func (p *Poller) observe(r passRange) {
	if p.rates == nil {
		p.rates = make([]float64, len(p.sched.lags))
	}
	rate := float64(p.returned) / float64(r.end-r.start)
	if p.rates[r.pass] == 0 {
		p.rates[r.pass] = rate
		return
	}
	p.rates[r.pass] = 0.7*p.rates[r.pass] + 0.3*rate
}

// readRange runs one pass over [r.start, r.end): FilterLogEvents paged until nextToken is absent.
//
// An invalid nextToken (expired after 24 h, or rejected after a server-side change) restarts the
// pagination. Results are ordered by timestamp, so every event with a timestamp before the slice
// of the last event returned has been seen by this pagination: the restart begins at that slice
// rather than at the range start, so that a range of many pages always progresses. Re-reading the
// slice itself is safe: the dedup set drops what was already emitted. Restarts without progress
// are bounded.
func (p *Poller) readRange(ctx context.Context, r passRange, out chan<- Batch) error {
	from := r.start
	stalled := 0
	p.returned = 0
	for {
		in := &cloudwatchlogs.FilterLogEventsInput{
			StartTime: aws.Int64(from),
			// endTime's inclusiveness is not documented reliably; ask for [start, end] and drop
			// events at end here (they belong to the next range).
			EndTime: aws.Int64(r.end),
		}
		groupInput(in, p.group)
		if p.prefix != "" {
			in.LogStreamNamePrefix = aws.String(p.prefix)
		}
		pg := cloudwatchlogs.NewFilterLogEventsPaginator(p.client, in, func(o *cloudwatchlogs.FilterLogEventsPaginatorOptions) {
			o.Limit = p.pageLimit
			o.StopOnDuplicateToken = true
		})
		pages := 0
		lastTS := int64(-1)
		var err error
		for pg.HasMorePages() {
			var page *cloudwatchlogs.FilterLogEventsOutput
			page, err = pg.NextPage(ctx)
			if err != nil {
				break
			}
			pages++
			if n := len(page.Events); n > 0 {
				lastTS = max(lastTS, aws.ToInt64(page.Events[n-1].Timestamp))
			}
			if err = p.handlePage(ctx, r, page.Events, out); err != nil {
				return err
			}
		}
		if err == nil {
			p.observe(r)
			p.finishRange(r)
			return nil
		}
		if pages == 0 || classify(ctx, err) != classInvalidParameter {
			return fmt.Errorf("filter log events (group %q, pass %d, %d..%d): %w", p.group, r.pass, from, r.end, err)
		}
		p.stats.tokenRestarts.Add(1)
		if next := min(floorTo(lastTS, p.sched.width), r.end); next > from {
			from, stalled = next, 0
		} else if stalled++; stalled >= maxTokenRestarts {
			return fmt.Errorf("filter log events (group %q, pass %d, %d..%d): nextToken rejected %d times without progress: %w", p.group, r.pass, from, r.end, stalled, err)
		}
		p.log.Debug("nextToken rejected, restarting the pagination", zap.Int("pass", r.pass), zap.Int64("from", from), zap.Error(err))
	}
}

// handlePage emits the events of one page not seen before, under the barrier's read side, so
// that the dedup state and the hand-off change together.
func (p *Poller) handlePage(ctx context.Context, r passRange, evs []types.FilteredLogEvent, out chan<- Batch) error {
	if len(evs) == 0 {
		p.stats.pagesEmpty.Add(1)
		return nil
	}
	p.stats.pagesNonEmpty.Add(1)
	p.returned += int64(len(evs))
	p.barrier.Enter()
	defer p.barrier.Leave()

	p.added = p.added[:0]
	var batch []Event
	var dups, late uint64
	var newestIng, newestTS int64
	for i := range evs {
		ev := &evs[i]
		ts := aws.ToInt64(ev.Timestamp)
		if ts < r.start || ts >= r.end || ts < p.minTS {
			continue // outside the range: another range reads it
		}
		id := aws.ToString(ev.EventId)
		h := hashID(id)
		slice := floorTo(ts, p.sched.width)
		if p.dd.seen(slice, h) {
			dups++
			continue
		}
		p.dd.add(slice, h)
		p.added = append(p.added, addedHash{slice, h})
		ing := aws.ToInt64(ev.IngestionTime)
		if ing-ts > p.maxDelayMS {
			late++
		}
		newestIng = max(newestIng, ing)
		newestTS = max(newestTS, ts)
		if batch == nil {
			batch = make([]Event, 0, len(evs)-i)
		}
		batch = append(batch, Event{
			ID:            id,
			Stream:        aws.ToString(ev.LogStreamName),
			Timestamp:     ts,
			IngestionTime: ing,
			Message:       aws.ToString(ev.Message),
		})
	}
	p.stats.duplicates.Add(dups)
	if len(batch) == 0 {
		return nil
	}
	p.barrier.Handoff()
	select {
	case out <- Batch{Source: p.name, Events: batch, Ack: p.ack}:
	case <-ctx.Done():
		p.barrier.Done()
		for _, a := range p.added {
			p.dd.remove(a.slice, a.hash)
		}
		return ctx.Err()
	}
	p.stats.eventsRead.Add(uint64(len(batch)))
	p.stats.late.Add(late)
	storeMax(&p.stats.newestIngestion, newestIng)
	storeMax(&p.stats.newestTimestamp, newestTS)
	p.stats.dedupEntries.Store(p.dd.entries)
	return nil
}

// finishRange advances the pass position and, after a final pass, drops settled slices.
func (p *Poller) finishRange(r passRange) {
	p.barrier.Enter()
	p.sched.commit(r)
	if r.pass == p.sched.final() {
		p.dd.settle(p.sched.settled())
	}
	p.dd.seal()
	p.barrier.Leave()

	p.stats.lastSuccess.Store(p.clock.Now().UnixMilli())
	p.stats.settled.Store(p.sched.settled())
	p.stats.firstRead.Store(p.sched.firstRead())
	p.stats.dedupEntries.Store(p.dd.entries)
	p.stats.dedupBytes.Store(p.dd.bytes())
	p.stats.pendingSlices.Store(int64(len(p.dd.slices)))
}

// state captures the poller's checkpoint state. Call only under the barrier's write side.
func (p *Poller) state() SourceState {
	return SourceState{
		Name:      p.name,
		Width:     p.sched.width,
		Lags:      append([]int64(nil), p.sched.lags...),
		Positions: append([]int64(nil), p.sched.pos...),
		Slices:    p.dd.export(),
	}
}

// restore applies a checkpointed state. Positions of passes that no longer exist, or a changed
// slice width, are mapped conservatively: a position is only ever moved back (re-reading is safe,
// the hashes drop repeats), except that early passes may skip ahead, which only costs latency.
func (p *Poller) restore(st SourceState) error {
	if st.Width <= 0 || len(st.Positions) == 0 || len(st.Positions) != len(st.Lags) {
		return errors.New("malformed source state")
	}
	oldFinal := st.Positions[len(st.Positions)-1]
	final := floorTo(oldFinal, p.sched.width)
	p.minTS = oldFinal
	for k := range p.sched.pos {
		if k < len(st.Positions)-1 && k < p.sched.final() && len(st.Lags) == len(p.sched.lags) {
			p.sched.pos[k] = max(final, floorTo(st.Positions[k], p.sched.width))
		} else {
			p.sched.pos[k] = final
		}
	}
	p.dd = newDedup(p.sched.width)
	p.dd.load(st.Slices, st.Width)
	p.dd.settle(final)
	p.stats.settled.Store(p.sched.settled())
	p.stats.firstRead.Store(p.sched.firstRead())
	p.stats.dedupEntries.Store(p.dd.entries)
	p.stats.dedupBytes.Store(p.dd.bytes())
	p.stats.pendingSlices.Store(int64(len(p.dd.slices)))
	return nil
}
