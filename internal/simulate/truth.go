package simulate

import "github.com/flowd-dev/flowd/internal/parse"

// Counts are the flows (records), packets and bytes of a group of records.
type Counts struct {
	Flows, Packets, Bytes uint64
}

func (c *Counts) add(o Counts) {
	c.Flows += o.Flows
	c.Packets += o.Packets
	c.Bytes += o.Bytes
}

func (c *Counts) sub(o Counts) {
	c.Flows -= o.Flows
	c.Packets -= o.Packets
	c.Bytes -= o.Bytes
}

// InterfaceKey groups records by action and interface-id.
type InterfaceKey struct {
	Action    parse.Action
	Interface string
}

// PortKey groups records by protocol, ports and action.
type PortKey struct {
	Protocol         uint8
	SrcPort, DstPort uint16
	Action           parse.Action
}

// MinuteKey groups records by the minute of their event time (the event timestamp, which is
// the record's start) and action.
type MinuteKey struct {
	Minute int64 // Unix seconds, a multiple of 60
	Action parse.Action
}

// Truth is the ground truth of a set of records: what an exact reader of the messages must
// count. Every map is keyed by the values as Format.Parse reads them back from the message, so
// a field absent from the format counts as its zero value (an empty interface, port 0,
// ActionNone), and NODATA and SKIPDATA records count with ActionNone and no packets or bytes.
type Truth struct {
	// Events is the number of log events (one record each).
	Events uint64
	// Records counts records by log-status (LogStatusNone if the format has no log-status).
	Records map[parse.LogStatus]uint64
	// ByAction counts every record by action.
	ByAction map[parse.Action]Counts
	// ByInterface counts every record by (action, interface-id).
	ByInterface map[InterfaceKey]Counts
	// ByPort counts every record by (protocol, srcport, dstport, action); nil unless
	// Config.TruthByPort.
	ByPort map[PortKey]Counts
	// ByMinute counts every record by (event minute, action).
	ByMinute map[MinuteKey]Counts
	// ByStream counts events by log stream.
	ByStream map[string]uint64
	// RejectedReplies counts the replies a network ACL rejected (acl-block scenario) by
	// (interface-id, protocol, service port = the reply's source port); nil when there are none.
	// It is what the generator knows, not what the message says (a message does not say it is a
	// reply): the check of an aggregator against it is the point.
	RejectedReplies map[ReplyKey]Counts
}

// ReplyKey groups rejected replies by interface and service.
type ReplyKey struct {
	Interface string
	Protocol  uint8
	Port      uint16
}

// Total sums ByAction over ACCEPT and REJECT: the flow records proper.
func (t *Truth) Total() Counts {
	c := t.ByAction[parse.ActionAccept]
	c.add(t.ByAction[parse.ActionReject])
	return c
}

// summary is what the truth needs of one rendered record, masked by the format.
type summary struct {
	start            int64
	packets, bytes   uint64
	srcPort, dstPort uint16
	proto            uint8
	action           parse.Action
	status           parse.LogStatus
	blockedReply     bool
}

// tally accumulates a Truth cheaply: arrays where the key is small, per-interface slices
// instead of string-keyed maps, maps only for ports and minutes.
type tally struct {
	events      uint64
	status      [4]uint64
	action      [3]Counts
	iface       [][3]Counts // by interface index, then action
	ifaceEvents []uint64
	port        map[PortKey]Counts // nil when not kept
	minute      map[MinuteKey]Counts
	replies     map[replyKey]Counts
}

// replyKey is a ReplyKey with the interface index.
type replyKey struct {
	iface int
	proto uint8
	port  uint16
}

func newTally(interfaces int, byPort bool) *tally {
	t := &tally{
		iface:       make([][3]Counts, interfaces),
		ifaceEvents: make([]uint64, interfaces),
		minute:      make(map[MinuteKey]Counts),
		replies:     make(map[replyKey]Counts),
	}
	if byPort {
		t.port = make(map[PortKey]Counts)
	}
	return t
}

