package ingest

import (
	"sync/atomic"
	"time"
)

// Operation names a CloudWatch Logs API operation in the statistics.
type Operation int

// The operations ingest calls.
const (
	OpFilterLogEvents Operation = iota
	OpDescribeLogGroups
	numOps
)

// String returns the AWS operation name, used as the metric label.
func (o Operation) String() string {
	switch o {
	case OpFilterLogEvents:
		return "FilterLogEvents"
	case OpDescribeLogGroups:
		return "DescribeLogGroups"
	}
	return "unknown"
}

// Outcome classifies one API attempt.
type Outcome int

// The outcomes of an API attempt.
const (
	OutcomeOK Outcome = iota
	OutcomeThrottled
	OutcomeError
	numOutcomes
)

// String returns the metric label value: ok, throttled or error.
func (o Outcome) String() string {
	switch o {
	case OutcomeOK:
		return "ok"
	case OutcomeThrottled:
		return "throttled"
	case OutcomeError:
		return "error"
	}
	return "unknown"
}

// callCounters counts API attempts by operation and outcome, and retries.
type callCounters struct {
	calls    [numOps][numOutcomes]atomic.Uint64
	retries  [numOps]atomic.Uint64
	timeouts [numOps]atomic.Uint64
	// last is the outcome of the latest attempt: 0 none yet, 1 ok, else 2 + an index into
	// failureReasons.
	last atomic.Int32
}

// failureReasons are the reasons a source's latest API attempt failed (SourceStats.LastError),
// a bounded set.
var failureReasons = [...]string{"throttled", "transient", "not_found", "invalid_parameter", "permanent", "timeout"}

// recordLast keeps the outcome of an attempt for SourceStats.Up and LastError.
func (c *callCounters) recordLast(class errorClass, timedOut bool) {
	var v int32
	switch {
	case timedOut:
		v = 2 + 5
	case class == classOK:
		v = 1
	case class == classCanceled:
		return // our own shutdown says nothing about the source
	case class == classThrottled:
		v = 2
	case class == classTransient:
		v = 3
	case class == classNotFound:
		v = 4
	case class == classInvalidParameter:
		v = 5
	default:
		v = 6
	}
	c.last.Store(v)
}

func (c *callCounters) snapshot() CallStats {
	var s CallStats
	for op := range numOps {
		for oc := range numOutcomes {
			s.Calls[op][oc] = c.calls[op][oc].Load()
		}
	}
	for op := range numOps {
		s.Retries[op] = c.retries[op].Load()
		s.Timeouts[op] = c.timeouts[op].Load()
	}
	return s
}

// CallStats counts API attempts (each HTTP request, retries included) by operation and outcome.
type CallStats struct {
	// Calls is indexed by [Operation][Outcome].
	Calls [numOps][numOutcomes]uint64
	// Retries is indexed by Operation: attempts after the first of one call.
	Retries [numOps]uint64
	// Timeouts is indexed by Operation: attempts abandoned at Options.RequestTimeout (also
	// counted as errors).
	Timeouts [numOps]uint64
}

// Total is the number of attempts of op, whatever the outcome.
func (c CallStats) Total(op Operation) uint64 {
	var n uint64
	for _, v := range c.Calls[op] {
		n += v
	}
	return n
}

func (c *CallStats) add(o CallStats) {
	for op := range numOps {
		for oc := range numOutcomes {
			c.Calls[op][oc] += o.Calls[op][oc]
		}
		c.Retries[op] += o.Retries[op]
		c.Timeouts[op] += o.Timeouts[op]
	}
}

// sourceCounters are one source's live counters, updated with atomics by its poller.
type sourceCounters struct {
	calls           callCounters
	eventsRead      atomic.Uint64
	duplicates      atomic.Uint64
	late            atomic.Uint64
	pagesEmpty      atomic.Uint64
	pagesNonEmpty   atomic.Uint64
	tokenRestarts   atomic.Uint64
	newestIngestion atomic.Int64 // ms
	newestTimestamp atomic.Int64 // ms
	lastSuccess     atomic.Int64 // ms, end of the last completed pass range
	settled         atomic.Int64 // ms
	firstRead       atomic.Int64 // ms
	dedupEntries    atomic.Int64
	dedupBytes      atomic.Int64
	pendingSlices   atomic.Int64
	behind          atomic.Bool
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// SourceStats is a snapshot of one source's statistics.
type SourceStats struct {
	Name         string
	LogGroup     string
	StreamPrefix string

	EventsRead        uint64 // events emitted (each exactly once)
	DuplicatesDropped uint64 // events read again by a later pass and dropped
	LateEvents        uint64 // emitted events whose ingestion came more than MaxDelay after their timestamp
	PagesEmpty        uint64
	PagesNonEmpty     uint64
	TokenRestarts     uint64 // pass ranges restarted after an expired or invalid nextToken
	API               CallStats

	// Lag is now minus the newest ingestion time seen (zero before the first event).
	Lag             time.Duration
	NewestIngestion time.Time
	NewestTimestamp time.Time
	// Watermark is the event time before which every slice has had its final pass: counts for
	// earlier event times are final.
	Watermark time.Time
	// FirstRead is the event time before which every slice has been read at least once.
	FirstRead          time.Time
	LastSuccessfulPoll time.Time
	// Behind is true while the source has due ranges it has not read (a backlog).
	Behind bool

	DedupEntries  int64
	DedupBytes    int64
	PendingSlices int64
	// Up is true when the source's latest API attempt succeeded; LastError, when it failed,
	// says why (one of throttled, transient, not_found, invalid_parameter, permanent, timeout).
	// Both are zero before the first attempt.
	Up        bool
	LastError string
}

// Stats is a snapshot of the ingest statistics.
type Stats struct {
	Sources []SourceStats
	// Discovery counts DescribeLogGroups attempts.
	Discovery CallStats
	// API sums the API attempts of all sources and discovery.
	API               CallStats
	EventsRead        uint64
	DuplicatesDropped uint64
	LateEvents        uint64
	DedupEntries      int64
	DedupBytes        int64
	// QueueInFlight is the number of batches handed to the queue and not yet Done.
	QueueInFlight int
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func (c *sourceCounters) snapshot(now time.Time) SourceStats {
	s := SourceStats{
		EventsRead:         c.eventsRead.Load(),
		DuplicatesDropped:  c.duplicates.Load(),
		LateEvents:         c.late.Load(),
		PagesEmpty:         c.pagesEmpty.Load(),
		PagesNonEmpty:      c.pagesNonEmpty.Load(),
		TokenRestarts:      c.tokenRestarts.Load(),
		API:                c.calls.snapshot(),
		NewestIngestion:    msTime(c.newestIngestion.Load()),
		NewestTimestamp:    msTime(c.newestTimestamp.Load()),
		Watermark:          msTime(c.settled.Load()),
		FirstRead:          msTime(c.firstRead.Load()),
		LastSuccessfulPoll: msTime(c.lastSuccess.Load()),
		Behind:             c.behind.Load(),
		DedupEntries:       c.dedupEntries.Load(),
		DedupBytes:         c.dedupBytes.Load(),
		PendingSlices:      c.pendingSlices.Load(),
	}
	switch v := c.calls.last.Load(); {
	case v == 1:
		s.Up = true
	case v >= 2:
		s.LastError = failureReasons[v-2]
	}
	if !s.NewestIngestion.IsZero() {
		s.Lag = now.Sub(s.NewestIngestion)
		if s.Lag < 0 {
			s.Lag = 0
		}
	}
	return s
}
