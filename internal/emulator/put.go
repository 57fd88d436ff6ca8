package emulator

import (
	"strconv"
	"time"
)

// Limits of PutLogEvents, as AWS enforces them.
const (
	maxPutEvents   = 10000
	maxPutBytes    = 1048576 // message bytes + 26 per event
	maxBatchSpanMs = 24 * 60 * 60 * 1000
	tooNewMs       = 2 * 60 * 60 * 1000       // events more than 2 h in the future are rejected
	tooOldMs       = 14 * 24 * 60 * 60 * 1000 // events more than 14 days old are rejected
)

// InputEvent is one event to put: a timestamp in milliseconds since the epoch and a message.
type InputEvent struct {
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// RejectedInfo says which events of a batch were refused, as rejectedLogEventsInfo does. Because a
// batch is in time order the refused events are a prefix (too old or expired) and a suffix (too
// new). Indexes are nil when no event was refused for that reason. As the API reference says,
// tooOldLogEventEndIndex is exclusive (events [0, end) were too old) and
// tooNewLogEventStartIndex inclusive; expiredLogEventEndIndex, documented only as "the expired
// log events", is read as exclusive like tooOldLogEventEndIndex.
type RejectedInfo struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

func (r RejectedInfo) any() bool {
	return r.TooNewLogEventStartIndex != nil || r.TooOldLogEventEndIndex != nil || r.ExpiredLogEventEndIndex != nil
}

// PutLogEvents stores a batch in a stream through the same checks as the API operation, with
// ingestion time = Clock(). Batch-level problems return an *APIError and store nothing; if
// some events are refused (too old, expired, too new) the others are stored and a
// *RejectedEventsError says which were not.
func (s *Server) PutLogEvents(groupName, streamName string, events []InputEvent) error {
	rej, n, err := s.put(&groupName, nil, streamName, events, s.now())
	if err != nil {
		return err
	}
	if rej.any() {
		return &RejectedEventsError{Group: groupName, Stream: streamName, Rejected: rej, Accepted: n}
	}
	return nil
}

// validateBatch applies AWS's batch rules and returns the accepted index range [lo, hi).
func (s *Server) validateBatch(events []InputEvent, nowMs int64) (lo, hi int, rej RejectedInfo, err *APIError) {
	if len(events) == 0 {
		return 0, 0, rej, validationError("logEvents", "[]", "Member must have length greater than or equal to 1")
	}
	if len(events) > maxPutEvents {
		return 0, 0, rej, validationError("logEvents", strconv.Itoa(len(events))+" events", "Member must have length less than or equal to 10000")
	}
	size := 0
	for i := range events {
		e := &events[i]
		if e.Timestamp < 0 {
			return 0, 0, rej, validationError("logEvents."+strconv.Itoa(i+1)+".member.timestamp", e.Timestamp, "Member must have value greater than or equal to 0")
		}
		if len(e.Message) == 0 {
			return 0, 0, rej, validationError("logEvents."+strconv.Itoa(i+1)+".member.message", "", "Member must have length greater than or equal to 1")
		}
		if i > 0 && e.Timestamp < events[i-1].Timestamp {
			return 0, 0, rej, invalidParam("Log events in a single PutLogEvents request must be in chronological order.")
		}
		size += len(e.Message) + eventOverhead
	}
	if size > maxPutBytes {
		return 0, 0, rej, invalidParam("Upload too large: %d bytes exceeds limit of %d", size, maxPutBytes)
	}
	lo, hi = 0, len(events)
	for lo < hi && events[lo].Timestamp < nowMs-tooOldMs {
		lo++
	}
	if lo > 0 {
		n := lo
		rej.TooOldLogEventEndIndex = &n
	}
	for hi > lo && events[hi-1].Timestamp > nowMs+tooNewMs {
		hi--
	}
	if hi < len(events) {
		n := hi
		rej.TooNewLogEventStartIndex = &n
	}
	// The 24-hour span applies to the events within the accepted time range only (AWS: "for
	// valid events (within 14 days in the past to 2 hours in future), the time span in a single
	// batch cannot exceed 24 hours"), so one event of last month beside a fresh one is rejected
	// alone, not the whole batch.
	if hi > lo && events[hi-1].Timestamp-events[lo].Timestamp > maxBatchSpanMs {
		return 0, 0, RejectedInfo{}, invalidParam("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	if s.retainMs > 0 {
		exp := lo
		for exp < hi && events[exp].Timestamp < nowMs-s.retainMs {
			exp++
		}
		if exp > lo {
			rej.ExpiredLogEventEndIndex = &exp
			lo = exp
		}
	}
	return lo, hi, rej, nil
}

// put is PutLogEvents for both the API and the in-process helper.
func (s *Server) put(groupName, groupIdent *string, streamName string, events []InputEvent, now time.Time) (RejectedInfo, int, *APIError) {
	nowMs := now.UnixMilli()
	if err := validStreamName("logStreamName", streamName); err != nil {
		return RejectedInfo{}, 0, err
	}
	lo, hi, rej, apiErr := s.validateBatch(events, nowMs)
	if apiErr != nil {
		return rej, 0, apiErr
	}
	// Build the batch before taking the write lock; sequence numbers are filled in under it.
	batch := make([]storedEvent, hi-lo)
	var bytes int64
	for i, e := range events[lo:hi] {
		batch[i] = storedEvent{key: key{ts: e.Timestamp, ingest: nowMs}, msg: e.Message}
		bytes += int64(len(e.Message))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	g, apiErr := s.lookupGroup(groupName, groupIdent)
	if apiErr != nil {
		return rej, 0, apiErr
	}
	st := g.streams[streamName]
	if st == nil {
		return rej, 0, streamNotFound()
	}
	for i := range batch {
		s.seq++
		batch[i].seq = s.seq
	}
	st.insert(batch)
	if len(batch) > 0 {
		// batch stays as it is (insert copied it), so the queues may share it.
		for _, sub := range g.subs {
			sub.enqueue(streamName, nowMs+s.delayMs, batch)
		}
	}
	g.storedBytes += bytes
	s.stats.put.Add(int64(len(batch)))
	s.stats.stored.Add(int64(len(batch)))
	s.stats.rejected.Add(int64(len(events) - len(batch)))
	s.expireLocked(nowMs)
	return rej, len(batch), nil
}

// expireLocked drops events older than the retention period. It sweeps at most every
// Retention/100 (at least every second of clock time), so its cost is spread thin over puts; reads
// hide expired-but-not-yet-swept events themselves.
func (s *Server) expireLocked(nowMs int64) {
	if s.retainMs <= 0 || nowMs < s.nextExpiry {
		return
	}
	s.nextExpiry = nowMs + max(s.retainMs/100, 1000)
	cutoff := nowMs - s.retainMs
	for _, g := range s.groups {
		for _, st := range g.streams {
			n, b := st.expire(cutoff)
			if n > 0 {
				g.storedBytes -= b
				s.stats.expired.Add(int64(n))
				s.stats.stored.Add(-int64(n))
			}
		}
	}
}

type putLogEventsInput struct {
	LogGroupName       *string         `json:"logGroupName"`
	LogGroupIdentifier *string         `json:"logGroupIdentifier"`
	LogStreamName      *string         `json:"logStreamName"`
	LogEvents          []inputLogEvent `json:"logEvents"`
	SequenceToken      *string         `json:"sequenceToken"` // accepted and ignored, as AWS does since 2023
}

// inputLogEvent is InputLogEvent on the wire, where both members are required: a missing one is
// a validation error, not a zero (a missing timestamp must not become an event of 1970).
type inputLogEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

// inputEvents checks the required members of every event and converts them.
func inputEvents(in []inputLogEvent) ([]InputEvent, *APIError) {
	out := make([]InputEvent, len(in))
	for i, e := range in {
		member := "logEvents." + strconv.Itoa(i+1) + ".member."
		if e.Timestamp == nil {
			return nil, validationError(member+"timestamp", nil, "Member must not be null")
		}
		if e.Message == nil {
			return nil, validationError(member+"message", nil, "Member must not be null")
		}
		out[i] = InputEvent{Timestamp: *e.Timestamp, Message: *e.Message}
	}
	return out, nil
}

type putLogEventsOutput struct {
	NextSequenceToken     string        `json:"nextSequenceToken"`
	RejectedLogEventsInfo *RejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
}

func (s *Server) handlePutLogEvents(c *call) ([]byte, *APIError) {
	var in putLogEventsInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if in.LogStreamName == nil {
		return nil, validationError("logStreamName", nil, "Member must not be null")
	}
	if in.LogEvents == nil {
		return nil, validationError("logEvents", nil, "Member must not be null")
	}
	events, err := inputEvents(in.LogEvents)
	if err != nil {
		return nil, err
	}
	rej, _, err := s.put(in.LogGroupName, in.LogGroupIdentifier, *in.LogStreamName, events, c.now)
	if err != nil {
		return nil, err
	}
	out := putLogEventsOutput{NextSequenceToken: strconv.FormatUint(s.lastSeq(), 10)}
	if rej.any() {
		out.RejectedLogEventsInfo = &rej
	}
	return marshal(out)
}

func (s *Server) lastSeq() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seq
}
