// Package ingest reads raw log events from CloudWatch Logs (FilterLogEvents) and hands them, in
// batches, to a bounded queue owned by the caller, counting every event exactly once. It never
// parses. It also keeps the checkpoint that lets a restart neither lose nor repeat a count.
//
// # The problem
//
// FilterLogEvents selects events by their timestamp (for flow logs, the flow's start), but events
// become visible minutes later, out of order across streams, and there is no server-side filter
// on ingestion time. A poller that only moves a high-water mark forward loses late events; one
// that re-reads a window at every poll wastes the 5 requests/s per account and Region.
//
// # The algorithm: slices and a fixed schedule of passes
//
// Per source (one log group, optionally one stream prefix), event time is cut into slices
// [a, a+w) aligned to multiples of w = PollInterval (default 30 s). Each slice is read by a fixed
// schedule of passes at lags after the slice's end: the EarlyPasses (default 5 m) and a final pass
// at MaxDelay + LateGrace (default 15 m + 5 m). A pass is one FilterLogEvents pagination over
// [startTime, endTime), paged until nextToken is absent (an empty page is not the end), with the
// SDK paginator and StopOnDuplicateToken. Pass k keeps one position: the start of the first slice
// it has not read. The slices due for pass k at time now are [pos_k, floor((now-lag_k)/w)*w):
// consecutive, hence one range, hence one pagination per pass and poll. endTime's inclusiveness is
// not reliably documented, so ranges are requested as [start, end] and events at end are ignored
// (the next range reads them).
//
// Every event emitted is remembered as the 64-bit FNV-1a hash of its eventId in the set of its
// slice; an event whose hash is already in its slice's set is dropped. After the final pass of a
// slice, its set is dropped.
//
// Exactness. Let e be an event with timestamp t in slice S = [a, a+w), visible from time v on.
//   - At most once: every read of e is a read of S (ranges are filtered to their slices), and
//     reads of S happen only between S's first pass and the end of its final pass. From the first
//     emission of e until S's final pass completes, e's hash is in S's set, so every later read
//     drops it. After the final pass no position ever returns to S (positions only move forward),
//     so e is never read again.
//   - At least once: the final pass of S starts at or after a+w+MaxDelay+LateGrace. If e is visible
//     within MaxDelay of its timestamp (v <= t+MaxDelay < a+w+MaxDelay), it is visible during the
//     whole final pass, and the pagination returns it (it pages to the end). If an earlier pass
//     already emitted it, it was counted then.
//   - Hash collisions: a new event is wrongly dropped only if its hash equals that of an event
//     already emitted in the same slice. With n events per slice the chance over the slice is
//     about n^2/2^65: 3e-8 for a million events in one 30 s slice; a 10,000-event slice, about
//     3e-12. The eventIds are AWS's, not attacker-chosen.
//
// Late events. An event first emitted whose ingestionTime - timestamp > MaxDelay is counted as
// late (Stats.LateEvents) and still emitted, once. An event that becomes visible only after its
// slice's final pass is beyond the contract and is not read: LateGrace is the margin for it (and
// for clock skew between flowd and CloudWatch), and raising MaxDelay or LateGrace widens the
// contract at the price of dedup memory. The late counter (events that needed the grace) is the
// signal to raise it.
//
// Improvements over the plain schedule (each keeps the argument above intact, because reading a
// slice later than its lag never loses anything):
//   - Subsumption: an early pass skips slices that a later pass is already due to read, so in a
//     backlog (start-up, restart, outage) each slice is read once, by the latest pass due.
//   - Page filling: a due range is read once it is expected to fill FillPages pages (the final
//     pass knows how many events its slices already hold; an early pass uses the rate it saw), or
//     once it has waited MaxDefer (default 2 m). Without it, a moderate event rate costs one
//     partial page per slice and pass: several times the minimum number of calls.
//   - Token restarts: an invalid or expired nextToken restarts the pagination at the slice of the
//     last event returned (results are ordered by timestamp, so everything before that slice was
//     returned), not at the range start, so that long ranges always progress; the dedup set drops
//     what is re-read.
//   - Backlog: ranges are capped at MaxRangeSlices so positions (and checkpoints) advance while a
//     source catches up; a source with due ranges pages continuously, within the rate budget;
//     an idle source wakes when its next slice is due.
//
// # Cost
//
// API calls are about (1 + f) times the minimum ceil(events / events-per-page), f being the
// fraction of events already visible at the early pass: the final pass re-reads what the early
// pass saw, because FilterLogEvents cannot select by ingestion time. With realistic flow log
// delivery (1-6 min after the window) and the 5 m early pass, f is close to 1: the early pass
// buys counts 5-7 minutes after the flow instead of about 22 minutes, for about twice the calls.
// With EarlyPasses set to none the cost is close to the minimum. The tests measure both.
//
// Dedup memory is 8 bytes per event of the slices not yet settled (sorted arrays; a small map
// holds the hashes added since the last seal), that is the events with timestamps in the last
// MaxDelay + LateGrace + MaxDefer + w, reported as Stats.DedupEntries and DedupBytes. A cheaper
// representation was considered: an event whose ingestionTime is older than the previous pass's
// start minus a visibility margin must have been seen by that pass, so only recently ingested
// events need hashes. It is not used: its exactness depends on a bound on the delay between
// ingestion and searchability that AWS does not document (the emulator's VisibilityDelay models
// exactly such a delay), and a wrong bound loses events silently.
//
// # Quota and retries
//
// All pollers of one account/role and Region share one golang.org/x/time/rate limiter (default
// 5 requests/s, burst 1), waited on before every attempt; a semaphore bounds requests in flight.
// Throttling (ThrottlingException and the other throttle codes, HTTP 429), 5xx and connection
// failures are retried with jittered exponential back-off (BackoffBase to BackoffMax, up to
// MaxAttempts, after which the poller logs and retries the pass later). The SDK's retryer is
// replaced by aws.NopRetryer: SDK retries would bypass the shared limiter, and after sustained
// throttling its retry token bucket makes calls fail fast ("retry quota exceeded") exactly when
// patience is needed. ResourceNotFoundException stops a discovered group's poller (discovery
// restarts it if the group comes back); a configured group is waited for.
//
// # Sources, batches and checkpoints
//
// Manager is a Source (see the interface): the app wires it, and any other kind of source,
// through that interface only. Every Batch carries its own Ack, which the consumer calls once the
// batch is fully aggregated; the Manager's Ack is Done on its Barrier. Pollers hold the Barrier's
// read side while they update their dedup state and positions and hand a batch to the queue;
// Manager.Checkpoint quiesces (blocks hand-offs, waits for every batch in flight to be
// acknowledged) and calls the consumer's capture with every source's state (pass positions, hashes
// of unsettled slices) at that cut, so the consumer takes its own state at the same cut. Then
// every event whose hash is in the checkpoint is in the consumer state, and every event in the
// consumer state is either in the hashes or in a settled slice. A process restarted from the
// checkpoint re-reads from the positions and drops exactly what the consumer state already
// counts. The file (format, versions, atomic write, write statistics) belongs to
// internal/checkpoint; ingest only produces and takes back SourceStates (Restore).
//
// The guarantee to Prometheus: the app publishes only the aggregate snapshot it captured at the
// last checkpoint that was written successfully. A kill -9 between checkpoints loses the
// uncommitted work, which the restarted process reads again and counts once, so published
// counters never go back and never count an event twice; the price is that published counts
// trail by up to one checkpoint interval.
//
// # Sources, discovery, sharding, clients
//
// Sources are configured log groups (names or ARNs) or found by DescribeLogGroups prefix
// discovery, re-run every DiscoveryInterval: new groups start pollers (a group created while
// running is read from its creation time minus the final lag, so its first, already late events
// are not missed), vanished ones stop. A stream prefix restricts a source to some streams, and
// several prefixes split one large group into several sources. Shard{Index, Count} keeps the
// sources whose name hashes (FNV-1a 32) to Index modulo Count, so replicas split work without
// coordination. AWSClients builds clients with config.LoadDefaultConfig (environment, shared
// config, IRSA web identity, ECS task role), a Region per source, optional role_arn and external
// id through STS AssumeRole, and the endpoint from AWS_ENDPOINT_URL[_CLOUDWATCH_LOGS] or an
// explicit one.
package ingest
