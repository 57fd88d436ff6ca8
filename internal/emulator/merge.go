package emulator

// cursor walks one stream's events from index i up to (not including) end.
type cursor struct {
	st  *stream
	i   int
	end int
}

func (c *cursor) head() *storedEvent { return &c.st.events[c.i] }

// merger yields the events of several streams in key order: a binary min-heap of cursors keyed by
// each cursor's head event. It is written out rather than built on container/heap so the per-event
// path makes no interface calls and no allocations.
type merger struct {
	h []cursor
}

// add registers a cursor if it is not already exhausted.
func (m *merger) add(c cursor) {
	if c.i >= c.end {
		return
	}
	m.h = append(m.h, c)
	m.up(len(m.h) - 1)
}

// peek returns the next event and its stream, or nil when all cursors are exhausted.
func (m *merger) peek() (*storedEvent, *stream) {
	if len(m.h) == 0 {
		return nil, nil
	}
	return m.h[0].head(), m.h[0].st
}

// next advances past the event peek returned.
func (m *merger) next() {
	top := &m.h[0]
	top.i++
	if top.i >= top.end {
		last := len(m.h) - 1
		m.h[0] = m.h[last]
		m.h = m.h[:last]
		if last == 0 {
			return
		}
	}
	m.down(0)
}

func (m *merger) less(a, b int) bool {
	return m.h[a].head().key.less(m.h[b].head().key)
}

func (m *merger) up(j int) {
	for j > 0 {
		p := (j - 1) / 2
		if !m.less(j, p) {
			return
		}
		m.h[p], m.h[j] = m.h[j], m.h[p]
		j = p
	}
}

func (m *merger) down(i int) {
	n := len(m.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		j := l
		if r := l + 1; r < n && m.less(r, l) {
			j = r
		}
		if !m.less(j, i) {
			return
		}
		m.h[i], m.h[j] = m.h[j], m.h[i]
		i = j
	}
}
