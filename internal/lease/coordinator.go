package lease

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Clock is the coordinator's time; SystemClock in production, the same (virtual) clock inside a
// synctest bubble in tests.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// After is time.After.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Shard is a shard of the stream as the coordinator needs it.
type Shard struct {
	ID      string
	Parents []string // ParentShardId and AdjacentParentShardId, when set
}

// Worker processes one held lease until ctx is done (the lease was lost, handed off, or the
// coordinator is stopping) or the shard is finished. On a normal stop it should checkpoint what
// it has committed and return nil; at the end of a closed shard it checkpoints ShardEnd and
// returns nil. Anything it commits must first pass Held.Valid.
type Worker func(ctx context.Context, h *Held) error

// Config configures a Coordinator.
type Config struct {
	Table *Table
	// Owner identifies this worker; it must be unique per process (a restarted process with
	// the same id would adopt its own old leases at once). Default: none, required.
	Owner string
	// ListShards returns the stream's shards (closed ones included while they are retained).
	ListShards func(ctx context.Context) ([]Shard, error)
	Work       Worker
	// LeaseDuration: a lease whose counter has not moved for this long may be taken (10s, the
	// KCL's failover time).
	LeaseDuration time.Duration
	// RenewInterval between renewals of held leases (LeaseDuration/3).
	RenewInterval time.Duration
	// TakeInterval between scans of the table for leases to take or balance (LeaseDuration).
	TakeInterval time.Duration
	// CommitMargin: a held lease stops being Valid this long before others may take it, the time
	// a checkpoint write is given to land (LeaseDuration/5).
	CommitMargin time.Duration
	// InitialPosition of new leases: TrimHorizon (default) or Latest.
	InitialPosition string
	Clock           Clock
	Logger          *zap.Logger
}

