package aggregate

import (
	"bytes"
	"encoding/gob"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// generated returns n records of the realistic mix ending at t0.
func generated(seed uint64, n int) []parse.Record {
	g := newGenerator(seed, 300, t0, 20*time.Minute)
	records := make([]parse.Record, n)
	for i := range records {
		g.next(&records[i])
	}
	return records
}

func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	cfg := func(c *Config) {
		c.MaxPorts = 12
		c.MaxRejectOnlyPorts = 2
		c.MaxInterfaces = 100
		c.ServicePorts = []uint16{443}
		c.Dimensions = []Dimension{DimAccount}
	}
	a, _ := newTestAggregator(t, cfg)
	records := generated(5, 50_000)
	a.AddBatch(records[:40_000])

	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(a.State()); err != nil {
		t.Fatalf("gob encode: %v", err)
	}
	var st State
	if err := gob.NewDecoder(&buf).Decode(&st); err != nil {
		t.Fatalf("gob decode: %v", err)
	}
	b, _ := newTestAggregator(t, cfg)
	b.Add(&records[0]) // Restore replaces whatever was there
	if err := b.Restore(&st); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	sa, sb := a.Snapshot(), b.Snapshot()
	if sa.PortFold.Records == 0 || sa.InterfaceFold.Records == 0 || sa.Windows[2].TopTalkers == nil {
		t.Fatalf("the test state has no folds or talkers: %+v %+v", sa.PortFold, sa.InterfaceFold)
	}
	if !reflect.DeepEqual(sa, sb) {
		va, vb := reflect.ValueOf(*sa), reflect.ValueOf(*sb)
		for i := range va.NumField() {
			if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
				t.Errorf("snapshot after restore differs in %s:\n got %+v\nwant %+v", va.Type().Field(i).Name, vb.Field(i), va.Field(i))
			}
		}
	}
	// Both go on counting alike: same keys, same counters, same window counts.
	a.AddBatch(records[40_000:])
	b.AddBatch(records[40_000:])
	sa, sb = a.Snapshot(), b.Snapshot()
	if !reflect.DeepEqual(sa.Ports, sb.Ports) || !reflect.DeepEqual(sa.Interfaces, sb.Interfaces) ||
		sa.PortFold != sb.PortFold || sa.InterfaceFold != sb.InterfaceFold || sa.Late != sb.Late {
		t.Errorf("counters diverge after restore")
	}
	for i := range sa.Windows {
		if !reflect.DeepEqual(sa.Windows[i].Ports, sb.Windows[i].Ports) {
			t.Errorf("window %s ports diverge after restore", sa.Windows[i].Width)
		}
	}
}

