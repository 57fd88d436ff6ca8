package emulator

import (
	"math"
	"slices"
)

type getLogEventsInput struct {
	LogGroupName       *string `json:"logGroupName"`
	LogGroupIdentifier *string `json:"logGroupIdentifier"`
	LogStreamName      *string `json:"logStreamName"`
	StartTime          *int64  `json:"startTime"`
	EndTime            *int64  `json:"endTime"`
	NextToken          *string `json:"nextToken"`
	Limit              *int32  `json:"limit"`
	StartFromHead      *bool   `json:"startFromHead"`
	Unmask             *bool   `json:"unmask"`
}

var (
	minKey = key{ts: math.MinInt64, ingest: math.MinInt64}
	maxKey = key{ts: math.MaxInt64, ingest: math.MaxInt64, seq: math.MaxUint64}
)

// handleGetLogEvents reads one stream. Without a token it starts at the head (startFromHead) or
// the tail (the default: the newest events, still listed oldest first). A forward token "f/K"
// continues with events after K, a backward token "b/K" with those before K. When nothing is left
// in a direction, the token given comes back unchanged, which is how clients detect the end.
func (s *Server) handleGetLogEvents(c *call) ([]byte, *APIError) {
	var in getLogEventsInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	groupName, err := s.groupRef(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if in.LogStreamName == nil {
		return nil, validationError("logStreamName", nil, "Member must not be null")
	}
	if err := validStreamName("logStreamName", *in.LogStreamName); err != nil {
		return nil, err
	}
	start, end := int64(0), int64(math.MaxInt64)
	if in.StartTime != nil {
		start = max(*in.StartTime, 0)
	}
	if in.EndTime != nil {
		end = *in.EndTime
	}
	limit, err := pageLimit(in.Limit, DefaultMaxPageEvents)
	if err != nil {
		return nil, err
	}
	limit = min(limit, s.cfg.MaxPageEvents)
	nowMs := c.now.UnixMilli()
	streamFP := uint64(newFingerprint().str(groupName).str(*in.LogStreamName))
	tok := streamToken{forward: in.StartFromHead != nil && *in.StartFromHead, pos: maxKey, stream: streamFP}
	if tok.forward {
		tok.pos = minKey
	}
	if in.NextToken != nil {
		if err := c.checkTokenFault(true); err != nil {
			return nil, err
		}
		if tok, err = s.decodeStreamToken(*in.NextToken, streamFP, nowMs); err != nil {
			return nil, err
		}
	}
	if s.retainMs > 0 {
		start = max(start, nowMs-s.retainMs)
	}

	s.mu.RLock()
	g := s.groups[groupName]
	if g == nil {
		s.mu.RUnlock()
		return nil, groupNotFound()
	}
	st := g.streams[*in.LogStreamName]
	if st == nil {
		s.mu.RUnlock()
		return nil, streamNotFound()
	}
	lo := st.firstAtOrAfter(start, key{}, false)
	hi := max(lo, st.firstAtOrAfter(end, key{}, false))
	var picked []storedEvent
	bytes := 0
	take := func(e *storedEvent) bool {
		if e.ingest+s.delayMs > nowMs {
			return true // not visible yet: skip, keep going
		}
		size := len(e.msg) + eventOverhead
		if len(picked) == limit || (len(picked) > 0 && bytes+size > s.cfg.MaxPageBytes) {
			return false
		}
		bytes += size
		picked = append(picked, *e)
		return true
	}
	if tok.forward {
		i := max(lo, st.firstAtOrAfter(math.MinInt64, tok.pos, true))
		for ; i < hi && take(&st.events[i]); i++ {
		}
	} else {
		j := min(hi, st.firstAtOrAfter(math.MinInt64, key{tok.pos.ts, tok.pos.ingest, tok.pos.seq - 1}, tok.pos.seq > 0))
		if tok.pos.seq == 0 {
			j = min(hi, st.firstAtOrAfter(math.MinInt64, tok.pos, false))
		}
		for j--; j >= lo && take(&st.events[j]); j-- {
		}
		slices.Reverse(picked)
	}
	s.mu.RUnlock()

	fwd, bwd := tok, tok
	fwd.forward, bwd.forward = true, false
	fwd.issued, bwd.issued = nowMs, nowMs
	if len(picked) > 0 {
		fwd.pos = picked[len(picked)-1].key
		bwd.pos = picked[0].key
	} else if tok.forward {
		bwd.pos = key{tok.pos.ts, tok.pos.ingest, tok.pos.seq + 1} // before-or-at the position
	} else if tok.pos.seq > 0 {
		fwd.pos = key{tok.pos.ts, tok.pos.ingest, tok.pos.seq - 1} // at-or-after the position
	}
	buf := make([]byte, 0, 64+bytes+len(picked)*48)
	buf = append(buf, `{"events":[`...)
	for i := range picked {
		if i > 0 {
			buf = append(buf, ',')
		}
		e := &picked[i]
		buf = append(buf, `{"ingestionTime":`...)
		buf = appendInt(buf, e.ingest)
		buf = append(buf, `,"message":`...)
		buf = appendJSONString(buf, e.msg)
		buf = append(buf, `,"timestamp":`...)
		buf = appendInt(buf, e.ts)
		buf = append(buf, '}')
	}
	nextF, nextB := s.encodeStreamToken(fwd), s.encodeStreamToken(bwd)
	if len(picked) == 0 && in.NextToken != nil {
		// Nothing more in the token's direction: hand the same token back.
		if tok.forward {
			nextF = *in.NextToken
		} else {
			nextB = *in.NextToken
		}
	}
	buf = append(buf, `],"nextBackwardToken":`...)
	buf = appendJSONString(buf, nextB)
	buf = append(buf, `,"nextForwardToken":`...)
	buf = appendJSONString(buf, nextF)
	buf = append(buf, '}')
	s.stats.eventsReturned.Add(int64(len(picked)))
	return buf, nil
}
