package emulator

import "sync/atomic"

// OpStats counts the HTTP calls of one operation (the in-process helpers are not counted).
type OpStats struct {
	// Calls is every request naming the operation, throttled and faulted ones included.
	Calls int64
	// Throttled is the calls answered ThrottlingException by the rate limit (not by FaultThrottle).
	Throttled int64
	// Faulted is the calls a scripted fault acted on (including FaultThrottle).
	Faulted int64
	// Errors is the calls answered with an error other than throttling by the rate limit
	// (validation, not found, scripted error answers...).
	Errors int64
}

// Stats is a snapshot of the server's counters.
type Stats struct {
	// Ops maps each operation name to its counters.
	Ops map[string]OpStats
	// EventsReturned counts events sent by FilterLogEvents and GetLogEvents.
	EventsReturned int64
	// Pages counts successful FilterLogEvents answers; EmptyPages those without events;
	// ShortPages those cut short by Config.ShortPageProbability.
	Pages, EmptyPages, ShortPages int64
	// EventsPut counts accepted events, EventsRejected those refused by PutLogEvents
	// (rejectedLogEventsInfo), EventsExpired those dropped by Retention; EventsStored is what
	// is held now.
	EventsPut, EventsRejected, EventsExpired, EventsStored int64
	// Subscriptions counts what subscription filters delivered.
	Subscriptions SubscriptionStats
}

// SubscriptionStats counts the records subscription filters put into their destinations.
type SubscriptionStats struct {
	// ControlMessages is the CONTROL_MESSAGE records put (one per filter created or moved to
	// another destination).
	ControlMessages int64
	// Records is the DATA_MESSAGE records delivered, Events the log events in them (a
	// duplicated record counts once here).
	Records, Events int64
	// Duplicates is the records put a second time (Config.SubscriptionDuplicateProbability).
	Duplicates int64
	// Retries is the Puts that failed; each is tried again in a later round.
	Retries int64
}

type opCounters struct {
	calls, throttled, faulted, errors atomic.Int64
}

type counters struct {
	ops                           [numOps]opCounters
	eventsReturned                atomic.Int64
	pages, emptyPages, shortPages atomic.Int64
	put, rejected, expired        atomic.Int64
	stored                        atomic.Int64
	subControl, subRecords        atomic.Int64
	subEvents, subDuplicates      atomic.Int64
	subRetries                    atomic.Int64
}

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	st := Stats{
		Ops:            make(map[string]OpStats, numOps),
		EventsReturned: c.eventsReturned.Load(),
		Pages:          c.pages.Load(),
		EmptyPages:     c.emptyPages.Load(),
		ShortPages:     c.shortPages.Load(),
		EventsPut:      c.put.Load(),
		EventsRejected: c.rejected.Load(),
		EventsExpired:  c.expired.Load(),
		EventsStored:   c.stored.Load(),
		Subscriptions: SubscriptionStats{
			ControlMessages: c.subControl.Load(),
			Records:         c.subRecords.Load(),
			Events:          c.subEvents.Load(),
			Duplicates:      c.subDuplicates.Load(),
			Retries:         c.subRetries.Load(),
		},
	}
	for o := range numOps {
		oc := &c.ops[o]
		st.Ops[opNames[o]] = OpStats{
			Calls:     oc.calls.Load(),
			Throttled: oc.throttled.Load(),
			Faulted:   oc.faulted.Load(),
			Errors:    oc.errors.Load(),
		}
	}
	return st
}
