package ingest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// Manager is the CloudWatch Logs polling Source of one flowd process: the configured groups, the
// groups found by discovery (this replica's shard of them), the shared rate limiters, and the
// barrier that makes their state checkpointable.
type Manager struct {
	opts    *resolved
	clients ClientFactory
	clock   Clock
	log     *zap.Logger
	barrier *Barrier
	sem     chan struct{}

	mu        sync.Mutex
	quotas    map[string]*quota
	pollers   map[string]*pollerEntry
	restored  map[string]SourceState
	startMS   int64
	discovery callCounters
	retired   Stats // counters of pollers that stopped for good, so totals never go down
	wg        sync.WaitGroup
}

var _ Source = (*Manager)(nil)

type pollerEntry struct {
	p            *Poller
	stats        *sourceCounters
	cancel       context.CancelFunc
	done         chan struct{}
	discoveredBy int // index into Options.Discovery, or -1 for a configured group
}

// New validates opts and returns a Manager. clients builds the API clients (production:
// NewAWSClients); clock is the time source (SystemClock in production).
func New(opts Options, clients ClientFactory, clock Clock, logger *zap.Logger) (*Manager, error) {
	r, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if clients == nil {
		return nil, &OptionError{Field: "clients", Value: nil, Reason: "a ClientFactory is required"}
	}
	if clock == nil {
		clock = SystemClock{}
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Manager{
		opts:     r,
		clients:  clients,
		clock:    clock,
		log:      logger,
		barrier:  NewBarrier(),
		sem:      make(chan struct{}, r.MaxInFlight),
		quotas:   make(map[string]*quota),
		pollers:  make(map[string]*pollerEntry),
		restored: make(map[string]SourceState),
	}, nil
}

// Restore applies the states of a checkpoint before Run: sources found in it resume from their
// positions. States of sources this Manager does not run are kept and written back with the
// next checkpoint (a source stopped by sharding or discovery resumes if it comes back).
func (m *Manager) Restore(states []SourceState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range states {
		m.restored[s.Name] = s
	}
}

// quotaFor returns the shared limiter of an account and Region.
func (m *Manager) quotaFor(spec AWSSpec) *quota {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := spec.quotaKey()
	q := m.quotas[k]
	if q == nil {
		q = &quota{limiter: rate.NewLimiter(rate.Limit(m.opts.RequestsPerSecond), m.opts.Burst)}
		m.quotas[k] = q
	}
	return q
}

func (m *Manager) gated(c Client, spec AWSSpec, stats *callCounters, log *zap.Logger) *gate {
	return &gate{
		timeout: m.opts.RequestTimeout,
		log:     log,
		next:    c,
		quota:   m.quotaFor(spec),
		sem:     m.sem,
		clock:   m.clock,
		backoff: backoff{base: m.opts.BackoffBase, max: m.opts.BackoffMax, maxAttempts: m.opts.MaxAttempts},
		stats:   stats,
	}
}

// Run starts the sources and blocks until ctx is done and every poller has stopped. It returns
// an error only if a configured group's client cannot be built. Pollers' states stay in the
// Manager after Run returns, for the final checkpoint.
func (m *Manager) Run(ctx context.Context, out chan<- Batch) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m.mu.Lock()
	m.startMS = m.clock.Now().Add(m.opts.StartOffset).UnixMilli()
	m.mu.Unlock()

	var err error
	for _, g := range m.opts.Groups {
		name := sourceName(g.Name, g.StreamPrefix)
		if !m.opts.Shard.owns(name) {
			continue
		}
		if e := m.startPoller(ctx, out, g.Name, g.StreamPrefix, g.AWS, -1, m.startMS); e != nil {
			err = errors.Join(err, e)
		}
	}
	if err != nil {
		cancel()
		m.wg.Wait()
		return err
	}
	if len(m.opts.Discovery) > 0 {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.discover(ctx, out)
		}()
	}
	<-ctx.Done()
	m.wg.Wait()
	return nil
}

