package aggregate

import (
	"fmt"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// refPort is the attribution the exactness test expects under the default configuration (no
// service ports, no tcp-flags in the format), stated plainly: port-less protocols get 0, a zero
// port yields to the other one, else the lower port.
func refPort(r *parse.Record) uint16 {
	if r.Protocol != 6 && r.Protocol != 17 {
		return 0
	}
	if r.SrcPort == 0 || r.DstPort == 0 {
		return max(r.SrcPort, r.DstPort)
	}
	return min(r.SrcPort, r.DstPort)
}

func portLabel(action parse.Action, proto uint8, port uint16) string {
	return fmt.Sprintf("%s/%d/%d", action, proto, port)
}

func TestExactAgainstRecount(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, nil)
	g := newGenerator(1, 300, t0, 20*time.Minute)
	const n = 200_000
	records := make([]parse.Record, n)
	for i := range records {
		g.next(&records[i])
	}
	// Feed in batches of varying size, and some one by one.
	for i := 0; i < n; {
		size := 1 + i%777
		if i+size > n {
			size = n - i
		}
		if size == 1 {
			a.Add(&records[i])
		} else {
			a.AddBatch(records[i : i+size])
		}
		i += size
	}
	s := a.Snapshot()

	// The independent recount.
	ports := map[string]Counts{}
	ifaces := map[string]Counts{}
	totals := map[parse.Action]Counts{}
	noData, skipData := map[string]uint64{}, map[string]uint64{}
	var flows, noAction, late uint64
	newest := int64(-1 << 62)
	for i := range records {
		r := &records[i]
		switch {
		case r.LogStatus == parse.LogStatusNoData:
			noData[r.InterfaceID]++
		case r.LogStatus == parse.LogStatusSkipData:
			skipData[r.InterfaceID]++
		case r.Action == parse.ActionNone:
			noAction++
		default:
			flows++
			k := portLabel(r.Action, r.Protocol, refPort(r))
			c := ports[k]
			c.Flows, c.Packets, c.Bytes = c.Flows+1, c.Packets+r.Packets, c.Bytes+r.Bytes
			ports[k] = c
			k = r.Action.String() + "/" + r.InterfaceID
			c = ifaces[k]
			c.Flows, c.Packets, c.Bytes = c.Flows+1, c.Packets+r.Packets, c.Bytes+r.Bytes
			ifaces[k] = c
			c = totals[r.Action]
			c.Flows, c.Packets, c.Bytes = c.Flows+1, c.Packets+r.Packets, c.Bytes+r.Bytes
			totals[r.Action] = c
		}
		// Late: older than 90 buckets before the watermark at the time the record came.
		newest = max(newest, r.Start)
		if r.LogStatus == parse.LogStatusOK && r.Action != parse.ActionNone && r.Start/10 < (newest-120)/10-90 {
			late++
		}
	}

	if s.Flows != flows || s.Invalid[ReasonNoAction].Records != noAction || s.Late != late {
		t.Errorf("flows, no_action, late = %d, %d, %d; want %d, %d, %d", s.Flows, s.Invalid[ReasonNoAction].Records, s.Late, flows, noAction, late)
	}
	gotPorts := map[string]Counts{}
	for _, p := range s.Ports {
		if p.Other {
			t.Errorf("unexpected fold: %+v", p)
		}
		gotPorts[portLabel(p.Action, p.Protocol, p.Port)] = p.Counts
	}
	compareMaps(t, "ports", gotPorts, ports)
	gotIfaces := map[string]Counts{}
	for _, in := range s.Interfaces {
		gotIfaces[in.Action.String()+"/"+in.InterfaceID] = in.Counts
	}
	compareMaps(t, "interfaces", gotIfaces, ifaces)
	for _, tot := range s.Totals {
		if tot.Counts != totals[tot.Action] {
			t.Errorf("total %s = %+v, want %+v", tot.Action, tot.Counts, totals[tot.Action])
		}
	}
	gotND, gotSD := map[string]uint64{}, map[string]uint64{}
	for _, st := range s.InterfaceStatus {
		if st.NoData != 0 {
			gotND[st.InterfaceID] = st.NoData
		}
		if st.SkipData != 0 {
			gotSD[st.InterfaceID] = st.SkipData
		}
	}
	compareMaps(t, "nodata", gotND, noData)
	compareMaps(t, "skipdata", gotSD, skipData)

	// Windows: every flow with a start in [watermark-W, watermark), by (action, port).
	wm := s.Watermark.Unix()
	if want := (newest - 120) / 10 * 10; wm != want {
		t.Fatalf("watermark = %d, want %d", wm, want)
	}
	for _, w := range s.Windows {
		want := map[string]Counts{}
		for i := range records {
			r := &records[i]
			if r.LogStatus != parse.LogStatusOK || r.Action == parse.ActionNone || r.Start < wm-int64(w.Width/time.Second) || r.Start >= wm {
				continue
			}
			k := portLabel(r.Action, r.Protocol, refPort(r))
			c := want[k]
			c.Flows, c.Packets, c.Bytes = c.Flows+1, c.Packets+r.Packets, c.Bytes+r.Bytes
			want[k] = c
		}
		got := map[string]Counts{}
		for _, p := range w.Ports {
			got[portLabel(p.Action, p.Protocol, p.Port)] = p.Counts
		}
		compareMaps(t, "window "+w.Width.String(), got, want)
		if w.End.Unix() != wm || w.Start.Unix() != wm-int64(w.Width/time.Second) {
			t.Errorf("window %s bounds = [%s, %s), want [%d-W, %d)", w.Width, w.Start, w.End, wm, wm)
		}
	}
}

