package emulator

import (
	"encoding/json"
	"slices"
	"strings"
)

// key orders events the way FilterLogEvents returns them: by timestamp, then ingestion time,
// then put order (seq is a server-wide counter, so keys are unique across streams too).
type key struct {
	ts     int64
	ingest int64
	seq    uint64
}

func (a key) less(b key) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	if a.ingest != b.ingest {
		return a.ingest < b.ingest
	}
	return a.seq < b.seq
}

// storedEvent is one event as held in memory: 40 bytes plus the message. The eventId is not
// stored; it is computed from seq and ts when an event is returned (see eventid.go).
type storedEvent struct {
	key
	msg string
}

// stream holds one log stream's events sorted by key. Puts almost always append (a stream is
// written in time order); an older batch is merged in place (see insert).
type stream struct {
	name     string
	nameJSON []byte // the name as a JSON string literal, escaped once for the read hot path
	arn      string
	created  int64
	events   []storedEvent
	// Event-time and ingestion bounds over all events ever put (AWS keeps them after expiry).
	firstTS, lastTS, lastIngest int64
	hasEvents                   bool
}

// group holds a log group's streams, with their names kept sorted for prefix searches and
// DescribeLogStreams paging.
type group struct {
	name        string
	arn         string // arn:...:log-group:NAME:* (the "arn" member AWS returns)
	created     int64
	streams     map[string]*stream
	streamNames []string
	storedBytes int64
	subs        []*subscriptionFilter // sorted by name, at most maxSubscriptionFilters
}

func newGroup(name, region, account string, created int64) *group {
	return &group{
		name:    name,
		arn:     groupARN(region, account, name) + ":*",
		created: created,
		streams: make(map[string]*stream),
	}
}

func groupARN(region, account, name string) string {
	return "arn:aws:logs:" + region + ":" + account + ":log-group:" + name
}

func (g *group) addStream(name, region, account string, created int64) *stream {
	quoted, _ := json.Marshal(name) // a string always marshals
	st := &stream{
		name:     name,
		nameJSON: quoted,
		arn:      groupARN(region, account, g.name) + ":log-stream:" + name,
		created:  created,
	}
	g.streams[name] = st
	i, _ := slices.BinarySearch(g.streamNames, name)
	g.streamNames = slices.Insert(g.streamNames, i, name)
	return st
}

// streamsWithPrefix returns the streams whose names start with prefix, in name order.
func (g *group) streamsWithPrefix(prefix string) []*stream {
	i, _ := slices.BinarySearch(g.streamNames, prefix)
	var out []*stream
	for ; i < len(g.streamNames) && strings.HasPrefix(g.streamNames[i], prefix); i++ {
		out = append(out, g.streams[g.streamNames[i]])
	}
	return out
}

// insert adds a batch sorted by key. The common case (a batch no older than the stream's newest
// event: streams are written in time order) is an append; otherwise the batch is merged from the
// back, moving only the stored events that sort after the batch's first.
func (st *stream) insert(batch []storedEvent) {
	if len(batch) == 0 {
		return
	}
	for _, e := range batch {
		if !st.hasEvents || e.ts < st.firstTS {
			st.firstTS = e.ts
		}
		if !st.hasEvents || e.ts > st.lastTS {
			st.lastTS = e.ts
		}
		st.hasEvents = true
	}
	st.lastIngest = batch[len(batch)-1].ingest
	n := len(st.events)
	if n == 0 || st.events[n-1].key.less(batch[0].key) {
		st.events = append(st.events, batch...)
		return
	}
	// Stored events that sort after batch[0] start at p; everything before p stays put.
	p, _ := slices.BinarySearchFunc(st.events, batch[0].key, func(e storedEvent, k key) int {
		if e.key.less(k) {
			return -1
		}
		return 1
	})
	st.events = slices.Grow(st.events, len(batch))[:n+len(batch)]
	i, j, w := n-1, len(batch)-1, n+len(batch)-1
	for j >= 0 {
		if i >= p && batch[j].key.less(st.events[i].key) {
			st.events[w] = st.events[i]
			i--
		} else {
			st.events[w] = batch[j]
			j--
		}
		w--
	}
}

// expire drops events with a timestamp before cutoff and returns how many and their message bytes.
// When most of the slice is dropped it is copied, so the old backing array can be freed.
func (st *stream) expire(cutoff int64) (n int, bytes int64) {
	cut, _ := slices.BinarySearchFunc(st.events, cutoff, func(e storedEvent, ts int64) int {
		if e.ts < ts {
			return -1
		}
		return 1
	})
	if cut == 0 {
		return 0, 0
	}
	for _, e := range st.events[:cut] {
		bytes += int64(len(e.msg))
	}
	rest := st.events[cut:]
	if len(rest) < cap(st.events)/2 {
		st.events = append(make([]storedEvent, 0, len(rest)+len(rest)/4), rest...)
	} else {
		clear(st.events[:cut]) // drop the message references
		st.events = rest
	}
	return cut, bytes
}

// firstAtOrAfter returns the index of the first event with timestamp >= ts and key > after
// (when hasAfter).
func (st *stream) firstAtOrAfter(ts int64, after key, hasAfter bool) int {
	i, _ := slices.BinarySearchFunc(st.events, 0, func(e storedEvent, _ int) int {
		if e.ts < ts || (hasAfter && !after.less(e.key)) {
			return -1
		}
		return 1
	})
	return i
}