// startPoller creates and starts the poller of one source, resuming a restored state if any.
func (m *Manager) startPoller(ctx context.Context, out chan<- Batch, group, prefix string, spec AWSSpec, discoveredBy int, startMS int64) error {
	name := sourceName(group, prefix)
	c, err := m.clients.Client(ctx, spec)
	if err != nil {
		return fmt.Errorf("client for source %q: %w", name, err)
	}
	stats := &sourceCounters{}
	r := m.opts
	p := &Poller{
		name:       name,
		group:      group,
		prefix:     prefix,
		client:     m.gated(c, spec, &stats.calls, m.log.With(zap.String("source", name))),
		clock:      m.clock,
		barrier:    m.barrier,
		ack:        m.barrier.Done,
		log:        m.log.With(zap.String("log_group", group), zap.String("stream_prefix", prefix)),
		maxDelayMS: r.MaxDelay.Milliseconds(),
		pageLimit:  r.PageLimit,
		errWait:    backoff{base: r.BackoffBase, max: max(r.BackoffMax, r.PollInterval)},
		explicit:   discoveredBy < 0,
		sched:      m.newSchedule(startMS),
		dd:         newDedup(r.width),
		stats:      stats,
	}
	m.mu.Lock()
	if st, ok := m.restored[name]; ok {
		if err := p.restore(st); err != nil {
			m.log.Error("checkpointed state of source unusable, starting at the start position", zap.String("source", name), zap.Error(err))
		}
		delete(m.restored, name)
	}
	stats.settled.Store(p.sched.settled())
	stats.firstRead.Store(p.sched.firstRead())
	pctx, cancel := context.WithCancel(ctx)
	e := &pollerEntry{p: p, stats: stats, cancel: cancel, done: make(chan struct{}), discoveredBy: discoveredBy}
	m.pollers[name] = e
	m.mu.Unlock()

	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(e.done)
		err := p.Run(pctx, out)
		if err == nil {
			return
		}
		// The group is gone: stop for good and forget its state (discovery restarts it if
		// it comes back).
		m.log.Error("log group not found, stopping its poller", zap.String("source", name), zap.Error(err))
		m.retire(name, e)
	}()
	return nil
}

func (m *Manager) newSchedule(startMS int64) schedule {
	r := m.opts
	s := newSchedule(r.width, r.lags, int64(r.MaxRangeSlices)*r.width, startMS)
	if r.MaxDefer > 0 {
		s.fillEvents = int64(r.FillPages) * int64(r.PageLimit)
		s.maxDefer = r.MaxDefer.Milliseconds()
	}
	return s
}

// retire removes a stopped poller, keeping its counters in the totals.
func (m *Manager) retire(name string, e *pollerEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pollers[name] != e {
		return
	}
	s := e.stats.snapshot(m.clock.Now())
	m.retired.API.add(s.API)
	m.retired.EventsRead += s.EventsRead
	m.retired.DuplicatesDropped += s.DuplicatesDropped
	m.retired.LateEvents += s.LateEvents
	delete(m.pollers, name)
}

// Checkpoint quiesces the barrier (no poller changes state or hands off, every batch handed off
// is acknowledged), copies every source's positions and hashes, sorted by name, and calls capture
// with them while still quiesced, so the consumer captures its state at the same cut. It returns
// ctx's error if the batches in flight are not acknowledged in time, and capture's error.
func (m *Manager) Checkpoint(ctx context.Context, capture func(states []SourceState) error) error {
	err := m.barrier.Quiesce(ctx, func() error {
		var states []SourceState
		m.mu.Lock()
		for _, e := range m.pollers {
			states = append(states, e.p.state())
		}
		for _, s := range m.restored {
			states = append(states, s)
		}
		m.mu.Unlock()
		sort.Slice(states, func(i, j int) bool { return states[i].Name < states[j].Name })
		return capture(states)
	})
	if err != nil {
		return fmt.Errorf("capture checkpoint: %w", err)
	}
	return nil
}

// Stats returns a snapshot of the statistics of every running source and the totals.
func (m *Manager) Stats() Stats {
	now := m.clock.Now()
	m.mu.Lock()
	st := Stats{
		API:               m.retired.API,
		EventsRead:        m.retired.EventsRead,
		DuplicatesDropped: m.retired.DuplicatesDropped,
		LateEvents:        m.retired.LateEvents,
	}
	for name, e := range m.pollers {
		s := e.stats.snapshot(now)
		s.Name, s.LogGroup, s.StreamPrefix = name, e.p.group, e.p.prefix
		st.Sources = append(st.Sources, s)
	}
	m.mu.Unlock()
	sort.Slice(st.Sources, func(i, j int) bool { return st.Sources[i].Name < st.Sources[j].Name })
	for _, s := range st.Sources {
		st.API.add(s.API)
		st.EventsRead += s.EventsRead
		st.DuplicatesDropped += s.DuplicatesDropped
		st.LateEvents += s.LateEvents
		st.DedupEntries += s.DedupEntries
		st.DedupBytes += s.DedupBytes
	}
	st.Discovery = m.discovery.snapshot()
	st.API.add(st.Discovery)
	st.QueueInFlight = m.barrier.InFlight()
	return st
}
