package emulator

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"hash/fnv"
	"slices"
	"strconv"
	"time"
)

// Delivery of subscription filters, as CloudWatch Logs does it into a Kinesis data stream:
// every event put into a log group after a filter was created, matching the filter's pattern,
// is delivered once it becomes visible (ingestion time + VisibilityDelay), in records of one
// log stream each: gzip-compressed JSON documents
//
//	{"owner":ACCOUNT,"logGroup":G,"logStream":S,"subscriptionFilters":[NAME],
//	 "messageType":"DATA_MESSAGE","logEvents":[{"id":EVENTID,"timestamp":TS,"message":M},...]}
//
// with the same ids FilterLogEvents gives. A round (DeliverSubscriptions) takes what is due
// from each (filter, log stream) queue under the lock (no matching, encoding or I/O there),
// then encodes and puts outside it. A record whose Put fails stays at the head of its queue
// and is tried again in the next round, so one log stream's records reach the stream in order
// and none is dropped. Rounds run one at a time (deliverMu), which is what keeps that order.

const (
	// maxRecordBytes is a Kinesis record's limit on data plus partition key.
	maxRecordBytes = 1 << 20
	// maxPartitionKey is Kinesis' limit on a partition key's length.
	maxPartitionKey = 256
	// controlMessage is the text of the test record AWS sends when a filter is created.
	controlMessage = "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."
)

// deliveryQueue holds one log stream's events for one filter.
type deliveryQueue struct {
	logStream string
	pk        string         // the partition key of ByLogStream
	pending   []pendingBatch // put, not yet taken by a round (Server.mu)
	outbox    []outRecord    // encoded, not yet put completely (deliverMu)
}

// pendingBatch is the accepted events of one put (in put order), visible from visibleAt (ms).
type pendingBatch struct {
	visibleAt int64
	events    []storedEvent
}

// outRecord is one Kinesis record waiting for its Puts: copies is 2 for a duplicated record,
// done counts the Puts that succeeded.
type outRecord struct {
	stream, pk   string
	data         []byte
	events       int
	copies, done int
}

// enqueue adds a put's accepted events to the filter's queue of the log stream (under Server.mu).
func (sub *subscriptionFilter) enqueue(logStream string, visibleAt int64, events []storedEvent) {
	q := sub.queues[logStream]
	if q == nil {
		q = &deliveryQueue{logStream: logStream, pk: partitionKey(logStream)}
		sub.queues[logStream] = q
		sub.queueNames = insertSorted(sub.queueNames, logStream)
	}
	q.pending = append(q.pending, pendingBatch{visibleAt: visibleAt, events: events})
}

func insertSorted(names []string, name string) []string {
	i, _ := slices.BinarySearch(names, name)
	return slices.Insert(names, i, name)
}

// partitionKey returns s if it fits a Kinesis partition key, else a hash of it (log stream and
// group names may be 512 bytes long), so the records of one log stream still share one key.
func partitionKey(s string) string {
	if len(s) <= maxPartitionKey {
		return s
	}
	h := fnv.New128a()
	_, _ = h.Write([]byte(s)) // hash writes never fail
	return hex.EncodeToString(h.Sum(nil))
}

// dueWork is what a round took from one queue, with the filter's settings at that moment.
type dueWork struct {
	q       *deliveryQueue
	group   string
	filter  string
	stream  string
	random  bool
	pat     *pattern
	batches []pendingBatch
}

// takeDue removes what is visible at nowMs from every queue and lists every queue of every
// filter (in group, filter and log stream order), due work or not, since a queue may still
// have records to retry.
func (s *Server) takeDue(nowMs int64) []dueWork {
	s.mu.Lock()
	defer s.mu.Unlock()
	var work []dueWork
	for _, name := range s.groupNames {
		g := s.groups[name]
		for _, sub := range g.subs {
			for _, ls := range sub.queueNames {
				q := sub.queues[ls]
				n := 0
				for n < len(q.pending) && q.pending[n].visibleAt <= nowMs {
					n++ // a batch behind one not yet visible waits: put order is kept
				}
				w := dueWork{q: q, group: g.name, filter: sub.name, stream: sub.stream, random: sub.random, pat: sub.pat}
				if n > 0 {
					w.batches = append([]pendingBatch(nil), q.pending[:n]...)
					clear(q.pending[:n])
					q.pending = q.pending[n:]
				}
				work = append(work, w)
			}
		}
	}
	return work
}

// DeliverSubscriptions runs one delivery round: every event of a subscribed log group that is
// visible by now is encoded into records and put into its destination, and records that failed
// before are tried again first. It returns when the round is done or ctx ends (what is left is
// kept for the next round). Rounds do not overlap. Tests with a fake Clock call it directly;
// RunSubscriptions calls it every DeliveryInterval.
func (s *Server) DeliverSubscriptions(ctx context.Context) {
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	work := s.takeDue(s.now().UnixMilli())
	// Encode everything taken before any Put, so that a round cut short by ctx loses nothing.
	for i := range work {
		s.encodeDue(&work[i])
	}
	for i := range work {
		if ctx.Err() != nil {
			return
		}
		s.flush(work[i].q)
	}
}

