package aggregate

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/flowd-dev/flowd/internal/parse"
)

// Transit gateway flow log records have no action: a transit gateway does not accept or
// reject, it forwards or loses packets (no route, blackhole route, MTU exceeded, TTL expired).
// They are therefore counted apart from VPC flows, never under an action: by attachment
// (capped, folding into "other" like interfaces), resource type and direction; by service
// port; and their lost packets by reason. They stay out of the event-time windows, whose top
// lists are about accepted and rejected VPC traffic.

// defaultMaxTGWAttachments is the attachment cap when Config.MaxTGWAttachments is 0. AWS allows
// 5,000 attachments per transit gateway; a few hundred per flowd is the common case.
const defaultMaxTGWAttachments = 500

// LostReason is why a transit gateway lost packets.
type LostReason uint8

// Lost-packet reasons, in the order of the AWS fields.
const (
	LostNoRoute     LostReason = iota // packets-lost-no-route
	LostBlackhole                     // packets-lost-blackhole
	LostMTUExceeded                   // packets-lost-mtu-exceeded
	LostTTLExpired                    // packets-lost-ttl-expired
	numLostReasons
)

var lostNames = [numLostReasons]string{"no_route", "blackhole", "mtu_exceeded", "ttl_expired"}

// String returns the reason's stable label.
func (r LostReason) String() string {
	if r < numLostReasons {
		return lostNames[r]
	}
	return "unknown"
}

// numResourceTypes and numDirections size the per-attachment counters: parse.ResourceType and
// parse.FlowDirection values, "-" (0) included.
const (
	numResourceTypes = 3
	numDirections    = 3
)

// tgwCounts are the cumulative counts of one attachment key.
type tgwCounts struct {
	flows [numResourceTypes][numDirections]Counts
	lost  [numLostReasons]uint64
}

// tgwState is the transit gateway part of the counting state.
type tgwState struct {
	attachments ifaceTable  // attachment ids, capped
	counts      []tgwCounts // by attachment index
	ports       portTable
	portCounts  []Counts // by port index
	records     uint64   // every transit gateway record
	flows       uint64   // counted as flows
	noData      uint64
	skipData    uint64
	uncounted   uint64 // log-status OK but no packets or bytes
}

func newTGWState(maxAttachments, maxPorts int) tgwState {
	if maxAttachments == 0 {
		maxAttachments = defaultMaxTGWAttachments
	}
	return tgwState{attachments: newIfaceTable(maxAttachments), ports: newPortTable(maxPorts)}
}

// addTGW counts one transit gateway record. The caller holds the lock.
func (a *Aggregator) addTGW(r *parse.Record) {
	t := &a.tgw
	t.records++
	switch r.LogStatus {
	case parse.LogStatusNoData:
		t.noData++
		return
	case parse.LogStatusSkipData:
		t.skipData++
		return
	}
	id := ""
	if r.Present.Has(parse.FieldTGWAttachmentID) {
		id = r.TGWAttachmentID
	}
	ai := t.attachments.lookup(id)
	for int(ai) >= len(t.counts) {
		t.counts = append(t.counts, tgwCounts{})
	}
	c := &t.counts[ai]
	c.lost[LostNoRoute] = satAdd(c.lost[LostNoRoute], r.PacketsLostNoRoute)
	c.lost[LostBlackhole] = satAdd(c.lost[LostBlackhole], r.PacketsLostBlackhole)
	c.lost[LostMTUExceeded] = satAdd(c.lost[LostMTUExceeded], r.PacketsLostMTUExceeded)
	c.lost[LostTTLExpired] = satAdd(c.lost[LostTTLExpired], r.PacketsLostTTLExpired)
	if !r.Present.Has(parse.FieldPackets) || !r.Present.Has(parse.FieldBytes) {
		t.uncounted++
		return
	}
	t.flows++
	c.flows[r.ResourceType%numResourceTypes][r.FlowDirection%numDirections].add(r.Packets, r.Bytes)
	if port, ok := a.attr.servicePort(r); ok && r.Present.Has(parse.FieldProtocol) {
		pi := t.ports.lookup(r.Protocol, port)
		for int(pi) >= len(t.portCounts) {
			t.portCounts = append(t.portCounts, Counts{})
		}
		t.portCounts[pi].add(r.Packets, r.Bytes)
	}
}

