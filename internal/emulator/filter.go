package emulator

import (
	"math"
	"slices"
	"sync"
)

type filterLogEventsInput struct {
	LogGroupName        *string   `json:"logGroupName"`
	LogGroupIdentifier  *string   `json:"logGroupIdentifier"`
	LogStreamNames      *[]string `json:"logStreamNames"`
	LogStreamNamePrefix *string   `json:"logStreamNamePrefix"`
	StartTime           *int64    `json:"startTime"`
	EndTime             *int64    `json:"endTime"`
	FilterPattern       *string   `json:"filterPattern"`
	NextToken           *string   `json:"nextToken"`
	Limit               *int32    `json:"limit"`
	Interleaved         *bool     `json:"interleaved"` // deprecated; AWS ignores it, so do we
	StartFromHead       *bool     `json:"startFromHead"`
	Unmask              *bool     `json:"unmask"` // nothing is masked here
}

// filterQuery is a validated FilterLogEvents request.
type filterQuery struct {
	groupName   string
	streamNames []string // nil: all streams (or those with prefix)
	prefix      string
	start, end  int64 // [start, end) on the event timestamp
	pat         *pattern
	limit       int
	fingerprint uint64
}

func (s *Server) parseFilter(in *filterLogEventsInput) (*filterQuery, *APIError) {
	q := &filterQuery{end: math.MaxInt64}
	var err *APIError
	if q.groupName, err = s.groupRef(in.LogGroupName, in.LogGroupIdentifier); err != nil {
		return nil, err
	}
	if in.LogStreamNames != nil && in.LogStreamNamePrefix != nil {
		return nil, invalidParam("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
	}
	fp := newFingerprint().str(q.groupName)
	if in.LogStreamNames != nil {
		names := *in.LogStreamNames
		if len(names) < 1 || len(names) > 100 {
			return nil, validationError("logStreamNames", len(names), "Member must have length between 1 and 100")
		}
		for _, n := range names {
			if err := validStreamName("logStreamNames", n); err != nil {
				return nil, err
			}
			fp = fp.str(n)
		}
		q.streamNames = slices.Compact(slices.Sorted(slices.Values(names)))
	}
	if in.LogStreamNamePrefix != nil {
		if err := validStreamName("logStreamNamePrefix", *in.LogStreamNamePrefix); err != nil {
			return nil, err
		}
		q.prefix = *in.LogStreamNamePrefix
		fp = fp.str("p").str(q.prefix)
	}
	if in.StartTime != nil {
		if *in.StartTime < 0 {
			return nil, validationError("startTime", *in.StartTime, "Member must have value greater than or equal to 0")
		}
		q.start = *in.StartTime
	}
	if in.EndTime != nil {
		if *in.EndTime < 0 {
			return nil, validationError("endTime", *in.EndTime, "Member must have value greater than or equal to 0")
		}
		q.end = *in.EndTime
	}
	if q.end < q.start {
		return nil, invalidParam("endTime (%d) must not be before startTime (%d).", q.end, q.start)
	}
	fp = fp.i64(q.start).i64(q.end)
	pat := ""
	if in.FilterPattern != nil {
		pat = *in.FilterPattern
	}
	if q.pat, err = compilePattern(pat); err != nil {
		return nil, err
	}
	fp = fp.str(pat)
	if in.StartFromHead != nil && !*in.StartFromHead {
		return nil, invalidParam("startFromHead=false (newest first) is not supported by the emulator")
	}
	if q.limit, err = pageLimit(in.Limit, DefaultMaxPageEvents); err != nil {
		return nil, err
	}
	q.fingerprint = uint64(fp)
	return q, nil
}

// bufferFreeList recycles answer buffers (a full page is about 2 MB of JSON). It is a small
// mutex-guarded list rather than a sync.Pool, whose items vanish at every other GC and, under the
// race detector, at random: the reuse is then dependable and testable.
type bufferFreeList struct {
	mu   sync.Mutex
	free []*[]byte
}

const (
	maxFreeBuffers  = 8
	maxPooledBuffer = 8 << 20
)

func (l *bufferFreeList) get() *[]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.free); n > 0 {
		b := l.free[n-1]
		l.free = l.free[:n-1]
		return b
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

func (l *bufferFreeList) put(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.free) < maxFreeBuffers {
		l.free = append(l.free, b)
	}
}

