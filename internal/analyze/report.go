package analyze

import (
	"cmp"
	"encoding/json"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
)

// Report is the summary `flowd analyze` prints; its JSON form is the stable schema of
// `--output json` (see the package doc). Counts are exact unless a field says otherwise.
type Report struct {
	Files             []FileInfo           `json:"files"`
	Warnings          []string             `json:"warnings"` // about formats: misspelled fields, no way to count
	Records           uint64               `json:"records"`
	Malformed         uint64               `json:"malformed"`
	MalformedReasons  map[string]uint64    `json:"malformed_reasons"`
	MalformedExamples []MalformedLine      `json:"malformed_examples"`
	Flows             uint64               `json:"flows"`
	NoData            uint64               `json:"nodata"`
	SkipData          uint64               `json:"skipdata"`
	Uncounted         map[string]uint64    `json:"uncounted"`
	Late              uint64               `json:"late"` // flows that started before the window (any input order)
	Future            uint64               `json:"future"`
	Untimed           uint64               `json:"untimed"`
	FirstWindowStart  *time.Time           `json:"window_start"`
	NewestStart       *time.Time           `json:"newest_start"`
	Totals            map[string]Counts    `json:"totals"`
	Ports             []PortRow            `json:"ports"`
	Interfaces        []InterfaceRow       `json:"interfaces"`
	InterfaceStatus   []InterfaceStatusRow `json:"interface_status"`
	Folded            Folded               `json:"folded"`
	TopTalkers        []TalkerRow          `json:"top_talkers"`
	TopRejected       []RejectedRow        `json:"top_rejected_sources"`
	ScanCandidates    []RejectedRow        `json:"scan_candidates"`
	TGW               TGWReport            `json:"tgw"` // transit gateway records, counted apart
}

// TGWReport summarises transit gateway flow log records. They have no action, so they are in
// none of the VPC sections (not in Flows, Totals or Ports); Records counts them all.
type TGWReport struct {
	Records     uint64          `json:"records"`
	Flows       uint64          `json:"flows"`
	NoData      uint64          `json:"nodata"`
	SkipData    uint64          `json:"skipdata"`
	Uncounted   uint64          `json:"uncounted"` // log-status OK without packets or bytes
	Totals      Counts          `json:"totals"`
	Attachments []AttachmentRow `json:"attachments"`
	Lost        []LostRow       `json:"packets_lost"`
}

// AttachmentRow is the counts of one transit gateway attachment, all resource types and
// directions together.
type AttachmentRow struct {
	AttachmentID string `json:"tgw_attachment_id"`
	Counts
}

// LostRow is the packets one attachment lost for one reason (no_route, blackhole,
// mtu_exceeded, ttl_expired).
type LostRow struct {
	AttachmentID string `json:"tgw_attachment_id"`
	Reason       string `json:"reason"`
	Packets      uint64 `json:"packets"`
}

// FileInfo describes one input.
type FileInfo struct {
	Name      string   `json:"name"`
	Format    string   `json:"format"`  // the first of Formats
	Formats   []string `json:"formats"` // every format the input was read in, in order of use
	Header    bool     `json:"header"`  // the input has S3 header lines (one per concatenated object)
	Lines     uint64   `json:"lines"`
	Records   uint64   `json:"records"`
	Malformed uint64   `json:"malformed"`
	Error     string   `json:"error,omitempty"` // why the input could not be read (in full); its complete lines before are counted
}

// MalformedLine is one of the first malformed lines.
type MalformedLine struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

