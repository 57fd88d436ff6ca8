package simulate

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

func TestDeterminism(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Scenario = ScenarioDemo
	end := testStart.Add(30 * time.Minute)

	whole := newSim(t, cfg).Advance(end)
	if len(whole) == 0 {
		t.Fatal("no deliveries in 30 minutes")
	}
	t.Run("same seed, same output", func(t *testing.T) {
		t.Parallel()
		again := newSim(t, cfg).Advance(end)
		if !reflect.DeepEqual(whole, again) {
			t.Fatal("two simulators with the same config differ")
		}
	})
	t.Run("call pattern does not matter", func(t *testing.T) {
		t.Parallel()
		s := newSim(t, cfg)
		var stepped []Delivery
		for at := testStart; !at.After(end); at = at.Add(7 * time.Second) {
			stepped = append(stepped, s.Advance(at)...)
		}
		stepped = append(stepped, s.Advance(end)...)
		if !reflect.DeepEqual(whole, stepped) {
			t.Fatalf("stepped Advance gave %d deliveries, one call %d, or different content", len(stepped), len(whole))
		}
	})
	t.Run("other seed, other output", func(t *testing.T) {
		t.Parallel()
		c := cfg
		c.Seed++
		other := newSim(t, c).Advance(end)
		if reflect.DeepEqual(whole, other) {
			t.Fatal("seeds 1 and 2 gave the same output")
		}
	})
	t.Run("advancing backwards returns nothing", func(t *testing.T) {
		t.Parallel()
		s := newSim(t, cfg)
		s.Advance(end)
		if got := s.Advance(testStart); len(got) != 0 {
			t.Fatalf("Advance to an earlier time returned %d deliveries", len(got))
		}
	})
}

// formatCases are the formats every property must hold in.
var formatCases = []struct {
	name, spec string
}{
	{"default v2", parse.DefaultFormat},
	{"seed v3 (Terraform spelling)", SeedFormat},
	{"full v5", FullV5Format},
	{"custom without action and interface", "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${bytes} ${start} ${end} ${log-status}"},
	{"S3 header spelling, reordered, opaque column", "log-status start interface-id action resource-id packets srcaddr"},
}

func TestEveryLineParsesAndTruthMatchesRecount(t *testing.T) {
	t.Parallel()
	for _, tc := range formatCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.Scenario = ScenarioDemo
			cfg.Format = mustCompile(t, tc.spec)
			s := newSim(t, cfg)
			var ds []Delivery
			for m := 1; m <= 25; m++ {
				ds = append(ds, s.Advance(testStart.Add(time.Duration(m)*time.Minute))...)
			}
			got := s.Delivered()
			want := recount(t, cfg.Format, ds, true)
			checkReplies(t, got, cfg.Format.Has(parse.FieldAction))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Delivered truth differs from the recount of %d events:\n got %+v\nwant %+v", want.Events, got.ByAction, want.ByAction)
			}
			if got.Events == 0 {
				t.Fatal("nothing delivered")
			}
			gen, pend := s.Generated(), s.Pending()
			if gen.Events != got.Events+pend.Events {
				t.Fatalf("generated %d != delivered %d + pending %d", gen.Events, got.Events, pend.Events)
			}
			if pend.Events == 0 {
				t.Fatal("nothing pending: the delays should hold some batches back")
			}
			// Once every batch is due, everything generated is delivered and nothing is pending.
			ds = append(ds, s.Advance(testStart.Add(25*time.Minute+cfg.StragglerMax+time.Minute))...)
			full := recount(t, cfg.Format, ds, true)
			gen2, del2 := s.Generated(), s.Delivered()
			checkReplies(t, del2, cfg.Format.Has(parse.FieldAction))
			if gen2.Events <= gen.Events || !reflect.DeepEqual(del2, full) {
				t.Fatalf("after the last delivery: generated %d (before %d), delivered truth equal to recount: %v",
					gen2.Events, gen.Events, reflect.DeepEqual(del2, full))
			}
		})
	}
}

func TestGeneratedTruthMatchesLaterDeliveries(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cut := testStart.Add(17*time.Minute + 30*time.Second)
	a := newSim(t, cfg)
	a.Advance(cut)
	gen := a.Generated()

	b := newSim(t, cfg)
	var early []Delivery
	for _, d := range b.Advance(cut.Add(time.Hour)) {
		if !d.WindowEnd.After(cut) {
			early = append(early, d)
		}
	}
	checkReplies(t, gen, false) // steady: no ACL in the way
	if want := recount(t, cfg.Format, early, true); !reflect.DeepEqual(gen, want) {
		t.Fatalf("Generated at the cut (%d events) differs from the recount of the windows ended by then (%d events)", gen.Events, want.Events)
	}
}