func TestRestoreRejectsBadState(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, nil)
	a.AddBatch(generated(6, 5000))
	tests := []struct {
		name   string
		break_ func(*State)
		field  string
	}{
		{name: "version", break_: func(s *State) { s.Version = 99 }, field: "Version"},
		{name: "port key", break_: func(s *State) { s.Ports[0].Key = 1 << 30 }, field: "Ports[0].Key"},
		{name: "repeated port key", break_: func(s *State) { s.Ports[1].Key = s.Ports[0].Key }, field: "Ports[1].Key"},
		{name: "flows disagree", break_: func(s *State) { s.Flows++ }, field: "Flows"},
		{name: "interfaces lose other", break_: func(s *State) { s.Interfaces = s.Interfaces[1:] }, field: "Interfaces"},
		{name: "empty interface id", break_: func(s *State) { s.Interfaces[2].ID = "" }, field: "Interfaces[2].ID"},
		{name: "interface flows disagree", break_: func(s *State) { s.Interfaces[3].ByDirection[DirectionUnknown][0].Flows++ }, field: "Interfaces"},
		{name: "too many reasons", break_: func(s *State) { s.Invalid = make([]uint64, 99) }, field: "Invalid"},
		{name: "registers", break_: func(s *State) { s.PortFold.Registers = []byte{1} }, field: "PortFold.Registers"},
		{name: "bucket order", break_: func(s *State) { s.Buckets[1].Num = s.Buckets[0].Num }, field: "Buckets[1].Num"},
		{name: "bucket from the future", break_: func(s *State) { s.Buckets[len(s.Buckets)-1].Num += 1000 }, field: "Buckets[" + itoa(0) + "].Num"},
		{name: "bucket port index", break_: func(s *State) { s.Buckets[0].Ports[0].Index = 1 << 20 }, field: "Buckets[0].Ports[0].Index"},
		{name: "talker error over count", break_: func(s *State) { s.Buckets[0].Talkers[0].Err = s.Buckets[0].Talkers[0].Count + 1 }, field: "Buckets[0].Talkers[0]"},
		{name: "repeated talker", break_: func(s *State) { s.Buckets[0].Talkers[1] = s.Buckets[0].Talkers[0] }, field: "Buckets[0].Talkers[1]"},
		{name: "too many ports", break_: func(s *State) { s.Buckets[0].Rejected[0].Ports = make([]uint16, 65) }, field: "Buckets[0].Rejected[0].Ports"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := a.State()
			tc.break_(st)
			field := tc.field
			if tc.name == "bucket from the future" {
				field = "Buckets[" + itoa(len(st.Buckets)-1) + "].Num"
			}
			b, _ := newTestAggregator(t, nil)
			before := b.Snapshot()
			err := b.Restore(st)
			var se *StateError
			if !errors.As(err, &se) || se.Field != field {
				t.Fatalf("Restore = %v, want a StateError on %s", err, field)
			}
			before.Time = time.Time{}
			after := b.Snapshot()
			after.Time = time.Time{}
			if !reflect.DeepEqual(before, after) {
				t.Errorf("a failed Restore changed the aggregator")
			}
		})
	}
	if err := a.Restore(nil); err == nil {
		t.Errorf("Restore(nil) = nil, want an error")
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestRestoreVersionsAndSketchSizes(t *testing.T) {
	t.Parallel()
	records := generated(8, 20_000)
	tests := []struct {
		name        string
		from, to    func(*Config)
		edit        func(*State)
		wantBuckets bool
	}{
		{name: "version 1: counters kept, windows dropped", edit: func(s *State) { s.Version = 1; toVersion2Counts(s) }},
		{name: "version 2: counters kept under direction unknown, windows kept", edit: func(s *State) { s.Version = 2; toVersion2Counts(s) }, wantBuckets: true},
		{name: "larger sketches than the new configuration holds", from: func(c *Config) { c.HeavyHitterCapacity = 400 },
			to: func(c *Config) { c.HeavyHitterCapacity = 20 }, wantBuckets: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, _ := newTestAggregator(t, tc.from)
			a.AddBatch(records)
			st := a.State()
			if tc.edit != nil {
				tc.edit(st)
			}
			b, _ := newTestAggregator(t, tc.to)
			if err := b.Restore(st); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			sa, sb := a.Snapshot(), b.Snapshot()
			if !reflect.DeepEqual(sa.Ports, sb.Ports) || !reflect.DeepEqual(sa.Interfaces, sb.Interfaces) || sa.Flows != sb.Flows {
				t.Errorf("cumulative counters differ after restore")
			}
			restored := 0
			for i := range b.ring {
				if bk := &b.ring[i]; bk.used {
					restored++
					for _, s := range []struct {
						n, limit int
						floor    uint64
					}{{len(bk.talkers.entries), cap(bk.talkers.entries), bk.talkers.floor}, {len(bk.rejected.entries), cap(bk.rejected.entries), bk.rejected.floor}} {
						if s.n > s.limit {
							t.Errorf("bucket %d: %d sketch entries, holds %d", bk.num, s.n, s.limit)
						}
					}
				}
			}
			if got := restored > 0; got != tc.wantBuckets {
				t.Errorf("%d buckets restored, want some: %v", restored, tc.wantBuckets)
			}
			if !tc.wantBuckets {
				return
			}
			// Dropped entries raise the floor: every talker's bounds still hold its true bytes.
			for i, w := range sb.Windows {
				if !reflect.DeepEqual(w.Ports, sa.Windows[i].Ports) {
					t.Errorf("window %s ports differ after restore", w.Width)
				}
				for _, tt := range w.TopTalkers {
					var truth uint64
					for _, r := range records {
						if r.Present.Has(parse.FieldStart) && r.SrcAddr == tt.Src && r.DstAddr == tt.Dst && r.Action != parse.ActionNone &&
							r.Start >= w.Start.Unix() && r.Start < w.End.Unix() && r.LogStatus == parse.LogStatusOK {
							truth += r.Bytes
						}
					}
					if tt.Bytes+tt.MaxError < truth || tt.Bytes > truth+tt.MaxError {
						t.Errorf("window %s talker %s->%s: %d bytes ± %d, true %d", w.Width, tt.Src, tt.Dst, tt.Bytes, tt.MaxError, truth)
					}
				}
			}
		})
	}
}

// toVersion2Counts rewrites s's counters as a version 1 or 2 state holds them: by action only.
func toVersion2Counts(s *State) {
	for i := range s.Ports {
		p := &s.Ports[i]
		for _, byAct := range p.ByDirection {
			p.Counts[0].plus(byAct[0])
			p.Counts[1].plus(byAct[1])
		}
		p.ByDirection = byDirection{}
	}
	for i := range s.Interfaces {
		in := &s.Interfaces[i]
		for _, byAct := range in.ByDirection {
			in.Counts[0].plus(byAct[0])
			in.Counts[1].plus(byAct[1])
		}
		in.ByDirection = byDirection{}
	}
	s.Network, s.Rejected, s.Dimensions, s.DimensionFolds = nil, nil, nil, nil
}
