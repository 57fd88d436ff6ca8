package emulator

// Event is a stored event as the API would return it from FilterLogEvents.
type Event struct {
	EventID       string
	Timestamp     int64 // ms since the epoch
	IngestionTime int64 // ms since the epoch
	LogStreamName string
	Message       string
}

// GroundTruth returns every event put into a group and still retained, visible or not, in
// FilterLogEvents order (timestamp, ingestion time, put order). Events rejected by PutLogEvents
// were never stored and are absent; events dropped by Retention are gone too (Stats counts them).
// It returns nil for an unknown group.
func (s *Server) GroundTruth(groupName string) []Event {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[groupName]
	if g == nil {
		return nil
	}
	total := 0
	m := merger{}
	for _, name := range g.streamNames {
		st := g.streams[name]
		total += len(st.events)
		m.add(cursor{st: st, end: len(st.events)})
	}
	out := make([]Event, 0, total)
	var id []byte
	for {
		e, st := m.peek()
		if e == nil {
			return out
		}
		id = appendEventID(id[:0], e, s.secret)
		out = append(out, Event{
			EventID:       string(id),
			Timestamp:     e.ts,
			IngestionTime: e.ingest,
			LogStreamName: st.name,
			Message:       e.msg,
		})
		m.next()
	}
}

// EventCount returns how many events a group holds now (visible or not), without copying them.
func (s *Server) EventCount(groupName string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[groupName]
	if g == nil {
		return 0
	}
	n := 0
	for _, st := range g.streams {
		n += len(st.events)
	}
	return n
}