func TestDeliveryTimes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                 string
		min, max, stragglers time.Duration
		fraction             float64
		interval             time.Duration
	}{
		{"short delays", 5 * time.Second, 30 * time.Second, 0, 0, time.Minute},
		{"late delivery 0-15 min", 0, 15 * time.Minute, 0, 0, time.Minute},
		{"realistic with stragglers", time.Minute, 6 * time.Minute, 20 * time.Minute, 0.1, time.Minute},
		{"10 minute interval", time.Minute, 6 * time.Minute, 0, 0, 10 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.DelayMin, cfg.DelayMax = tc.min, tc.max
			cfg.StragglerFraction, cfg.StragglerMax = tc.fraction, tc.stragglers
			cfg.Interval = tc.interval
			s := newSim(t, cfg)
			prev := testStart
			var last time.Time
			stragglers := 0
			var total int
			for at := testStart; at.Before(testStart.Add(2 * time.Hour)); at = at.Add(23 * time.Second) {
				for _, d := range s.Advance(at) {
					total++
					if d.DeliverAt.Before(last) {
						t.Fatalf("deliveries out of order: %v after %v", d.DeliverAt, last)
					}
					last = d.DeliverAt
					if d.DeliverAt.After(at) || !d.DeliverAt.After(prev) {
						t.Fatalf("delivery due %v returned by Advance(%v) (previous call %v)", d.DeliverAt, at, prev)
					}
					delay := d.DeliverAt.Sub(d.WindowEnd)
					hi := tc.max
					if tc.fraction > 0 {
						hi = tc.stragglers
					}
					if delay < tc.min || delay > hi {
						t.Fatalf("delay %v outside [%v, %v]", delay, tc.min, hi)
					}
					if delay > tc.max {
						stragglers++
					}
					if w := d.WindowEnd.Sub(d.WindowStart); w != tc.interval {
						t.Fatalf("window %v, want %v", w, tc.interval)
					}
					if d.WindowStart.Before(testStart) {
						t.Fatalf("window starts %v, before Start", d.WindowStart)
					}
					checkBatch(t, cfg.Format, d)
				}
				prev = at
			}
			if total == 0 {
				t.Fatal("no deliveries")
			}
			if tc.fraction > 0 && stragglers == 0 {
				t.Fatalf("no stragglers among %d deliveries with StragglerFraction %v", total, tc.fraction)
			}
		})
	}
}

// checkBatch checks a batch's events: sorted, timestamp = start*1000, start and end in the window.
func checkBatch(t *testing.T, f *parse.Format, d Delivery) {
	t.Helper()
	if f == nil {
		f = mustCompile(t, parse.DefaultFormat)
	}
	if len(d.Events) == 0 {
		t.Fatalf("empty batch for %s", d.Stream)
	}
	if !slices.IsSortedFunc(d.Events, byTimestamp) {
		t.Fatalf("events of %s not in timestamp order", d.Stream)
	}
	if d.Stream != d.Interface+"-all" {
		t.Fatalf("stream %q for interface %q", d.Stream, d.Interface)
	}
	ws, we := d.WindowStart.Unix(), d.WindowEnd.Unix()
	var r parse.Record
	for _, e := range d.Events {
		if err := f.Parse(e.Message, &r); err != nil {
			t.Fatalf("parse %q: %v", e.Message, err)
		}
		if e.Timestamp != r.Start*1000 {
			t.Fatalf("timestamp %d, start %d: %q", e.Timestamp, r.Start, e.Message)
		}
		if r.Start < ws || r.Start >= we || r.End < r.Start || r.End > we {
			t.Fatalf("start %d end %d outside window [%d, %d]: %q", r.Start, r.End, ws, we, e.Message)
		}
		if r.InterfaceID != d.Interface {
			t.Fatalf("interface-id %q in stream %s", r.InterfaceID, d.Stream)
		}
	}
}

