package simulate

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// TransitGateway simulates the flow log of a transit gateway: records in the transit gateway
// default format (parse.TransitGatewayDefaultFormat, which has no action), one log stream per
// attachment, one batch per attachment and 60-second window (the only aggregation interval AWS
// allows for transit gateways), delivered a fixed delay after the window ends. Attachment 0
// has a blackhole route for one destination prefix and attachment 1 no route for another, so
// their records carry packets-lost-blackhole and packets-lost-no-route; a few records lose
// packets to MTU or TTL; an attachment sometimes logs a NODATA window.
//
// Like Simulator, everything is a pure function of the config and the window: window k of
// attachment i comes from a random stream seeded by (Seed, i, k). It is safe for concurrent use.
type TransitGateway struct {
	cfg    TGWConfig
	format *parse.Format
	tgwID  string
	atts   []string // attachment ids
	vpcs   []string // the VPC of each attachment

	mu        sync.Mutex
	nextK     int64 // the next window to generate, for every attachment
	queue     []tgwBatch
	generated TGWTruth
	delivered TGWTruth
}

// TGWConfig configures a TransitGateway. Start from DefaultTGWConfig.
type TGWConfig struct {
	Seed  uint64
	Start time.Time
	// Attachments is the number of attachments (VPCs) of the transit gateway, 2 to 1000.
	Attachments int
	// FlowsPerWindow is the number of flow records of an attachment per window (1 to 10,000).
	FlowsPerWindow int
	// Delay is how long after a window ends its records are delivered.
	Delay time.Duration
	// Tick is how often Run advances in real time.
	Tick time.Duration
	// AccountID and Region are written in every record.
	AccountID, Region string
}

// DefaultTGWConfig returns a transit gateway of 4 attachments, 40 flows per window and
// attachment, delivered 10 s after each window, from the hour before now.
func DefaultTGWConfig() TGWConfig {
	return TGWConfig{Seed: 1, Start: time.Now().Add(-time.Hour).Truncate(time.Minute), Attachments: 4,
		FlowsPerWindow: 40, Delay: 10 * time.Second, Tick: time.Second, AccountID: "123456789012", Region: "us-east-1"}
}

// TGWTruth is what a TransitGateway generated or delivered, counted from the records.
type TGWTruth struct {
	Events  uint64
	Records map[parse.LogStatus]uint64
	// ByAttachment are the flows, packets and bytes of the OK records, by attachment id.
	ByAttachment map[string]Counts
	// Lost are the lost packets by attachment id and reason (parse field name, e.g.
	// "packets-lost-blackhole").
	Lost map[string]map[string]uint64
}

func newTGWTruth() TGWTruth {
	return TGWTruth{Records: map[parse.LogStatus]uint64{}, ByAttachment: map[string]Counts{}, Lost: map[string]map[string]uint64{}}
}

func (t *TGWTruth) clone() TGWTruth {
	c := newTGWTruth()
	c.Events = t.Events
	for k, v := range t.Records {
		c.Records[k] = v
	}
	for k, v := range t.ByAttachment {
		c.ByAttachment[k] = v
	}
	for k, m := range t.Lost {
		c.Lost[k] = map[string]uint64{}
		for r, n := range m {
			c.Lost[k][r] = n
		}
	}
	return c
}

// add counts one record into t.
func (t *TGWTruth) add(r *parse.Record) {
	t.Events++
	t.Records[r.LogStatus]++
	if r.LogStatus != parse.LogStatusOK {
		return
	}
	c := t.ByAttachment[r.TGWAttachmentID]
	c.add(Counts{Flows: 1, Packets: r.Packets, Bytes: r.Bytes})
	t.ByAttachment[r.TGWAttachmentID] = c
	for _, l := range []struct {
		name string
		n    uint64
	}{{"packets-lost-no-route", r.PacketsLostNoRoute}, {"packets-lost-blackhole", r.PacketsLostBlackhole},
		{"packets-lost-mtu-exceeded", r.PacketsLostMTUExceeded}, {"packets-lost-ttl-expired", r.PacketsLostTTLExpired}} {
		if l.n == 0 {
			continue
		}
		if t.Lost[r.TGWAttachmentID] == nil {
			t.Lost[r.TGWAttachmentID] = map[string]uint64{}
		}
		t.Lost[r.TGWAttachmentID][l.name] += l.n
	}
}

// tgwBatch is one attachment's window, waiting for its delivery time.
type tgwBatch struct {
	deliverAt time.Time
	att       int
	records   []parse.Record
	events    []Event
}