func compareMaps[V comparable](t *testing.T, what string, got, want map[string]V) {
	t.Helper()
	if len(want) == 0 {
		t.Errorf("%s: the expected map is empty: the test checks nothing", what)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s[%s] = %v, want %v", what, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s[%s] = %v, want no entry", what, k, g)
		}
	}
}

func TestWindowEdgesAndWatermark(t *testing.T) {
	t.Parallel()
	a, clock := newTestAggregator(t, func(c *Config) {
		c.Windows = []time.Duration{time.Minute}
		c.AllowedLateness = 20 * time.Second
		c.MaxClockSkew = 5 * time.Minute
	})
	T := t0.Unix()
	src, dst := ip("198.51.100.7"), ip("10.0.0.5")
	add := func(start int64, bytes uint64) {
		r := flow("eni-1", src, dst, 40000, 443, 6, 1, bytes, start, parse.ActionAccept)
		a.Add(&r)
	}
	windowBytes := func() (uint64, time.Time) {
		s := a.Snapshot()
		var sum uint64
		for _, p := range s.Windows[0].Ports {
			sum += p.Bytes
		}
		return sum, s.Watermark
	}
	if s := a.Snapshot(); s.HasEvents || len(s.Windows[0].Ports) != 0 {
		t.Fatalf("empty aggregator snapshot has events or window content: %+v", s)
	}

	steps := []struct {
		name      string
		start     int64
		bytes     uint64
		wantBytes uint64
		wantWM    int64
		wantLate  uint64
	}{
		// newest T: watermark T-20, the window is [T-80, T-20).
		{name: "newest record is not yet in the window", start: T, bytes: 1, wantBytes: 0, wantWM: T - 20},
		{name: "start at the watermark is excluded", start: T - 20, bytes: 2, wantBytes: 0, wantWM: T - 20},
		{name: "just before the watermark is included", start: T - 21, bytes: 4, wantBytes: 4, wantWM: T - 20},
		{name: "window start is included", start: T - 80, bytes: 8, wantBytes: 12, wantWM: T - 20},
		{name: "older than the ring is late", start: T - 81, bytes: 16, wantBytes: 12, wantWM: T - 20, wantLate: 1},
		{name: "an older record never moves the watermark back", start: T - 50, bytes: 32, wantBytes: 44, wantWM: T - 20, wantLate: 1},
		// newest T+20: watermark T, the window is [T-60, T): T-80 drops out, T-20 comes in, T not yet.
		{name: "watermark advances", start: T + 20, bytes: 64, wantBytes: 2 + 4 + 32, wantWM: T, wantLate: 1},
		// Misaligned newest: T+29-20 = T+9 rounds down to T.
		{name: "watermark rounds down to a bucket", start: T + 29, bytes: 128, wantBytes: 2 + 4 + 32, wantWM: T, wantLate: 1},
		{name: "too far in the future", start: T + 301, bytes: 256, wantBytes: 2 + 4 + 32, wantWM: T, wantLate: 1},
	}
	for _, st := range steps {
		add(st.start, st.bytes)
		got, wm := windowBytes()
		if got != st.wantBytes || wm.Unix() != st.wantWM || a.Snapshot().Late != st.wantLate {
			t.Errorf("%s: window bytes %d, watermark %d, late %d; want %d, %d, %d",
				st.name, got, wm.Unix(), a.Snapshot().Late, st.wantBytes, st.wantWM, st.wantLate)
		}
	}
	s := a.Snapshot()
	if s.Future != 1 || s.Flows != uint64(len(steps)) || s.Totals[0].Bytes != 511 {
		t.Errorf("future %d, flows %d, bytes %d; want 1, %d, 511 (late and future records stay in the counters)", s.Future, s.Flows, s.Totals[0].Bytes, len(steps))
	}
	// Once the clock catches up, the same start is no longer in the future.
	clock.set(t0.Add(10 * time.Minute))
	add(T+301, 512)
	if _, wm := windowBytes(); wm.Unix() != (T+301-20)/10*10 {
		t.Errorf("watermark after the clock moved = %d, want %d", wm.Unix(), (T+301-20)/10*10)
	}
	// A jump far ahead recycles every bucket: old content must not reappear. Newest T+370:
	// the window is [T+290, T+350).
	add(T+370, 1024)
	if got, _ := windowBytes(); got != 512 {
		t.Errorf("window bytes after the jump = %d, want 512 (only the record at T+301)", got)
	}
}