func (c *Config) setDefaults() error {
	var errs []error
	if c.Table == nil {
		errs = append(errs, errors.New("lease coordinator: Table is required"))
	}
	if c.Owner == "" {
		errs = append(errs, errors.New("lease coordinator: Owner is required"))
	}
	if c.ListShards == nil || c.Work == nil {
		errs = append(errs, errors.New("lease coordinator: ListShards and Work are required"))
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = 10 * time.Second
	}
	if c.RenewInterval == 0 {
		c.RenewInterval = c.LeaseDuration / 3
	}
	if c.TakeInterval == 0 {
		c.TakeInterval = c.LeaseDuration
	}
	if c.CommitMargin == 0 {
		c.CommitMargin = c.LeaseDuration / 5
	}
	if c.LeaseDuration < 0 || c.RenewInterval <= 0 || c.TakeInterval <= 0 || c.CommitMargin < 0 ||
		c.RenewInterval+c.CommitMargin >= c.LeaseDuration {
		errs = append(errs, fmt.Errorf("lease coordinator: need 0 < RenewInterval (%v) and RenewInterval + CommitMargin (%v) < LeaseDuration (%v)", c.RenewInterval, c.CommitMargin, c.LeaseDuration))
	}
	switch c.InitialPosition {
	case "":
		c.InitialPosition = TrimHorizon
	case TrimHorizon, Latest:
	default:
		errs = append(errs, fmt.Errorf("lease coordinator: InitialPosition %q: must be %s or %s", c.InitialPosition, TrimHorizon, Latest))
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return errors.Join(errs...)
}

// Stats are a coordinator's counters (monotonic) and gauges.
type Stats struct {
	Owned         int   // leases held now (gauge)
	Taken         int64 // unowned leases taken (released by a graceful stop, or new)
	Takeovers     int64 // expired leases taken from another owner
	HandoffsIn    int64 // leases received through a hand-off this worker asked for
	HandoffsOut   int64 // leases handed to another worker
	Lost          int64 // leases lost (a fenced write failed, or renewal lapsed)
	Released      int64 // leases released on stop or at a shard's end
	ShardsEnded   int64 // shards checkpointed at SHARD_END by this worker
	RenewFailures int64 // renewals that failed for another reason than a lost lease
	ScanFailures  int64 // table scans or shard listings that failed
}

// Coordinator holds leases for one worker: it renews them, takes free and expired ones up to a
// fair share, asks the most loaded worker for one when it is short, and runs Work for each.
type Coordinator struct {
	cfg Config
	log *zap.Logger

	mu   sync.Mutex
	held map[string]*Held

	obs map[string]observed // other workers' leases as last seen (loop goroutine only)

	done chan workerExit
	wg   sync.WaitGroup

	taken, takeovers, handIn, handOut, lost, released, ended, renewFail, scanFail atomic.Int64
}

type observed struct {
	counter int64
	owner   string
	since   time.Time // when the counter was last seen to change
}

type exitReason int

const (
	running exitReason = iota
	reasonLost
	reasonHandoff
	reasonStop
)

type workerExit struct {
	h   *Held
	err error
}

// Held is a lease this worker holds, handed to Work.
type Held struct {
	c      *Coordinator
	cancel context.CancelFunc

	mu         sync.Mutex
	lease      Lease
	validUntil time.Time
	reason     exitReason
	handoffTo  string
}

// New checks cfg and returns a coordinator.
func New(cfg Config) (*Coordinator, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	return &Coordinator{cfg: cfg, log: cfg.Logger.Named("lease").With(zap.String("owner", cfg.Owner)),
		held: map[string]*Held{}, obs: map[string]observed{}, done: make(chan workerExit)}, nil
}

// Stats returns the counters.
func (c *Coordinator) Stats() Stats {
	c.mu.Lock()
	owned := len(c.held)
	c.mu.Unlock()
	return Stats{Owned: owned, Taken: c.taken.Load(), Takeovers: c.takeovers.Load(), HandoffsIn: c.handIn.Load(),
		HandoffsOut: c.handOut.Load(), Lost: c.lost.Load(), Released: c.released.Load(), ShardsEnded: c.ended.Load(),
		RenewFailures: c.renewFail.Load(), ScanFailures: c.scanFail.Load()}
}

// Owned returns the keys of the leases held now, sorted.
func (c *Coordinator) Owned() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(mapKeys(c.held))
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Run coordinates until ctx is done, then stops every worker (each checkpoints), releases the
// leases so that others take them at once, and returns.
func (c *Coordinator) Run(ctx context.Context) error {
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	nextTake := c.cfg.Clock.Now()
	tick := c.cfg.Clock.After(0)
	for {
		select {
		case <-ctx.Done():
			c.shutdown(context.WithoutCancel(ctx))
			return nil
		case ex := <-c.done:
			c.exited(ctx, ex)
		case <-tick:
			c.renewAll(ctx)
			if now := c.cfg.Clock.Now(); !now.Before(nextTake) {
				c.takeRound(ctx, workCtx)
				nextTake = now.Add(c.cfg.TakeInterval)
			}
			tick = c.cfg.Clock.After(c.cfg.RenewInterval)
		}
	}
}

// shutdown stops every worker and keeps renewing their leases while they finish (a worker
// waiting for its last batches to be committed must still be able to checkpoint them).
func (c *Coordinator) shutdown(ctx context.Context) {
	c.mu.Lock()
	for _, h := range c.held {
		h.stop(reasonStop, "")
	}
	n := len(c.held)
	c.mu.Unlock()
	tick := c.cfg.Clock.After(c.cfg.RenewInterval)
	for n > 0 {
		select {
		case ex := <-c.done:
			c.exited(ctx, ex)
			n--
		case <-tick:
			c.renewAll(ctx)
			tick = c.cfg.Clock.After(c.cfg.RenewInterval)
		}
	}
	c.wg.Wait()
}

// exited settles a worker that returned: hand the lease on, release it, or forget it.
func (c *Coordinator) exited(ctx context.Context, ex workerExit) {
	h := ex.h
	c.mu.Lock()
	delete(c.held, h.lease.Key)
	c.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	// Final writes get their own short deadline: the run context may be gone already.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.LeaseDuration)
	defer cancel()
	log := c.log.With(zap.String("lease", h.lease.Key))
	if ex.err != nil {
		log.Warn("shard worker failed", zap.Error(ex.err))
	}
	switch {
	case h.reason == reasonLost:
		return
	case h.reason == reasonHandoff:
		if err := c.cfg.Table.Transfer(ctx, &h.lease, c.cfg.Owner, h.handoffTo); err != nil {
			log.Warn("hand-off failed; the lease will expire", zap.Error(err))
			return
		}
		c.handOut.Add(1)
		log.Info("lease handed off", zap.String("to", h.lease.Owner))
		return
	}
	if h.lease.Checkpoint == ShardEnd {
		c.ended.Add(1)
	}
	if err := c.cfg.Table.Release(ctx, &h.lease, c.cfg.Owner); err != nil {
		log.Warn("release failed; the lease will expire", zap.Error(err))
		return
	}
	c.released.Add(1)
}

func (c *Coordinator) renewAll(ctx context.Context) {
	c.mu.Lock()
	hs := make([]*Held, 0, len(c.held))
	for _, h := range c.held {
		hs = append(hs, h)
	}
	c.mu.Unlock()
	for _, h := range hs {
		h.renew(ctx)
	}
}

func (h *Held) renew(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.reason == reasonLost {
		return
	}
	c := h.c
	sent := c.cfg.Clock.Now()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.LeaseDuration)
	defer cancel()
	err := c.cfg.Table.Renew(wctx, &h.lease, c.cfg.Owner)
	switch {
	case errors.Is(err, ErrLost):
		c.lost.Add(1)
		c.log.Info("lease lost", zap.String("lease", h.lease.Key))
		h.stopLocked(reasonLost, "")
	case err != nil:
		c.renewFail.Add(1)
		c.log.Warn("lease renewal failed", zap.String("lease", h.lease.Key), zap.Error(err))
		if !sent.Before(h.validUntil) {
			c.lost.Add(1)
			h.stopLocked(reasonLost, "")
		}
	default:
		h.validUntil = sent.Add(c.cfg.LeaseDuration - c.cfg.CommitMargin)
		if h.reason == running && h.lease.HandoffTo != "" && h.lease.HandoffTo != c.cfg.Owner {
			h.stopLocked(reasonHandoff, h.lease.HandoffTo)
		}
	}
}