// add counts the records of interface i, or uncounts them when neg (a delivery leaving the
// pending set). Records arrive sorted by start, so the minute counts are summed over runs of
// equal keys before touching the map: a few map operations per batch, not one per record.
func (t *tally) add(i int, sums []summary, neg bool) {
	n := uint64(len(sums))
	if neg {
		t.events -= n
		t.ifaceEvents[i] -= n
	} else {
		t.events += n
		t.ifaceEvents[i] += n
	}
	var run Counts
	var runKey MinuteKey
	flush := func() {
		if run.Flows == 0 {
			return
		}
		if neg {
			subKey(t.minute, runKey, run)
		} else {
			addKey(t.minute, runKey, run)
		}
		run = Counts{}
	}
	for k := range sums {
		s := &sums[k]
		c := Counts{Flows: 1, Packets: s.packets, Bytes: s.bytes}
		if mk := (MinuteKey{Minute: floorDiv(s.start, 60) * 60, Action: s.action}); mk != runKey {
			flush()
			runKey = mk
		}
		run.add(c)
		if neg {
			t.status[s.status]--
			t.action[s.action].sub(c)
			t.iface[i][s.action].sub(c)
			if t.port != nil {
				subKey(t.port, PortKey{s.proto, s.srcPort, s.dstPort, s.action}, c)
			}
			if s.blockedReply {
				subKey(t.replies, replyKey{i, s.proto, s.srcPort}, c)
			}
			continue
		}
		t.status[s.status]++
		t.action[s.action].add(c)
		t.iface[i][s.action].add(c)
		if t.port != nil {
			addKey(t.port, PortKey{s.proto, s.srcPort, s.dstPort, s.action}, c)
		}
		if s.blockedReply {
			addKey(t.replies, replyKey{i, s.proto, s.srcPort}, c)
		}
	}
	flush()
}

func addKey[K comparable](m map[K]Counts, k K, c Counts) {
	v := m[k]
	v.add(c)
	m[k] = v
}

// subKey subtracts c and deletes the key at zero, so pending maps shrink as batches leave.
func subKey[K comparable](m map[K]Counts, k K, c Counts) {
	v := m[k]
	v.sub(c)
	if v.Flows == 0 {
		delete(m, k)
		return
	}
	m[k] = v
}

// truth converts the tally into a Truth; withIface says whether the format carries
// interface-id (otherwise every record counts under the empty interface).
func (t *tally) truth(v *vpc, withIface bool) *Truth {
	out := &Truth{
		Events:      t.events,
		Records:     make(map[parse.LogStatus]uint64),
		ByAction:    make(map[parse.Action]Counts),
		ByInterface: make(map[InterfaceKey]Counts),
		ByMinute:    make(map[MinuteKey]Counts, len(t.minute)),
		ByStream:    make(map[string]uint64),
	}
	if len(t.replies) > 0 {
		out.RejectedReplies = make(map[ReplyKey]Counts, len(t.replies))
	}
	for k, c := range t.replies {
		id := ""
		if withIface {
			id = v.ifaces[k.iface].eni
		}
		addKey(out.RejectedReplies, ReplyKey{Interface: id, Protocol: k.proto, Port: k.port}, c)
	}
	for s, n := range t.status {
		if n != 0 {
			out.Records[parse.LogStatus(s)] = n
		}
	}
	for a, c := range t.action {
		if c.Flows != 0 {
			out.ByAction[parse.Action(a)] = c
		}
	}
	for i := range t.iface {
		if t.ifaceEvents[i] != 0 {
			out.ByStream[v.ifaces[i].stream] = t.ifaceEvents[i]
		}
		id := ""
		if withIface {
			id = v.ifaces[i].eni
		}
		for a, c := range t.iface[i] {
			if c.Flows != 0 {
				addKey(out.ByInterface, InterfaceKey{Action: parse.Action(a), Interface: id}, c)
			}
		}
	}
	for k, c := range t.minute {
		out.ByMinute[k] = c
	}
	if t.port != nil {
		out.ByPort = make(map[PortKey]Counts, len(t.port))
		for k, c := range t.port {
			out.ByPort[k] = c
		}
	}
	return out
}
