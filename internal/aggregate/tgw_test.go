package aggregate

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/flowd-dev/flowd/internal/parse"
)

// TestTGWCounts feeds transit gateway records of the default TGW format through the real
// parser and checks every count against a plain tally, with the attachment cap folding.
func TestTGWCounts(t *testing.T) {
	t.Parallel()
	a, _ := newTestAggregator(t, func(c *Config) { c.MaxTGWAttachments = 3 })
	format := parse.MustCompile(parse.TransitGatewayDefaultFormat)
	rng := rand.New(rand.NewPCG(3, 4))
	type key struct {
		att string
		rt  parse.ResourceType
		dir parse.FlowDirection
	}
	want := map[key]Counts{}
	lost := map[string][numLostReasons]uint64{}
	seen := []string{}
	var records, nodata uint64
	for i := range 2000 {
		att := fmt.Sprintf("tgw-attach-%017d", rng.IntN(6))
		if i%97 == 0 {
			line := "6 TransitGateway 123456789012 tgw-1 " + att + " - - - - - - - - - - - - - - - - - - 1718000120 1718000180 NODATA - - - - - - us-east-1 - - -"
			addLine(t, a, format, line)
			records++
			nodata++
			continue
		}
		rt := []string{"TransitGateway", "TransitGatewayAttachment"}[rng.IntN(2)]
		dir := []string{"ingress", "egress"}[rng.IntN(2)]
		pk, by := 1+rng.IntN(100), 40+rng.IntN(100000)
		l := [4]int{rng.IntN(3), rng.IntN(3), rng.IntN(2), rng.IntN(2)}
		line := fmt.Sprintf("6 %s 123456789012 tgw-1 %s 123456789012 - vpc-1 - subnet-1 - eni-1 - use1-az1 - - 10.0.0.1 10.1.0.1 50000 443 6 %d %d 1718000000 1718000060 OK IPv4 %d %d %d %d 2 us-east-1 %s - -",
			rt, att, pk, by, l[0], l[1], l[2], l[3], dir)
		addLine(t, a, format, line)
		records++
		if !contains(seen, att) && len(seen) < 3 {
			seen = append(seen, att)
		}
		name := att
		if !contains(seen, att) {
			name = OtherInterface
		}
		var r parse.Record
		_ = format.Parse(line, &r)
		k := key{name, r.ResourceType, r.FlowDirection}
		c := want[k]
		c.add(uint64(pk), uint64(by))
		want[k] = c
		ls := lost[name]
		for j := range ls {
			ls[j] += uint64(l[j])
		}
		lost[name] = ls
	}
	s := a.Snapshot()
	if s.Flows != 0 || s.Totals[0].Counts != (Counts{}) || s.Totals[1].Counts != (Counts{}) {
		t.Errorf("transit gateway records counted as VPC flows: %d flows, totals %+v", s.Flows, s.Totals)
	}
	if s.TGW.Records != records || s.TGW.NoData != nodata || s.TGW.Flows != records-nodata {
		t.Errorf("records %d, nodata %d, flows %d; want %d, %d, %d", s.TGW.Records, s.TGW.NoData, s.TGW.Flows, records, nodata, records-nodata)
	}
	got := map[key]Counts{}
	for _, c := range s.TGW.Attachments {
		got[key{c.AttachmentID, c.ResourceType, c.FlowDirection}] = c.Counts
	}
	if len(got) != len(want) {
		t.Errorf("%d attachment keys, want %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%+v: %+v, want %+v", k, got[k], w)
		}
	}
	gotLost := map[string][numLostReasons]uint64{}
	for _, l := range s.TGW.Lost {
		ls := gotLost[l.AttachmentID]
		ls[l.Reason] = l.Packets
		gotLost[l.AttachmentID] = ls
	}
	for k, w := range lost {
		if gotLost[k] != w {
			t.Errorf("lost %s: %v, want %v", k, gotLost[k], w)
		}
	}
	if s.TGW.AttachmentFold.Records == 0 || s.TGW.AttachmentFold.DistinctKeys != 3 {
		t.Errorf("fold %+v: want records and 3 distinct ids", s.TGW.AttachmentFold)
	}
	if len(s.TGW.Ports) != 1 || s.TGW.Ports[0].Port != 443 || s.TGW.Ports[0].Counts != s.TGW.Totals {
		t.Errorf("ports %+v, totals %+v", s.TGW.Ports, s.TGW.Totals)
	}
}

func addLine(t *testing.T, a *Aggregator, f *parse.Format, line string) {
	t.Helper()
	var r parse.Record
	if err := f.Parse(line, &r); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	a.Add(&r)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestCountsSaturate checks that sums stop at 2^64-1 instead of wrapping.
func TestCountsSaturate(t *testing.T) {
	t.Parallel()
	var c Counts
	c.add(1<<63-1, 1<<63-1)
	c.add(1<<63-1, 1<<63-1)
	c.add(1<<63-1, 1<<63-1)
	if c.Bytes != 1<<64-1 || c.Packets != 1<<64-1 || c.Flows != 3 {
		t.Errorf("counts %+v: want saturated sums", c)
	}
}

// TestTGWStateRoundTrip checkpoints transit gateway counters through gob, restores them into a
// new aggregator and checks that both then count the same: a restart neither loses nor
// repeats them. A state without TGW (written before they existed) restores with zeros.
func TestTGWStateRoundTrip(t *testing.T) {
	t.Parallel()
	format := parse.MustCompile(parse.TransitGatewayDefaultFormat)
	line := func(att string, lost int) string {
		return fmt.Sprintf("6 TransitGateway 1 tgw-1 %s 1 - vpc-1 - subnet-1 - eni-1 - az1 - - 10.0.0.1 10.1.0.1 50000 443 6 5 500 1699999000 1699999060 OK IPv4 %d 0 0 0 2 us-east-1 ingress - -", att, lost)
	}
	a, _ := newTestAggregator(t, func(c *Config) { c.MaxTGWAttachments = 2 })
	for i := range 30 {
		addLine(t, a, format, line(fmt.Sprintf("tgw-attach-%d", i%4), i%3))
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(a.State()); err != nil {
		t.Fatal(err)
	}
	var st State
	if err := gob.NewDecoder(&buf).Decode(&st); err != nil {
		t.Fatal(err)
	}
	b, _ := newTestAggregator(t, func(c *Config) { c.MaxTGWAttachments = 2 })
	if err := b.Restore(&st); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		l := line(fmt.Sprintf("tgw-attach-%d", i%5), 1)
		addLine(t, a, format, l)
		addLine(t, b, format, l)
	}
	sa, sb := a.Snapshot().TGW, b.Snapshot().TGW
	if !reflect.DeepEqual(sa, sb) || sa.Records != 40 || sa.AttachmentFold.Records == 0 {
		t.Errorf("restored counters differ\n got %+v\nwant %+v", sb, sa)
	}
	st.TGW = nil
	c, _ := newTestAggregator(t, nil)
	if err := c.Restore(&st); err != nil || c.Snapshot().TGW.Records != 0 {
		t.Errorf("state without TGW: %v, records %d", err, c.Snapshot().TGW.Records)
	}
	bad := a.State()
	bad.TGW.Flows++
	if err := c.Restore(bad); err == nil || !strings.Contains(err.Error(), "TGW.Attachments") {
		t.Errorf("inconsistent TGW state: %v", err)
	}
}