func TestTrafficContent(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Format = mustCompile(t, FullV5Format)
	s := newSim(t, cfg)
	recs := parsed(t, cfg.Format, s.Advance(testStart.Add(time.Hour)))

	var ipv6, icmp, udp, nodata, skipdata, sshRejected, rdpRejected, web, db, aws int
	talkers := map[string]uint64{}
	var totalBytes uint64
	for i := range recs {
		r := &recs[i]
		switch r.LogStatus {
		case parse.LogStatusNoData:
			nodata++
			continue
		case parse.LogStatusSkipData:
			skipdata++
			continue
		}
		if r.SrcAddr.Is6() {
			ipv6++
			if r.Type != parse.TrafficTypeIPv6 {
				t.Fatalf("IPv6 record typed %v", r.Type)
			}
		}
		switch r.Protocol {
		case 1, 58:
			icmp++
		case 17:
			udp++
		}
		if r.Action == parse.ActionReject && r.DstPort == 22 {
			sshRejected++
		}
		if r.Action == parse.ActionReject && r.DstPort == 3389 {
			rdpRejected++
		}
		if r.Action == parse.ActionAccept && (r.DstPort == 443 || r.DstPort == 80) && r.FlowDirection == parse.FlowDirectionIngress {
			web++
		}
		if r.Action == parse.ActionAccept && (r.DstPort == 5432 || r.DstPort == 3306) {
			db++
		}
		if r.PktDstAWSService != "" {
			aws++
		}
		if r.SrcPort == 53 || r.DstPort == 53 {
			t.Fatalf("DNS traffic in %+v: AWS does not log Amazon DNS", r)
		}
		if r.Action == parse.ActionAccept && r.SrcAddr.Is4() && r.SrcAddr.As4()[0] == 10 {
			continue
		}
		talkers[r.SrcAddr.String()] += r.Bytes
		totalBytes += r.Bytes
	}
	for name, n := range map[string]int{"IPv6": ipv6, "ICMP": icmp, "UDP": udp, "NODATA": nodata, "SKIPDATA": skipdata,
		"rejected SSH": sshRejected, "rejected RDP": rdpRejected, "accepted web": web, "database": db, "AWS service": aws} {
		if n == 0 {
			t.Errorf("no %s records among %d", name, len(recs))
		}
	}
	// Heavy hitters: the top 1% of outside sources carry a large share of their bytes.
	sizes := make([]uint64, 0, len(talkers))
	for _, b := range talkers {
		sizes = append(sizes, b)
	}
	slices.Sort(sizes)
	slices.Reverse(sizes)
	var top uint64
	for _, b := range sizes[:max(1, len(sizes)/100)] {
		top += b
	}
	if top*5 < totalBytes {
		t.Errorf("top 1%% of %d sources carry %d of %d bytes: not skewed", len(sizes), top, totalBytes)
	}
}

func TestInterfaces(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Interfaces = MaxInterfaces
	s := newSim(t, cfg)
	ifs := s.Interfaces()
	seen := map[string]bool{}
	addrs := map[string]bool{}
	roles := map[string]int{}
	for _, f := range ifs {
		if len(f.ID) != len("eni-0123456789abcdef0") || f.Stream != f.ID+"-all" {
			t.Fatalf("bad id or stream: %+v", f)
		}
		if seen[f.ID] || addrs[f.IPv4.String()] || addrs[f.IPv6.String()] {
			t.Fatalf("duplicate id or address: %+v", f)
		}
		seen[f.ID], addrs[f.IPv4.String()], addrs[f.IPv6.String()] = true, true, true
		if !f.IPv4.IsPrivate() || !f.IPv6.Is6() {
			t.Fatalf("addresses %v %v", f.IPv4, f.IPv6)
		}
		roles[f.Role]++
	}
	if ifs[0].Role != "web" || roles["web"] == 0 || roles["app"] == 0 || roles["db"] == 0 || roles["idle"] == 0 {
		t.Fatalf("roles %v, interface 0 %s", roles, ifs[0].Role)
	}
}

func TestSecondVPC(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Start = time.Unix(1_700_000_000, 0)
	one, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.VPCs = 2
	two, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, b := one.Interfaces(), two.Interfaces()
	if a[0] != b[0] {
		t.Errorf("interface 0 changed with a second VPC: %+v, was %+v", b[0], a[0])
	}
	vpcs, subnets := map[string]bool{}, map[string]bool{}
	for i, ifc := range b {
		vpcs[ifc.VPCID] = true
		subnets[ifc.SubnetID] = true
		second := ifc.IPv4.As4()[1] == 1
		if second != (i%2 == 1) || (ifc.VPCID == two.VPCID()) == second {
			t.Errorf("interface %d: %s in %s, want VPC %d", i, ifc.IPv4, ifc.VPCID, i%2)
		}
	}
	if len(vpcs) != 2 || len(subnets) < 6 {
		t.Errorf("%d VPCs and %d subnets, want 2 and several", len(vpcs), len(subnets))
	}
	cfg.VPCs = MaxVPCs + 1
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "VPCs") {
		t.Errorf("New with %d VPCs = %v, want an error naming VPCs", cfg.VPCs, err)
	}
}

// checkReplies checks the truth's RejectedReplies (the generator's knowledge, which a recount of
// the messages cannot have) against its own rejected counts, then drops them so the rest can be
// compared with a recount: every rejected reply is a rejected record of its interface, and the
// demo scenario has some when the format has an action.
func checkReplies(t *testing.T, tr *Truth, withAction bool) {
	t.Helper()
	perIface := map[string]uint64{}
	for k, c := range tr.RejectedReplies {
		perIface[k.Interface] += c.Flows
	}
	for id, n := range perIface {
		if rej := tr.ByInterface[InterfaceKey{Action: parse.ActionReject, Interface: id}].Flows; n > rej {
			t.Errorf("%s: %d rejected replies, but only %d rejected records", id, n, rej)
		}
	}
	if withAction && len(tr.RejectedReplies) == 0 {
		t.Errorf("no rejected replies in the truth")
	}
	tr.RejectedReplies = nil
}