func TestStatusRecordsAndInvalid(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, nil)
	T := t0.Unix()
	ok := flow("eni-a", ip("10.0.0.1"), ip("10.0.0.2"), 40000, 22, 6, 3, 300, T, parse.ActionReject)
	without := func(f parse.Field) parse.Record {
		r := ok
		r.Present = r.Present.Without(f)
		if f == parse.FieldAction {
			r.Action = parse.ActionNone
		}
		return r
	}
	untimed := without(parse.FieldStart)
	noIface := without(parse.FieldInterfaceID)
	noIface.InterfaceID = ""
	noLogStatus := without(parse.FieldLogStatus)
	noLogStatus.LogStatus = parse.LogStatusNone
	records := []parse.Record{
		ok,
		statusRecord("eni-a", parse.LogStatusNoData, T-600),
		statusRecord("eni-a", parse.LogStatusNoData, T+60),
		statusRecord("eni-b", parse.LogStatusSkipData, T),
		without(parse.FieldAction),
		without(parse.FieldPackets),
		without(parse.FieldBytes),
		without(parse.FieldProtocol),
		without(parse.FieldSrcPort),
		untimed,
		noIface,
		noLogStatus, // a format without log-status: still a flow
	}
	a.AddBatch(records)
	s := a.Snapshot()
	wantInvalid := map[Reason]uint64{ReasonNoAction: 1, ReasonNoPackets: 1, ReasonNoBytes: 1, ReasonNoProtocol: 1, ReasonNoPort: 1}
	for _, rc := range s.Invalid {
		if rc.Records != wantInvalid[rc.Reason] {
			t.Errorf("invalid %s = %d, want %d", rc.Reason, rc.Records, wantInvalid[rc.Reason])
		}
	}
	if s.Flows != 4 || s.NoData != 2 || s.SkipData != 1 || s.Untimed != 1 {
		t.Errorf("flows %d nodata %d skipdata %d untimed %d; want 4, 2, 1, 1", s.Flows, s.NoData, s.SkipData, s.Untimed)
	}
	wantStatus := []InterfaceStatus{{InterfaceID: "eni-a", NoData: 2}, {InterfaceID: "eni-b", SkipData: 1}}
	if fmt.Sprint(s.InterfaceStatus) != fmt.Sprint(wantStatus) {
		t.Errorf("interface status = %+v, want %+v", s.InterfaceStatus, wantStatus)
	}
	wantIfaces := []InterfaceCounts{
		{Action: parse.ActionReject, InterfaceID: NoInterface, Counts: Counts{1, 3, 300}},
		{Action: parse.ActionReject, InterfaceID: "eni-a", Counts: Counts{3, 9, 900}},
	}
	if fmt.Sprint(s.Interfaces) != fmt.Sprint(wantIfaces) {
		t.Errorf("interfaces = %+v, want %+v", s.Interfaces, wantIfaces)
	}
	// The NODATA record at T+60 moved the watermark: event time passes on idle interfaces.
	if want := (T + 60 - 120) / 10 * 10; s.Watermark.Unix() != want {
		t.Errorf("watermark = %d, want %d (NODATA starts count as event time)", s.Watermark.Unix(), want)
	}
}