// TGWSnapshot is the transit gateway part of a Snapshot.
type TGWSnapshot struct {
	// Records counts every transit gateway record; Flows those counted as flows; NoData and
	// SkipData the status records; Uncounted those without packets or bytes.
	Records, Flows, NoData, SkipData, Uncounted uint64
	// Totals are the counts of every counted record.
	Totals Counts
	// Attachments are the counts by (attachment, resource type, direction), non-zero only,
	// sorted. AttachmentID is OtherInterface ("other") past the cap, NoInterface ("-") for none.
	Attachments []TGWAttachmentCounts
	// Lost are the lost packets by (attachment, reason), non-zero only, sorted.
	Lost []TGWLost
	// Ports are the counts by (protocol, service port), non-zero only; Action is ActionNone.
	Ports []PortCounts
	// AttachmentFold counts what the attachment cap folded into "other".
	AttachmentFold Fold
}

// TGWAttachmentCounts are the counts of one (attachment, resource type, direction).
type TGWAttachmentCounts struct {
	AttachmentID  string
	ResourceType  parse.ResourceType
	FlowDirection parse.FlowDirection
	Counts
}

// TGWLost is the packets one attachment lost for one reason.
type TGWLost struct {
	AttachmentID string
	Reason       LostReason
	Packets      uint64
}

// freezeTGW copies the transit gateway state; the caller holds the lock.
func (t *tgwState) freeze() tgwState {
	return tgwState{
		attachments: ifaceTable{ids: t.attachments.ids[:len(t.attachments.ids):len(t.attachments.ids)],
			fold: foldCounter{records: t.attachments.fold.records}},
		counts:     slices.Clone(t.counts),
		ports:      portTable{keys: t.ports.keys[:len(t.ports.keys):len(t.ports.keys)]},
		portCounts: slices.Clone(t.portCounts),
		records:    t.records, flows: t.flows, noData: t.noData, skipData: t.skipData, uncounted: t.uncounted,
	}
}

// snapshot builds the TGWSnapshot of frozen state; distinct is the fold's distinct key count.
func (t *tgwState) snapshot(distinct uint64) TGWSnapshot {
	s := TGWSnapshot{Records: t.records, Flows: t.flows, NoData: t.noData, SkipData: t.skipData, Uncounted: t.uncounted,
		AttachmentFold: Fold{Records: t.attachments.fold.records, DistinctKeys: distinct}}
	for i, c := range t.counts {
		id := t.attachments.ids[i]
		for rt := range numResourceTypes {
			for d := range numDirections {
				if k := c.flows[rt][d]; !k.isZero() {
					s.Totals.plus(k)
					s.Attachments = append(s.Attachments, TGWAttachmentCounts{AttachmentID: id,
						ResourceType: parse.ResourceType(rt), FlowDirection: parse.FlowDirection(d), Counts: k})
				}
			}
		}
		for r, n := range c.lost {
			if n != 0 {
				s.Lost = append(s.Lost, TGWLost{AttachmentID: id, Reason: LostReason(r), Packets: n})
			}
		}
	}
	slices.SortFunc(s.Attachments, func(x, y TGWAttachmentCounts) int {
		return cmp.Or(cmp.Compare(x.AttachmentID, y.AttachmentID), cmp.Compare(x.ResourceType, y.ResourceType), cmp.Compare(x.FlowDirection, y.FlowDirection))
	})
	slices.SortFunc(s.Lost, func(x, y TGWLost) int {
		return cmp.Or(cmp.Compare(x.AttachmentID, y.AttachmentID), cmp.Compare(x.Reason, y.Reason))
	})
	for i, c := range t.portCounts {
		if c.isZero() {
			continue
		}
		k := t.ports.keys[i]
		pc := PortCounts{Protocol: uint8(k >> 16), Port: uint16(k), Other: k&keyOther != 0, Counts: c}
		if pc.Other {
			pc.Port = 0
		}
		s.Ports = append(s.Ports, pc)
	}
	return s
}

// satAdd is a+b, or the largest uint64 if that would wrap: a counter that saturates is wrong
// visibly, one that wraps is wrong silently.
func satAdd(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return 1<<64 - 1
}