func (h *Held) stop(r exitReason, to string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopLocked(r, to)
}

func (h *Held) stopLocked(r exitReason, to string) {
	if h.reason == running || (h.reason == reasonStop && r == reasonLost) {
		h.reason, h.handoffTo = r, to
	}
	h.cancel()
}

// Lease returns the lease as last written or read (its checkpoint is where to resume).
func (h *Held) Lease() Lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.lease
	l.Parents = slices.Clone(l.Parents)
	return l
}

// Valid reports whether the lease may still be committed against: it was renewed recently
// enough that nobody can have taken it, with CommitMargin left for the checkpoint write.
func (h *Held) Valid() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reason == running && h.c.cfg.Clock.Now().Before(h.validUntil)
}

// Checkpoint records cp (a sequence number, or ShardEnd) in the lease, fenced by the counter.
// ErrLost means the lease is gone: stop without committing anything more. A checkpoint after
// the coordinator asked the worker to stop (hand-off or shutdown) is still written: that is the
// final checkpoint of a graceful stop.
func (h *Held) Checkpoint(ctx context.Context, cp string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.c
	now := c.cfg.Clock.Now()
	if h.reason == reasonLost {
		return fmt.Errorf("checkpoint lease %q: %w", h.lease.Key, ErrLost)
	}
	if !now.Before(h.validUntil) {
		c.lost.Add(1)
		h.stopLocked(reasonLost, "")
		return fmt.Errorf("checkpoint lease %q: renewal lapsed: %w", h.lease.Key, ErrLost)
	}
	err := c.cfg.Table.Checkpoint(ctx, &h.lease, c.cfg.Owner, cp)
	if errors.Is(err, ErrLost) {
		c.lost.Add(1)
		h.stopLocked(reasonLost, "")
		return err
	}
	if err == nil {
		h.validUntil = now.Add(c.cfg.LeaseDuration - c.cfg.CommitMargin)
	}
	return err
}

// takeRound syncs leases with the shards and takes what this worker should hold.
func (c *Coordinator) takeRound(ctx, workCtx context.Context) {
	shards, err := c.cfg.ListShards(ctx)
	if err != nil {
		c.scanFail.Add(1)
		c.log.Warn("list shards failed", zap.Error(err))
		return
	}
	leases, err := c.cfg.Table.List(ctx)
	if err != nil {
		c.scanFail.Add(1)
		c.log.Warn("scan lease table failed", zap.Error(err))
		return
	}
	have := map[string]bool{}
	for _, l := range leases {
		have[l.Key] = true
	}
	for _, s := range shards {
		if have[s.ID] {
			continue
		}
		l := Lease{Key: s.ID, Checkpoint: c.cfg.InitialPosition, Parents: s.Parents}
		if len(s.Parents) > 0 {
			l.Checkpoint = TrimHorizon // a child starts where its parents ended
		}
		if err := c.cfg.Table.Create(ctx, l); err != nil && !errors.Is(err, ErrExists) {
			c.log.Warn("create lease failed", zap.String("lease", s.ID), zap.Error(err))
		}
	}
	if len(have) < len(shards) {
		if leases, err = c.cfg.Table.List(ctx); err != nil {
			c.scanFail.Add(1)
			return
		}
	}
	c.balance(ctx, workCtx, leases)
}