// RunSubscriptions delivers every DeliveryInterval (real time, or virtual time inside a
// testing/synctest bubble) until ctx ends. Without it (or DeliverSubscriptions calls)
// subscription filters deliver nothing and their queues grow.
func (s *Server) RunSubscriptions(ctx context.Context) {
	t := time.NewTicker(s.cfg.DeliveryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.DeliverSubscriptions(ctx)
		}
	}
}

// encodeDue matches the taken events against the filter and appends their records to the
// queue's outbox: at most 10,000 events and 1 MiB of messages (+26 bytes each, PutLogEvents'
// own limits) per record, and smaller if the compressed record would not fit Kinesis' 1 MiB.
func (s *Server) encodeDue(w *dueWork) {
	var events []*storedEvent
	for _, b := range w.batches {
		for i := range b.events {
			if w.pat.match(b.events[i].msg) {
				events = append(events, &b.events[i])
			}
		}
	}
	for len(events) > 0 {
		n, size := 0, 0
		for n < len(events) && n < maxPutEvents && (n == 0 || size+len(events[n].msg)+eventOverhead <= maxPutBytes) {
			size += len(events[n].msg) + eventOverhead
			n++
		}
		s.appendRecords(w, events[:n])
		events = events[n:]
	}
}

// appendRecords encodes events as one record, halving the list until a record fits.
func (s *Server) appendRecords(w *dueWork, events []*storedEvent) {
	pk := w.q.pk
	if w.random {
		pk = strconv.FormatUint(s.deliverRng.Uint64(), 16)
	}
	data := s.encodeRecord(w, events)
	if len(data)+len(pk) > maxRecordBytes && len(events) > 1 {
		half := len(events) / 2
		s.appendRecords(w, events[:half])
		s.appendRecords(w, events[half:])
		return
	}
	copies := 1
	if p := s.cfg.SubscriptionDuplicateProbability; p > 0 && s.deliverRng.Float64() < p {
		copies = 2
	}
	w.q.outbox = append(w.q.outbox, outRecord{stream: w.stream, pk: pk, data: data, events: len(events), copies: copies})
}

// encodeRecord builds one DATA_MESSAGE, members in the order of AWS's example.
func (s *Server) encodeRecord(w *dueWork, events []*storedEvent) []byte {
	buf := s.jsonBuf[:0]
	buf = append(buf, `{"owner":"`...)
	buf = append(buf, s.cfg.AccountID...)
	buf = append(buf, `","logGroup":`...)
	buf = appendJSONString(buf, w.group)
	buf = append(buf, `,"logStream":`...)
	buf = appendJSONString(buf, w.q.logStream)
	buf = append(buf, `,"subscriptionFilters":[`...)
	buf = appendJSONString(buf, w.filter)
	buf = append(buf, `],"messageType":"DATA_MESSAGE","logEvents":[`...)
	for i, e := range events {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"id":"`...)
		buf = appendEventID(buf, e, s.secret)
		buf = append(buf, `","timestamp":`...)
		buf = appendInt(buf, e.ts)
		buf = append(buf, `,"message":`...)
		buf = appendJSONString(buf, e.msg)
		buf = append(buf, '}')
	}
	buf = append(buf, "]}"...)
	s.jsonBuf = buf
	return s.gzip(buf)
}

// gzip compresses js into a new slice (the sink may keep it), with the writer of the rounds
// (under deliverMu).
func (s *Server) gzip(js []byte) []byte {
	var out bytes.Buffer
	if s.zw == nil {
		s.zw = gzip.NewWriter(&out)
	} else {
		s.zw.Reset(&out)
	}
	_, _ = s.zw.Write(js) // writes into a bytes.Buffer do not fail
	_ = s.zw.Close()
	return out.Bytes()
}

// flush puts the queue's outbox in order and stops at the first failure: the record is tried
// again in the next round, and the stream's later records wait behind it.
func (s *Server) flush(q *deliveryQueue) {
	for len(q.outbox) > 0 {
		r := &q.outbox[0]
		if _, _, err := s.cfg.SubscriptionSink.Put(r.stream, r.pk, r.data); err != nil {
			s.stats.subRetries.Add(1)
			return
		}
		if r.done == 0 {
			s.stats.subRecords.Add(1)
			s.stats.subEvents.Add(int64(r.events))
		} else {
			s.stats.subDuplicates.Add(1)
		}
		r.done++
		if r.done == r.copies {
			q.outbox[0] = outRecord{}
			q.outbox = q.outbox[1:]
		}
	}
}

// putControlMessage sends the CONTROL_MESSAGE AWS sends to check a new destination; a failure
// is AWS's InvalidParameterException.
func (s *Server) putControlMessage(stream, group string, nowMs int64) *APIError {
	if s.cfg.SubscriptionSink == nil {
		return errTestMessage()
	}
	buf := []byte(`{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":`)
	buf = appendInt(buf, nowMs)
	buf = append(buf, `,"message":"`+controlMessage+`"}]}`...)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out) // not s.zw: a delivery round may be using it
	_, _ = zw.Write(buf)
	_ = zw.Close()
	if _, _, err := s.cfg.SubscriptionSink.Put(stream, partitionKey(group), out.Bytes()); err != nil {
		return errTestMessage()
	}
	s.stats.subControl.Add(1)
	return nil
}
