// Package emulator is an in-memory Amazon CloudWatch Logs service for flowd's tests and its
// `flowd demo` command. It speaks the real wire protocol (AWS JSON 1.1: POST /,
// X-Amz-Target: Logs_20140328.<Operation>, application/x-amz-json-1.1), so aws-sdk-go-v2 and the
// AWS CLI talk to it unchanged: only the endpoint differs. It serves CreateLogGroup,
// CreateLogStream, PutLogEvents, DescribeLogGroups, DescribeLogStreams, FilterLogEvents,
// GetLogEvents, PutSubscriptionFilter, DescribeSubscriptionFilters and DeleteSubscriptionFilter,
// and offers in-process helpers (CreateLogGroup, CreateLogStream, PutLogEvents, GroundTruth,
// SetFault, Stats, Start, DeliverSubscriptions, RunSubscriptions).
//
// # What it reproduces, because flowd's correctness depends on it
//
//   - FilterLogEvents paging: pages of at most limit (1..10,000) events and 1 MB (message bytes +
//     26 per event, as AWS counts; a single larger event still gets a page of its own); results
//     ordered by event timestamp, then ingestion time, then put order, merged across streams;
//     nextToken present while more may exist and absent at the end; with
//     Config.ShortPageProbability, pages cut short or empty that still carry a token (the
//     client must keep paging: an empty page is not the end).
//   - Time: startTime is inclusive and endTime exclusive on the event timestamp (AWS documents
//     "later than endTime are excluded", but an event exactly at endTime is not returned in
//     practice, and GetLogEvents documents endTime as exclusive; the emulator is exclusive in
//     both). Timestamps may be far in the past: an event becomes readable VisibilityDelay after
//     its ingestion, whatever its timestamp, which is how late flow log records behave.
//   - Tokens are positions in that order, not offsets, and every token is distinct (a nonce),
//     bound to the request's parameters and valid for 24 hours of Clock time. When events with
//     older timestamps (or an older ingestion time at the same timestamp) are put between two
//     pages, they are not part of the running iteration, as in AWS: a reader that must see late
//     events re-reads the range later (flowd's passes do). Events examined but skipped because
//     they were not yet visible are behind the position too.
//   - eventId: a 56-digit decimal string unique per event, stable across reads.
//   - filterPattern: empty, terms (plain, "quoted", -excluded, ?any-of alone) and the
//     space-delimited form [a, b = X, c != Y, d > 5, ...] (see pattern.go for the exact
//     subset). An unsupported pattern is InvalidParameterException, never an empty result.
//   - PutLogEvents: events of a batch in timestamp order, at most 10,000 events and 1,048,576
//     bytes; events more than 14 days old, older than Retention, or more than 2 h in the future
//     are refused through rejectedLogEventsInfo (tooOldLogEventEndIndex and
//     expiredLogEventEndIndex exclusive, tooNewLogEventStartIndex inclusive, as the API
//     reference says) while the rest is stored; the 24-hour span applies to the events in that
//     accepted range only (so one stale event beside fresh ones is rejected alone); an event
//     without timestamp or message is a validation error ("Value null at
//     'logEvents.N.member.timestamp'"), never an event of 1970; sequence tokens are accepted and
//     ignored (AWS since 2023).
//   - DescribeLogGroups: logGroupNamePrefix, or logGroupNamePattern (a case-sensitive substring;
//     the two are mutually exclusive, InvalidParameterException), logGroupClass as a filter;
//     every group carries arn (ending ":*"), logGroupArn (without it), creationTime,
//     storedBytes, metricFilterCount and logGroupClass STANDARD, except that with a pattern only
//     arn, creationTime and logGroupName are returned, as AWS documents.
//   - Quotas: a token bucket per operation (FilterLogEvents 5/s, GetLogEvents 10/s, Describe*
//     25/s by default) answering ThrottlingException exactly as AWS does: HTTP 400,
//     X-Amzn-ErrorType: ThrottlingException, body {"__type":"ThrottlingException","message":"Rate
//     exceeded"}; the SDK's retryer classifies it as throttling.
//   - Errors in AWS's JSON shape (status, X-Amzn-ErrorType, __type, message):
//     ResourceNotFoundException, ResourceAlreadyExistsException, InvalidParameterException (also
//     for constraint violations, worded "1 validation error detected: ..."),
//     ServiceUnavailableException (500), SerializationException for malformed JSON,
//     MissingAuthenticationTokenException without an Authorization header.
//   - Subscription filters into Kinesis data streams (Config.SubscriptionSink, for example a
//     kinesisemu server, which this package does not import): at most two per log group
//     (LimitExceededException "Resource limit exceeded."), a filterName already there updates
//     the filter; the destination must be arn:aws:kinesis:REGION:ACCOUNT:stream/NAME of the
//     emulator's Region and account, with a roleArn. Creating a filter (or moving it to another
//     stream) puts one CONTROL_MESSAGE record ("CWL CONTROL MESSAGE: Checking health of
//     destination Kinesis stream.", owner CloudwatchLogs) into the stream; if that Put fails the
//     call is InvalidParameterException "Could not deliver test message to specified Kinesis
//     stream...", as AWS answers. Every event accepted by PutLogEvents (API or in-process) after
//     the filter exists and matching its filterPattern (the same patterns as FilterLogEvents) is
//     delivered once visible (ingestion time + VisibilityDelay) as DATA_MESSAGE records: gzip
//     JSON {owner, logGroup, logStream, subscriptionFilters: [name], messageType, logEvents:
//     [{id, timestamp, message}]} with FilterLogEvents' eventIds, one record per log stream per
//     delivery round (split at 10,000 events or 1 MiB of messages), events in put order.
//     Distribution ByLogStream (the default) uses the log stream name as partition key, so a
//     log stream stays on one shard; Random a random key per record. At least once: with
//     Config.SubscriptionDuplicateProbability a record is put twice, back to back. A Put that
//     fails is tried again in the next round, before the stream's later records: never dropped,
//     order per log stream kept. Stats.Subscriptions counts control messages, records, events,
//     duplicates and failed Puts.
//   - Delivery runs in rounds: DeliverSubscriptions (one round, for tests with a fake Clock) or
//     RunSubscriptions (every DeliveryInterval, 1 s by default, until its context ends; real
//     time, or virtual time in a testing/synctest bubble). A round takes what is due from the
//     queues under the lock and matches, encodes and puts outside it, so a slow destination
//     delays deliveries, not the API. Without either nothing is delivered and the queues grow.
//   - Faults scripted per operation (SetFault): HTTP 500 and 503 answers, slow answers, a
//     connection closed in the middle of a 200 answer, throttling, invalid or expired tokens.
//
// # Memory and speed
//
// Each stream keeps its events in one slice sorted by (timestamp, ingestion time, sequence),
// 40 bytes per event plus the message string; puts in time order append, older batches merge
// in place. Reads merge the selected streams with a heap and write the JSON answer directly
// into a pooled buffer. Retention expires events by timestamp (amortized over puts) and frees
// their memory, so a demo can run for days. A RWMutex lets reads run in parallel. See
// BenchmarkFilterLogEventsServe (the server alone) and BenchmarkFilterLogEventsSDK (through
// the SDK, whose decoding dominates).
//
// # Known differences from AWS
//
//   - One account and Region (Config.Region, Config.AccountID); a logGroupIdentifier ARN naming
//     another is ResourceNotFoundException. No cross-account observability, log group classes
//     other than STANDARD, KMS, tags, metric filters, Insights or Live Tail.
//   - Subscription filters: Kinesis data streams only (no Firehose, Lambda, cross-account
//     destinations, account-level policies, transformers, emitSystemFields or
//     fieldSelectionCriteria); the role is checked for its shape only; AWS's partition key is
//     undocumented (the emulator's is the log stream name, hashed beyond 256 bytes); AWS's
//     batching is by time and size, the emulator's by round; a pattern changed by an update
//     applies to events not yet delivered; deleting a filter drops what it has not delivered;
//     AWS's quotas on the three operations are not modelled (unlimited unless RateLimits says).
//     AWS retries a failing destination for up to 24 hours, the emulator for ever.
//   - Signatures are not verified (any Authorization header passes), and Content-Type is not
//     checked.
//   - Filter patterns: no JSON patterns, regular expressions, && or ||, only one ellipsis in the
//     space-delimited form; terms match as case-sensitive substrings (AWS tokenizes terms, so
//     "ERROR" might not match "ERRORS" there); without an ellipsis the message must have exactly
//     as many fields as the pattern.
//   - FilterLogEvents with startFromHead=false (newest first) is refused; logStreamNames naming
//     a stream that does not exist is ResourceNotFoundException; searchedLogStreams is always
//     empty (as AWS since 2020); a page scans as many non-matching events as needed (AWS may
//     instead return empty pages when it has scanned enough).
//   - Short pages are random (ShortPageProbability), not caused by partitions as in AWS.
//   - DescribeLogStreams' lastEventTimestamp and lastIngestionTime are exact at once (AWS
//     updates them lazily, up to an hour late); storedBytes of a stream is 0 (as AWS), of a
//     group the retained message bytes.
//   - Token and ingestion-time arithmetic are in milliseconds of Config.Clock; FaultSlow's delay
//     is real time.
//   - The in-process helpers skip rate limits and faults and are not counted in Stats.Ops.
//   - expiredLogEventEndIndex is read as exclusive like tooOldLogEventEndIndex (the API
//     reference says only "the expired log events").
//
// A client note: aws-sdk-go-v2 closes a request body as soon as the HTTP round trip returns,
// while net/http may still make a last read of that body; against a server as fast as this one
// the transport then closes the connection under the response ("use of closed network
// connection"). flowd's clients go through internal/awshttp, which hands the transport its own
// in-memory copy of the body; this package's tests do the same.
package emulator