func (c *Coordinator) balance(ctx, workCtx context.Context, leases []Lease) {
	now := c.cfg.Clock.Now()
	byKey := map[string]Lease{}
	for _, l := range leases {
		byKey[l.Key] = l
	}
	c.mu.Lock()
	mine := len(c.held)
	heldNow := map[string]bool{}
	for k := range c.held {
		heldNow[k] = true
	}
	c.mu.Unlock()

	var free, adopt []Lease
	load := map[string][]Lease{c.cfg.Owner: nil}
	eligible := 0
	seen := map[string]bool{}
	for _, l := range leases {
		seen[l.Key] = true
		o, ok := c.obs[l.Key]
		if !ok || o.counter != l.Counter || o.owner != l.Owner {
			o = observed{counter: l.Counter, owner: l.Owner, since: now}
			c.obs[l.Key] = o
		}
		if l.Checkpoint == ShardEnd || !parentsDone(l, byKey) {
			continue
		}
		eligible++
		switch {
		case heldNow[l.Key]:
		case l.Owner == c.cfg.Owner:
			adopt = append(adopt, l) // handed to us
		case l.Owner == "":
			free = append(free, l)
		case now.Sub(o.since) >= c.cfg.LeaseDuration:
			free = append(free, l) // expired
		default:
			load[l.Owner] = append(load[l.Owner], l)
		}
	}
	for k := range c.obs {
		if !seen[k] {
			delete(c.obs, k)
		}
	}
	for _, l := range adopt {
		c.start(ctx, workCtx, l, true)
		mine++
	}
	target := (eligible + len(load) - 1) / len(load)
	// Spread contention: each worker tries free leases in its own order.
	slices.SortFunc(free, func(a, b Lease) int { return cmp.Compare(c.rank(a.Key), c.rank(b.Key)) })
	for _, l := range free {
		if mine >= target {
			break
		}
		if c.start(ctx, workCtx, l, false) {
			mine++
		}
	}
	if mine >= target || len(free) > 0 {
		return
	}
	// Nothing free and still short: ask the most loaded worker for one lease, if that narrows
	// the gap (it hands the lease over at its next renewal, after a final checkpoint).
	var most string
	for o, ls := range load {
		if o != c.cfg.Owner && (most == "" || len(ls) > len(load[most]) || (len(ls) == len(load[most]) && o < most)) {
			most = o
		}
	}
	if most == "" || len(load[most]) <= mine+1 {
		return
	}
	for _, l := range load[most] {
		if l.HandoffTo != "" {
			return // one request at a time
		}
	}
	victim := load[most][0]
	if err := c.cfg.Table.RequestHandoff(ctx, &victim, c.cfg.Owner); err != nil {
		c.log.Debug("hand-off request failed", zap.String("lease", victim.Key), zap.Error(err))
		return
	}
	c.log.Info("asked for a lease", zap.String("lease", victim.Key), zap.String("from", most))
}

func (c *Coordinator) rank(key string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(c.cfg.Owner))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return h.Sum32()
}

// parentsDone: every parent is finished (SHARD_END) or gone from the table (trimmed).
func parentsDone(l Lease, byKey map[string]Lease) bool {
	for _, p := range l.Parents {
		if pl, ok := byKey[p]; ok && pl.Checkpoint != ShardEnd {
			return false
		}
	}
	return true
}

// start takes (or, when adopting a lease handed to us, renews) l and runs Work for it.
func (c *Coordinator) start(ctx, workCtx context.Context, l Lease, adopt bool) bool {
	sent := c.cfg.Clock.Now()
	prevOwner := l.Owner
	// A write under way when Run is cancelled still completes, so that its lease is known
	// (and released by the shutdown) rather than left owned by a worker that forgot it.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.LeaseDuration)
	defer wcancel()
	var err error
	if adopt {
		err = c.cfg.Table.Renew(wctx, &l, c.cfg.Owner)
	} else {
		err = c.cfg.Table.Take(wctx, &l, c.cfg.Owner)
	}
	if err != nil {
		c.log.Debug("take failed", zap.String("lease", l.Key), zap.Error(err))
		return false
	}
	switch {
	case adopt:
		c.handIn.Add(1)
	case prevOwner == "":
		c.taken.Add(1)
	default:
		c.takeovers.Add(1)
		c.log.Info("took over expired lease", zap.String("lease", l.Key), zap.String("from", prevOwner))
	}
	wctx, cancel := context.WithCancel(workCtx)
	h := &Held{c: c, cancel: cancel, lease: l, validUntil: sent.Add(c.cfg.LeaseDuration - c.cfg.CommitMargin)}
	c.mu.Lock()
	c.held[l.Key] = h
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		err := c.cfg.Work(wctx, h)
		c.done <- workerExit{h: h, err: err}
	}()
	return true
}
