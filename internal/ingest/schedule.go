package ingest

// schedule holds one source's pass positions. All times are Unix milliseconds.
//
// Event time is cut into slices [a, a+width) aligned to multiples of width. Pass k reads a slice
// once the slice has ended lags[k] ago; the last pass is the final one. pos[k] is the start of the
// first slice pass k has not read yet, so the slices due for pass k at time now are exactly
// [pos[k], dueEnd(k, now)): one contiguous range per pass.
type schedule struct {
	width   int64
	lags    []int64 // ascending; lags[len-1] is the final pass
	maxSpan int64   // longest range read in one go, so positions advance during a backlog
	pos     []int64

	// Page filling: a due range is read once it is expected to hold fillEvents events, or once
	// its oldest slice has waited maxDefer past its due time, whichever comes first. Reading a
	// slice later than its lag never loses anything (lags are minimums), and few, full pages
	// instead of one partial page per slice and pass is most of the difference between a poller
	// costing 4x the minimum API calls and one costing close to 1x. 0 disables deferral.
	fillEvents int64
	maxDefer   int64
}

// estimator guesses how many events pass k will read over [start, end).
type estimator func(k int, start, end int64) int64

// passRange is one FilterLogEvents iteration: pass `pass` over event times [start, end).
type passRange struct {
	pass       int
	start, end int64
}

// newSchedule starts every pass at the slice containing start.
func newSchedule(width int64, lags []int64, maxSpan int64, start int64) schedule {
	s := schedule{width: width, lags: lags, maxSpan: maxSpan, pos: make([]int64, len(lags))}
	a := floorTo(start, width)
	for k := range s.pos {
		s.pos[k] = a
	}
	return s
}

// floorTo rounds t down to a multiple of w (also for negative t).
func floorTo(t, w int64) int64 {
	q := t / w
	if t%w != 0 && t < 0 {
		q--
	}
	return q * w
}

func (s *schedule) final() int { return len(s.lags) - 1 }

// dueEnd is the end of the last slice due for pass k at now.
func (s *schedule) dueEnd(k int, now int64) int64 { return floorTo(now-s.lags[k], s.width) }

// effectiveStart is where pass k should read from at now. An early pass skips slices that a later
// pass is already due to read: that later pass sees everything the early one would have, so in a
// backlog (start-up, restart, outage) each slice is read once, by the latest pass due for it.
func (s *schedule) effectiveStart(k int, now int64) int64 {
	p := s.pos[k]
	if k < s.final() {
		if d := s.dueEnd(k+1, now); d > p {
			p = d
		}
	}
	return p
}

// next returns the next range to read at now. Early passes go first (they carry the freshest
// data); the final pass follows. If nothing is due (or what is due waits to fill pages), ok is
// false and wake is the time at which to look again.
func (s *schedule) next(now int64, est estimator) (r passRange, ok bool, wake int64) {
	wake = int64(1<<63 - 1)
	for k := range s.lags {
		start := s.effectiveStart(k, now)
		end := s.dueEnd(k, now)
		if start < end {
			if s.maxSpan > 0 && end-start >= s.maxSpan {
				end = start + max(floorTo(s.maxSpan, s.width), s.width)
				return passRange{pass: k, start: start, end: end}, true, now
			}
			oldestDue := start + s.width + s.lags[k]
			if s.fillEvents <= 0 || now-oldestDue >= s.maxDefer || est == nil || est(k, start, end) >= s.fillEvents {
				return passRange{pass: k, start: start, end: end}, true, now
			}
			// Wait for the range to fill: look again when the next slice is due or the
			// deferral runs out.
			wake = min(wake, oldestDue+s.maxDefer, end+s.width+s.lags[k])
			continue
		}
		wake = min(wake, start+s.width+s.lags[k])
	}
	return passRange{}, false, wake
}

// commit records that pass r.pass has read [r.start, r.end) to the end.
func (s *schedule) commit(r passRange) {
	if r.end > s.pos[r.pass] {
		s.pos[r.pass] = r.end
	}
}

// settled is the event time before which every slice has had its final pass.
func (s *schedule) settled() int64 { return s.pos[s.final()] }

// firstRead is the event time before which every slice has been read by at least one pass.
func (s *schedule) firstRead() int64 {
	p := s.pos[0]
	for _, q := range s.pos[1:] {
		if q > p {
			p = q
		}
	}
	return p
}