// StateTGW is the checkpoint form of the transit gateway counters.
type StateTGW struct {
	// Attachments are the attachment keys in index order; the first two are OtherInterface and
	// NoInterface ("other" past the cap, "-" for none).
	Attachments []StateTGWAttachment
	// Ports are the port keys in index order (packed as in StatePort).
	Ports                                       []StateTGWPort
	Records, Flows, NoData, SkipData, Uncounted uint64
	AttachmentFold                              StateFold
}

// StateTGWAttachment is one attachment key's counts by resource type and direction, and its
// lost packets by LostReason.
type StateTGWAttachment struct {
	ID     string
	Counts [numResourceTypes][numDirections]Counts
	Lost   [numLostReasons]uint64
}

// StateTGWPort is one port key of the transit gateway counters.
type StateTGWPort struct {
	Key    uint32
	Counts Counts
}

// state returns a deep copy of t for the checkpoint; the caller holds the lock.
func (t *tgwState) state() *StateTGW {
	s := &StateTGW{Records: t.records, Flows: t.flows, NoData: t.noData, SkipData: t.skipData, Uncounted: t.uncounted,
		AttachmentFold: t.attachments.fold.state()}
	for i, id := range t.attachments.ids {
		a := StateTGWAttachment{ID: id}
		if i < len(t.counts) {
			a.Counts, a.Lost = t.counts[i].flows, t.counts[i].lost
		}
		s.Attachments = append(s.Attachments, a)
	}
	for i, k := range t.ports.keys {
		p := StateTGWPort{Key: k}
		if i < len(t.portCounts) {
			p.Counts = t.portCounts[i]
		}
		s.Ports = append(s.Ports, p)
	}
	return s
}

// restore loads s into t, a fresh tgwState, after checking it.
func (t *tgwState) restore(s *StateTGW) error {
	if len(s.Attachments) < ifaceFirst || s.Attachments[ifaceOther].ID != OtherInterface || s.Attachments[ifaceNone].ID != NoInterface {
		return &StateError{Field: "TGW.Attachments", Reason: fmt.Sprintf("must start with %q and %q", OtherInterface, NoInterface)}
	}
	var flows uint64
	t.counts = t.counts[:0]
	for i, a := range s.Attachments {
		if i >= ifaceFirst {
			field := fmt.Sprintf("TGW.Attachments[%d].ID", i)
			if a.ID == "" || a.ID == OtherInterface || a.ID == NoInterface {
				return &StateError{Field: field, Reason: fmt.Sprintf("%q is not an attachment id", a.ID)}
			}
			if !t.attachments.intern(a.ID) {
				return &StateError{Field: field, Reason: fmt.Sprintf("%q repeats an earlier id", a.ID)}
			}
		}
		t.counts = append(t.counts, tgwCounts{flows: a.Counts, lost: a.Lost})
		for _, byDir := range a.Counts {
			for _, c := range byDir {
				flows += c.Flows
			}
		}
	}
	if flows != s.Flows {
		return &StateError{Field: "TGW.Attachments", Reason: fmt.Sprintf("hold %d flows, TGW.Flows is %d", flows, s.Flows)}
	}
	seen := make(map[uint32]bool, len(s.Ports))
	for i, p := range s.Ports {
		field := fmt.Sprintf("TGW.Ports[%d].Key", i)
		if p.Key>>25 != 0 || (p.Key&keyOther != 0 && uint16(p.Key) != 0) {
			return &StateError{Field: field, Reason: fmt.Sprintf("%#x is not a port key", p.Key)}
		}
		if seen[p.Key] {
			return &StateError{Field: field, Reason: fmt.Sprintf("%#x repeats an earlier key", p.Key)}
		}
		seen[p.Key] = true
		t.ports.add(p.Key)
		if p.Key&keyOther == 0 {
			t.ports.interned++
		}
		t.portCounts = append(t.portCounts, p.Counts)
	}
	if err := restoreFold("TGW.AttachmentFold", s.AttachmentFold, &t.attachments.fold); err != nil {
		return err
	}
	if s.Flows+s.NoData+s.SkipData+s.Uncounted > s.Records {
		return &StateError{Field: "TGW.Records", Reason: fmt.Sprintf("is %d, fewer than its flows, status and uncounted records", s.Records)}
	}
	t.records, t.flows, t.noData, t.skipData, t.uncounted = s.Records, s.Flows, s.NoData, s.SkipData, s.Uncounted
	return nil
}