// Counts are flows, packets and bytes.
type Counts struct {
	Flows   uint64 `json:"flows"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// PortRow is the counts of one (action, protocol, service port); Other marks the ports folded by
// --max-ports (Port is then 0).
type PortRow struct {
	Action   string `json:"action"`
	Protocol uint8  `json:"protocol"`
	Port     uint16 `json:"port"`
	Other    bool   `json:"other,omitempty"`
	Counts
}

// InterfaceRow is the counts of one (action, interface id).
type InterfaceRow struct {
	Action      string `json:"action"`
	InterfaceID string `json:"interface_id"`
	Counts
}

// InterfaceStatusRow counts the NODATA and SKIPDATA records of one interface.
type InterfaceStatusRow struct {
	InterfaceID string `json:"interface_id"`
	NoData      uint64 `json:"nodata"`
	SkipData    uint64 `json:"skipdata"`
}

// Folded counts what the caps folded into "other" (distinct keys: exact up to 128, then a
// HyperLogLog estimate).
type Folded struct {
	PortRecords           uint64 `json:"port_records"`
	PortDistinctKeys      uint64 `json:"port_distinct_keys"`
	InterfaceRecords      uint64 `json:"interface_records"`
	InterfaceDistinctKeys uint64 `json:"interface_distinct_keys"`
}

// TalkerRow is a top talker: bytes from src to dst, an estimate within max_error.
type TalkerRow struct {
	Src      netip.Addr `json:"src"`
	Dst      netip.Addr `json:"dst"`
	Bytes    uint64     `json:"bytes"`
	MaxError uint64     `json:"max_error"`
}

// RejectedRow is a top rejected source: rejected flows (an estimate within max_error) and the
// distinct destination ports of those flows (exact up to 64; ports_saturated: more).
type RejectedRow struct {
	Src            netip.Addr `json:"src"`
	Flows          uint64     `json:"flows"`
	MaxError       uint64     `json:"max_error"`
	DistinctPorts  int        `json:"distinct_ports"`
	PortsSaturated bool       `json:"ports_saturated"`
}

// report builds the Report from the final snapshot.
func (a *analysis) report(s *aggregate.Snapshot) *Report {
	rep := &Report{
		Files:             a.files,
		Warnings:          a.warnings,
		Records:           a.records,
		Malformed:         a.malformed,
		MalformedReasons:  a.reasons,
		MalformedExamples: a.examples,
		Flows:             s.Flows,
		NoData:            s.NoData,
		SkipData:          s.SkipData,
		Uncounted:         map[string]uint64{},
		Late:              lateFlows(s),
		Future:            s.Future,
		Untimed:           s.Untimed,
		Totals:            map[string]Counts{},
		Folded: Folded{
			PortRecords: s.PortFold.Records, PortDistinctKeys: s.PortFold.DistinctKeys,
			InterfaceRecords: s.InterfaceFold.Records, InterfaceDistinctKeys: s.InterfaceFold.DistinctKeys,
		},
	}
	if rep.Files == nil {
		rep.Files = []FileInfo{}
	}
	if rep.Warnings == nil {
		rep.Warnings = []string{}
	}
	if rep.MalformedExamples == nil {
		rep.MalformedExamples = []MalformedLine{}
	}
	for _, rc := range s.Invalid {
		rep.Uncounted[rc.Reason.String()] = rc.Records
	}
	for _, t := range s.Totals {
		rep.Totals[t.Action.String()] = Counts(t.Counts)
	}
	rep.Ports = []PortRow{}
	for _, p := range s.Ports {
		rep.Ports = append(rep.Ports, PortRow{Action: p.Action.String(), Protocol: p.Protocol, Port: p.Port, Other: p.Other, Counts: Counts(p.Counts)})
	}
	slices.SortStableFunc(rep.Ports, func(x, y PortRow) int {
		return cmp.Or(cmp.Compare(x.Action, y.Action), cmp.Compare(y.Flows, x.Flows), cmp.Compare(y.Bytes, x.Bytes))
	})
	rep.Interfaces = []InterfaceRow{}
	for _, in := range s.Interfaces {
		rep.Interfaces = append(rep.Interfaces, InterfaceRow{Action: in.Action.String(), InterfaceID: in.InterfaceID, Counts: Counts(in.Counts)})
	}
	slices.SortStableFunc(rep.Interfaces, func(x, y InterfaceRow) int {
		return cmp.Or(cmp.Compare(x.Action, y.Action), cmp.Compare(y.Flows, x.Flows), cmp.Compare(y.Bytes, x.Bytes))
	})
	rep.InterfaceStatus = []InterfaceStatusRow{}
	for _, st := range s.InterfaceStatus {
		rep.InterfaceStatus = append(rep.InterfaceStatus, InterfaceStatusRow{InterfaceID: st.InterfaceID, NoData: st.NoData, SkipData: st.SkipData})
	}
	rep.TGW = tgwReport(&s.TGW)
	rep.TopTalkers, rep.TopRejected, rep.ScanCandidates = []TalkerRow{}, []RejectedRow{}, []RejectedRow{}
	if s.HasEvents {
		w := s.Windows[0]
		start, newest := w.Start, s.Newest
		rep.FirstWindowStart, rep.NewestStart = &start, &newest
		for _, t := range w.TopTalkers {
			rep.TopTalkers = append(rep.TopTalkers, TalkerRow{Src: t.Src, Dst: t.Dst, Bytes: t.Bytes, MaxError: t.MaxError})
		}
		for _, r := range w.TopRejectedSources {
			rep.TopRejected = append(rep.TopRejected, rejectedRow(r))
		}
		for _, r := range w.ScanCandidates {
			rep.ScanCandidates = append(rep.ScanCandidates, rejectedRow(r))
		}
	}
	return rep
}

// lateFlows is the number of flows whose start is before the window that ends with the newest
// record: every counted flow with a start, less those in the final window. It does not depend
// on the order of the input, unlike the aggregator's Late (flows already older than the window
// when they were read: read oldest first, none is; newest first, all the old ones are).
func lateFlows(s *aggregate.Snapshot) uint64 {
	if !s.HasEvents || len(s.Windows) == 0 {
		return 0
	}
	var inWindow uint64
	for _, p := range s.Windows[0].Ports {
		inWindow += p.Flows
	}
	timed := s.Flows - s.Future - s.Untimed
	if inWindow > timed { // cannot happen; never underflow
		return 0
	}
	return timed - inWindow
}

func tgwReport(t *aggregate.TGWSnapshot) TGWReport {
	r := TGWReport{Records: t.Records, Flows: t.Flows, NoData: t.NoData, SkipData: t.SkipData, Uncounted: t.Uncounted,
		Totals: Counts(t.Totals), Attachments: []AttachmentRow{}, Lost: []LostRow{}}
	byID := map[string]int{}
	for _, a := range t.Attachments {
		i, ok := byID[a.AttachmentID]
		if !ok {
			i = len(r.Attachments)
			byID[a.AttachmentID] = i
			r.Attachments = append(r.Attachments, AttachmentRow{AttachmentID: a.AttachmentID})
		}
		c := &r.Attachments[i].Counts
		c.Flows, c.Packets, c.Bytes = c.Flows+a.Flows, c.Packets+a.Packets, c.Bytes+a.Bytes
	}
	slices.SortStableFunc(r.Attachments, func(x, y AttachmentRow) int {
		return cmp.Or(cmp.Compare(y.Bytes, x.Bytes), cmp.Compare(x.AttachmentID, y.AttachmentID))
	})
	for _, l := range t.Lost {
		r.Lost = append(r.Lost, LostRow{AttachmentID: l.AttachmentID, Reason: l.Reason.String(), Packets: l.Packets})
	}
	slices.SortStableFunc(r.Lost, func(x, y LostRow) int { return cmp.Compare(y.Packets, x.Packets) })
	return r
}

func rejectedRow(r aggregate.RejectedSource) RejectedRow {
	return RejectedRow{Src: r.Src, Flows: r.Flows, MaxError: r.MaxError, DistinctPorts: r.DistinctPorts, PortsSaturated: r.PortsSaturated}
}

func writeJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