// NewTransitGateway validates cfg and returns the simulator.
func NewTransitGateway(cfg TGWConfig) (*TransitGateway, error) {
	var errs []error
	bad := func(field string, value any, reason string) {
		errs = append(errs, &ConfigError{Field: "TGWConfig." + field, Value: value, Reason: reason})
	}
	if cfg.Attachments < 2 || cfg.Attachments > 1000 {
		bad("Attachments", cfg.Attachments, "must be 2 to 1000")
	}
	if cfg.FlowsPerWindow < 1 || cfg.FlowsPerWindow > 10000 {
		bad("FlowsPerWindow", cfg.FlowsPerWindow, "must be 1 to 10000")
	}
	if cfg.Delay < 0 || cfg.Delay > MaxDelay {
		bad("Delay", cfg.Delay, fmt.Sprintf("must be 0 to %v", MaxDelay))
	}
	if cfg.Tick <= 0 {
		bad("Tick", cfg.Tick, "must be positive")
	}
	if cfg.Start.IsZero() || cfg.Start.Unix() < 0 {
		bad("Start", cfg.Start, "must be set, after 1970")
	}
	if len(cfg.AccountID) != 12 {
		bad("AccountID", cfg.AccountID, "must be a 12-digit account")
	}
	if cfg.Region == "" {
		bad("Region", cfg.Region, "must be set")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := seeded(cfg.Seed, 0x7767)
	g := &TransitGateway{cfg: cfg, format: parse.MustCompile(parse.TransitGatewayDefaultFormat),
		tgwID: fmt.Sprintf("tgw-%017x", r.next()), generated: newTGWTruth(), delivered: newTGWTruth()}
	for range cfg.Attachments {
		g.atts = append(g.atts, fmt.Sprintf("tgw-attach-%017x", r.next()))
		g.vpcs = append(g.vpcs, fmt.Sprintf("vpc-%017x", r.next()))
	}
	return g, nil
}

// Format returns the records' format.
func (g *TransitGateway) Format() *parse.Format { return g.format }

// Attachments returns the attachment ids, in order.
func (g *TransitGateway) Attachments() []string { return append([]string(nil), g.atts...) }

// Advance generates every window that ended by until and returns the batches due by then, in
// (delivery time, attachment) order.
func (g *TransitGateway) Advance(until time.Time) []Delivery {
	g.mu.Lock()
	defer g.mu.Unlock()
	start := g.cfg.Start.Truncate(time.Minute)
	for {
		ws := start.Add(time.Duration(g.nextK) * time.Minute)
		we := ws.Add(time.Minute)
		if we.After(until) {
			break
		}
		for i := range g.atts {
			b := g.window(i, g.nextK, ws)
			for j := range b.records {
				g.generated.add(&b.records[j])
			}
			g.queue = append(g.queue, b)
		}
		g.nextK++
	}
	var out []Delivery
	rest := g.queue[:0]
	for _, b := range g.queue {
		if b.deliverAt.After(until) {
			rest = append(rest, b)
			continue
		}
		for j := range b.records {
			g.delivered.add(&b.records[j])
		}
		out = append(out, Delivery{Stream: g.atts[b.att], Interface: g.atts[b.att], WindowStart: b.deliverAt.Add(-g.cfg.Delay - time.Minute),
			WindowEnd: b.deliverAt.Add(-g.cfg.Delay), DeliverAt: b.deliverAt, Events: b.events})
	}
	g.queue = rest
	return out
}

// window generates attachment i's window k, starting at ws.
func (g *TransitGateway) window(i int, k int64, ws time.Time) tgwBatch {
	r := seeded(g.cfg.Seed, 0x7767, uint64(i), uint64(k))
	b := tgwBatch{deliverAt: ws.Add(time.Minute + g.cfg.Delay), att: i}
	s, e := ws.Unix(), ws.Unix()+60
	base := parse.Record{Version: 6, ResourceType: parse.ResourceTypeTransitGatewayAttachment, AccountID: g.cfg.AccountID,
		TGWID: g.tgwID, TGWAttachmentID: g.atts[i], Region: g.cfg.Region, Start: s, End: e}
	present := parse.FieldSetOf(parse.FieldVersion, parse.FieldResourceType, parse.FieldAccountID, parse.FieldTGWID,
		parse.FieldTGWAttachmentID, parse.FieldRegion, parse.FieldStart, parse.FieldEnd, parse.FieldLogStatus)
	if r.chance(0.03) { // an idle window
		rec := base
		rec.LogStatus, rec.Present = parse.LogStatusNoData, present
		b.records = append(b.records, rec)
	} else {
		n := max(1, g.cfg.FlowsPerWindow/2+r.intn(g.cfg.FlowsPerWindow+1))
		ports := []uint16{443, 443, 443, 80, 5432, 3306, 53, 22}
		for range n {
			rec := base
			rec.LogStatus, rec.Present = parse.LogStatusOK, present.Union(parse.FieldSetOf(parse.FieldTGWSrcVPCAccountID,
				parse.FieldTGWSrcVPCID, parse.FieldSrcAddr, parse.FieldDstAddr, parse.FieldSrcPort, parse.FieldDstPort,
				parse.FieldProtocol, parse.FieldPackets, parse.FieldBytes, parse.FieldType, parse.FieldPacketsLostNoRoute,
				parse.FieldPacketsLostBlackhole, parse.FieldPacketsLostMTUExceeded, parse.FieldPacketsLostTTLExpired,
				parse.FieldFlowDirection, parse.FieldTCPFlags))
			rec.TGWSrcVPCAccountID, rec.TGWSrcVPCID = g.cfg.AccountID, g.vpcs[i]
			dst := r.intn(len(g.atts))
			rec.SrcAddr = netip.AddrFrom4([4]byte{10, byte(i), byte(r.intn(256)), byte(1 + r.intn(254))})
			rec.DstAddr = netip.AddrFrom4([4]byte{10, byte(dst), byte(r.intn(256)), byte(1 + r.intn(254))})
			rec.SrcPort, rec.DstPort, rec.Protocol = uint16(32768+r.intn(28000)), ports[r.intn(len(ports))], 6
			rec.Type, rec.TCPFlags = parse.TrafficTypeIPv4, 2
			rec.FlowDirection = parse.FlowDirection(1 + r.intn(2))
			rec.Packets = uint64(1 + r.intn(200))
			rec.Bytes = rec.Packets * uint64(60+r.intn(1400))
			switch {
			case i == 0 && r.chance(0.2): // a blackhole route: everything lost
				rec.PacketsLostBlackhole = rec.Packets
			case i == 1 && r.chance(0.1): // no route
				rec.PacketsLostNoRoute = rec.Packets
			case r.chance(0.02):
				rec.PacketsLostMTUExceeded = uint64(1 + r.intn(int(rec.Packets)))
			case r.chance(0.01):
				rec.PacketsLostTTLExpired = 1
			}
			if dst != i && rec.PacketsLostBlackhole == 0 && rec.PacketsLostNoRoute == 0 {
				rec.Present = rec.Present.Union(parse.FieldSetOf(parse.FieldTGWDstVPCAccountID, parse.FieldTGWDstVPCID,
					parse.FieldTGWPairAttachmentID))
				rec.TGWDstVPCAccountID, rec.TGWDstVPCID, rec.TGWPairAttachmentID = g.cfg.AccountID, g.vpcs[dst], g.atts[dst]
			}
			b.records = append(b.records, rec)
		}
	}
	var buf []byte
	for j := range b.records {
		buf = g.format.Append(buf[:0], &b.records[j])
		b.events = append(b.events, Event{Timestamp: s * 1000, Message: string(buf)})
		// The records must parse back as they are counted: re-read them from their message,
		// so the truth is about what a reader sees (strings then point into the message).
		var back parse.Record
		if err := g.format.Parse(b.events[j].Message, &back); err != nil {
			panic(fmt.Sprintf("simulate: transit gateway record %q does not parse: %v", b.events[j].Message, err))
		}
		b.records[j] = back
	}
	return b
}

// Run delivers the simulation to sink in real time until ctx is cancelled, as Simulator.Run.
func (g *TransitGateway) Run(ctx context.Context, clock Clock, sink Sink) error {
	for {
		for _, d := range g.Advance(clock.Now()) {
			if err := sink.Put(ctx, d.Stream, d.Events); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("simulate: deliver %d transit gateway events to stream %s: %w", len(d.Events), d.Stream, err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-clock.After(g.cfg.Tick):
		}
	}
}

// Generated returns what has been generated so far.
func (g *TransitGateway) Generated() TGWTruth {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.generated.clone()
}

// Delivered returns what has been handed out by Advance so far.
func (g *TransitGateway) Delivered() TGWTruth {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.delivered.clone()
}