func TestFoldIntoOther(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, func(c *Config) {
		c.MaxPorts = 4
		c.ServicePorts = []uint16{443}
		c.MaxInterfaces = 2
	})
	T := t0.Unix()
	src, dst := ip("10.0.0.1"), ip("10.0.0.2")
	var records []parse.Record
	// udp/53 and tcp/22 fill the cap (tcp/443 and udp/443 were reserved); then tcp 100..109
	// fold, twice each; 443 keeps its key.
	records = append(records, flow("eni-1", src, dst, 40000, 53, 17, 1, 10, T, parse.ActionAccept))
	records = append(records, flow("eni-2", src, dst, 40000, 22, 6, 1, 10, T, parse.ActionAccept))
	for round := range 2 {
		for p := uint16(100); p < 110; p++ {
			records = append(records, flow(fmt.Sprintf("eni-%d", 3+int(p-100)+round), src, dst, 40000, p, 6, 1, 10, T, parse.ActionAccept))
		}
	}
	records = append(records, flow("eni-1", src, dst, 40000, 443, 6, 1, 10, T, parse.ActionAccept))
	before := a.Snapshot()
	a.AddBatch(records)
	s := a.Snapshot()
	want := map[string]Counts{
		"ACCEPT/17/53":   {1, 1, 10},
		"ACCEPT/6/22":    {1, 1, 10},
		"ACCEPT/6/other": {20, 20, 200},
		"ACCEPT/6/443":   {1, 1, 10},
	}
	got := map[string]Counts{}
	for _, p := range s.Ports {
		k := portLabel(p.Action, p.Protocol, p.Port)
		if p.Other {
			k = fmt.Sprintf("%s/%d/other", p.Action, p.Protocol)
		}
		got[k] = p.Counts
	}
	compareMaps(t, "ports", got, want)
	if s.PortFold.Records != 20 || s.PortFold.DistinctKeys != 10 {
		t.Errorf("port fold = %+v, want 20 records, 10 distinct keys", s.PortFold)
	}
	// Interfaces: eni-1, eni-2 keep keys; eni-3..eni-13 (11 ids) fold, 20 records.
	if s.InterfaceFold.Records != 20 || s.InterfaceFold.DistinctKeys != 11 {
		t.Errorf("interface fold = %+v, want 20 records, 11 distinct keys", s.InterfaceFold)
	}
	if s.PortKeys != 5 || s.InterfaceKeys != 4 || before.PortKeys != 2 {
		t.Errorf("keys: ports %d (before %d), interfaces %d; want 5 (2), 4", s.PortKeys, before.PortKeys, s.InterfaceKeys)
	}
	// Counts never go backwards for an existing key, whatever comes next.
	a.AddBatch(records[:2])
	s2 := a.Snapshot()
	for _, p := range s2.Ports {
		if p.Protocol == 17 && p.Port == 53 && p.Flows != 2 {
			t.Errorf("udp/53 after more records = %d flows, want 2", p.Flows)
		}
	}
}

func TestAdvance(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, func(c *Config) { c.Windows = []time.Duration{time.Minute}; c.AllowedLateness = time.Minute })
	T := t0.Unix()
	a.Advance(t0) // no records yet: nothing to advance
	if a.Snapshot().HasEvents {
		t.Fatalf("Advance before any record created events")
	}
	r := flow("eni-1", ip("10.0.0.1"), ip("10.0.0.2"), 40000, 443, 6, 1, 100, T-5, parse.ActionAccept)
	a.Add(&r)
	if got := a.Snapshot().Windows[0].Ports; len(got) != 0 {
		t.Fatalf("record inside the lateness is already in the window: %+v", got)
	}
	a.Advance(t0.Add(time.Hour)) // capped just past the newest bucket
	s := a.Snapshot()
	if s.Watermark.Unix() != T || len(s.Windows[0].Ports) != 1 || s.Windows[0].Ports[0].Bytes != 100 {
		t.Errorf("after Advance: watermark %d, window %+v; want %d and the record", s.Watermark.Unix(), s.Windows[0].Ports, T)
	}
	a.Advance(t0.Add(-time.Hour))
	if got := a.Snapshot().Watermark.Unix(); got != T {
		t.Errorf("Advance moved the watermark back to %d", got)
	}
}