func (s *Server) handleFilterLogEvents(c *call) ([]byte, *APIError) {
	var in filterLogEventsInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	q, err := s.parseFilter(&in)
	if err != nil {
		return nil, err
	}
	nowMs := c.now.UnixMilli()
	var tok filterToken
	if in.NextToken != nil {
		if err := c.checkTokenFault(true); err != nil {
			return nil, err
		}
		if tok, err = s.decodeFilterToken(*in.NextToken, q.fingerprint, nowMs); err != nil {
			return nil, err
		}
	}
	limit := min(q.limit, s.cfg.MaxPageEvents)
	short := s.cfg.ShortPageProbability > 0 && s.randFloat() < s.cfg.ShortPageProbability
	if short {
		// A quarter of the short pages are empty, the others hold 1..limit-1 events.
		if limit == 1 || s.randIntN(4) == 0 {
			limit = 0
		} else {
			limit = 1 + s.randIntN(limit-1)
		}
		s.stats.shortPages.Add(1)
	}
	bp := s.pageBuffers.get()
	buf, n, more, pos, hasPos, err := s.filterPage((*bp)[:0], q, tok, limit, nowMs)
	if err != nil {
		s.pageBuffers.put(bp)
		return nil, err
	}
	buf = append(buf, ']')
	if more || short {
		next := filterToken{hasPos: hasPos, pos: pos, query: q.fingerprint, issued: nowMs, nonce: s.randUint32()}
		buf = append(buf, `,"nextToken":"`...)
		buf = append(buf, s.encodeFilterToken(next)...)
		buf = append(buf, '"')
	}
	buf = append(buf, `,"searchedLogStreams":[]}`...)
	*bp = buf
	c.release = func() { s.pageBuffers.put(bp) }
	s.stats.pages.Add(1)
	if n == 0 {
		s.stats.emptyPages.Add(1)
	}
	s.stats.eventsReturned.Add(int64(n))
	return buf, nil
}

// filterPage appends `{"events":[` and up to limit matching, visible events after the token's
// position to buf. It returns the number of events, whether more may follow, and the position of
// the last event examined: the next page starts after it. Events examined but skipped (not yet
// visible, or not matching) are behind that position; an event put later with a key behind it is
// not part of this iteration either. That is the AWS behaviour a poller must live with: a paging
// pass sees the events that were visible when it passed their place in the order.
func (s *Server) filterPage(buf []byte, q *filterQuery, tok filterToken, limit int, nowMs int64) ([]byte, int, bool, key, bool, *APIError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[q.groupName]
	if g == nil {
		return buf, 0, false, key{}, false, groupNotFound()
	}
	var sts []*stream
	switch {
	case q.streamNames != nil:
		for _, name := range q.streamNames {
			st := g.streams[name]
			if st == nil {
				return buf, 0, false, key{}, false, streamNotFound()
			}
			sts = append(sts, st)
		}
	default:
		sts = g.streamsWithPrefix(q.prefix)
	}
	minTS := q.start
	if s.retainMs > 0 {
		minTS = max(minTS, nowMs-s.retainMs)
	}
	m := merger{h: make([]cursor, 0, len(sts))}
	for _, st := range sts {
		lo := st.firstAtOrAfter(minTS, tok.pos, tok.hasPos)
		hi := st.firstAtOrAfter(q.end, key{}, false)
		m.add(cursor{st: st, i: lo, end: hi})
	}

	buf = append(buf, `{"events":[`...)
	pos, hasPos := tok.pos, tok.hasPos
	n, bytes := 0, 0
	for {
		e, st := m.peek()
		if e == nil {
			return buf, n, false, pos, hasPos, nil
		}
		if n >= limit {
			return buf, n, true, pos, hasPos, nil
		}
		if e.ingest+s.delayMs <= nowMs && q.pat.match(e.msg) {
			size := len(e.msg) + eventOverhead
			if n > 0 && bytes+size > s.cfg.MaxPageBytes {
				return buf, n, true, pos, hasPos, nil
			}
			if n > 0 {
				buf = append(buf, ',')
			}
			bytes += size
			n++
			buf = s.appendFilteredEvent(buf, e, st)
		}
		pos, hasPos = e.key, true
		m.next()
	}
}

func (s *Server) appendFilteredEvent(buf []byte, e *storedEvent, st *stream) []byte {
	buf = append(buf, `{"eventId":"`...)
	buf = appendEventID(buf, e, s.secret)
	buf = append(buf, `","ingestionTime":`...)
	buf = appendInt(buf, e.ingest)
	buf = append(buf, `,"logStreamName":`...)
	buf = append(buf, st.nameJSON...)
	buf = append(buf, `,"message":`...)
	buf = appendJSONString(buf, e.msg)
	buf = append(buf, `,"timestamp":`...)
	buf = appendInt(buf, e.ts)
	return append(buf, '}')
}
