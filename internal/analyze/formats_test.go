package analyze

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// v5Names is a 10-field custom format, told apart from the default (14 fields) by its count.
var v5Names = strings.Fields("version interface-id srcaddr dstaddr protocol packets bytes action log-status flow-direction")

// plainCount counts lines the plain way: the format is the one of names whose length is the
// line's field count (a header line, if headers is set, replaces the formats); totals by action.
type plainCount struct {
	records, unmatched, headers uint64
	totals                      map[string]Counts
}

func countPlain(text string, headers bool, formats ...[]string) plainCount {
	c := plainCount{totals: map[string]Counts{}}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "\ufeff")
		if line == "" {
			continue
		}
		fields := strings.Fields(line)
		if headers && (fields[0] == "version" || fields[0] == "interface-id") {
			formats = [][]string{fields}
			c.headers++
			continue
		}
		var names []string
		for _, f := range formats {
			if len(f) == len(fields) {
				names = f
			}
		}
		if names == nil {
			c.unmatched++
			continue
		}
		c.records++
		v := map[string]string{}
		for i, n := range names {
			v[n] = fields[i]
		}
		if v["action"] == "-" {
			continue
		}
		p, _ := strconv.ParseUint(v["packets"], 10, 64)
		b, _ := strconv.ParseUint(v["bytes"], 10, 64)
		t := c.totals[v["action"]]
		t.Flows, t.Packets, t.Bytes = t.Flows+1, t.Packets+p, t.Bytes+b
		c.totals[v["action"]] = t
	}
	return c
}

// mixedLines returns n lines alternating between the default format, the 10-field format and,
// every seventh line, a line of neither (11 fields).
func mixedLines(n int) string {
	var b strings.Builder
	for i := range n {
		act := []string{"ACCEPT", "REJECT"}[i%3%2]
		switch {
		case i%7 == 6:
			fmt.Fprintf(&b, "2 123456789012 eni-%04d 10.0.0.1 10.0.0.2 443 50000 6 %d %d 1718000000\n", i%5, 1+i%4, 100*(i+1))
		case i%2 == 0:
			fmt.Fprintf(&b, "2 123456789012 eni-%04d 10.0.0.1 10.0.0.2 443 50000 6 %d %d 1718000000 1718000060 %s OK\n", i%5, 1+i%4, 100*(i+1), act)
		default:
			fmt.Fprintf(&b, "5 eni-%04d 10.0.1.1 10.0.1.2 1 %d %d %s OK ingress\n", i%5, 2+i%3, 60*(i+1), act)
		}
	}
	return b.String()
}

func runOptions(t *testing.T, opts Options, stdin string) (*Report, string) {
	t.Helper()
	var warn bytes.Buffer
	opts.Warnings = &warn
	opts.Output = OutputJSON
	var out bytes.Buffer
	if err := Run(context.Background(), opts, strings.NewReader(stdin), &out); err != nil {
		t.Fatal(err)
	}
	rep := decodeReport(t, out.Bytes())
	return rep, warn.String()
}

func decodeReport(t *testing.T, b []byte) *Report {
	t.Helper()
	var rep Report
	if err := jsonUnmarshal(b, &rep); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	return &rep
}

// TestSeveralLogFormats checks that each line is read in the format of its field count, and that
// a line of neither is malformed as "unmatched", against the plain count.
func TestSeveralLogFormats(t *testing.T) {
	t.Parallel()
	text := mixedLines(500)
	want := countPlain(text, false, defaultNames, v5Names)
	opts := DefaultOptions()
	opts.LogFormats = []string{"", strings.Join(v5Names, " ")}
	opts.LogFormats[0] = strings.Join(defaultNames, " ")
	rep, _ := runOptions(t, opts, text)
	if rep.Records != want.records || rep.MalformedReasons["unmatched"] != want.unmatched || rep.Malformed != want.unmatched {
		t.Errorf("records %d, malformed %v; want %d records, %d unmatched", rep.Records, rep.MalformedReasons, want.records, want.unmatched)
	}
	if want.unmatched == 0 || want.records == 0 {
		t.Fatal("the mix checks nothing")
	}
	for _, act := range []string{"ACCEPT", "REJECT"} {
		if rep.Totals[act] != want.totals[act] {
			t.Errorf("totals[%s] = %+v, want %+v", act, rep.Totals[act], want.totals[act])
		}
	}
	if len(rep.Files) != 1 || len(rep.Files[0].Formats) != 2 {
		t.Errorf("files %+v: want one input read in two formats", rep.Files)
	}
}

// TestSameFieldCountRefused checks that two formats of one field count are a usage error.
func TestSameFieldCountRefused(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.LogFormats = []string{"version srcaddr", "version dstaddr"}
	err := Run(context.Background(), opts, strings.NewReader(""), &bytes.Buffer{})
	if ue := (*UsageError)(nil); !errors.As(err, &ue) || !strings.Contains(err.Error(), "field count") {
		t.Errorf("Run = %v, want a usage error about field counts", err)
	}
}

// TestConcatenatedS3Objects checks that every header of concatenated S3 objects (one gzip member
// each, formats differing, a byte-order mark before the first) sets the format of its records.
func TestConcatenatedS3Objects(t *testing.T) {
	t.Parallel()
	var objects []string
	var plain strings.Builder
	for k := range 4 {
		var obj strings.Builder
		if k == 0 {
			obj.WriteString("\ufeff")
		}
		names := defaultNames
		if k%2 == 1 {
			names = v5Names
		}
		obj.WriteString(strings.Join(names, " ") + "\n")
		for i := range 50 {
			act := []string{"ACCEPT", "REJECT"}[(i+k)%2]
			if k%2 == 1 {
				fmt.Fprintf(&obj, "5 eni-%d 10.0.1.1 10.0.1.2 1 %d %d %s OK egress\n", k, 1+i, 70*(i+k), act)
			} else {
				fmt.Fprintf(&obj, "2 123456789012 eni-%d 10.0.0.1 10.0.0.2 443 50000 6 %d %d 1718000000 1718000060 %s OK\n", k, 1+i, 90*(i+k), act)
			}
		}
		objects = append(objects, obj.String())
		plain.WriteString(obj.String())
	}
	var gz bytes.Buffer
	for _, o := range objects { // one gzip member per object, as concatenated S3 objects are
		zw := gzip.NewWriter(&gz)
		if _, err := zw.Write([]byte(o)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "objects.log.gz")
	if err := os.WriteFile(path, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	want := countPlain(plain.String(), true)
	if want.headers != 4 || want.records != 200 {
		t.Fatalf("plain count %+v", want)
	}
	opts := DefaultOptions()
	opts.Files = []string{path}
	rep, _ := runOptions(t, opts, "")
	if rep.Records != want.records || rep.Malformed != 0 {
		t.Errorf("records %d, malformed %d (%v); want %d, 0", rep.Records, rep.Malformed, rep.MalformedExamples, want.records)
	}
	for _, act := range []string{"ACCEPT", "REJECT"} {
		if rep.Totals[act] != want.totals[act] {
			t.Errorf("totals[%s] = %+v, want %+v", act, rep.Totals[act], want.totals[act])
		}
	}
	if f := rep.Files[0]; !f.Header || len(f.Formats) != 2 || f.Lines != 204 {
		t.Errorf("file %+v: want headers, two formats, 204 lines", f)
	}
}

// TestFormatWarnings checks that a misspelled field gets a warning naming the nearest known
// name, on the warnings writer and in the report, once.
func TestFormatWarnings(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.LogFormats = []string{strings.Replace(strings.Join(defaultNames, " "), "action", "actoin", 1)}
	line := "2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 50000 6 1 100 1718000000 1718000060 ACCEPT OK\n"
	rep, warn := runOptions(t, opts, line+line)
	for _, want := range []string{`unknown field "actoin" (did you mean "action"?)`, "lacks ${action}"} {
		if !strings.Contains(warn, want) {
			t.Errorf("warnings %q lack %q", warn, want)
		}
	}
	if len(rep.Warnings) != 2 || strings.Count(warn, "\n") != 2 {
		t.Errorf("report warnings %q, written %q: want 2 each", rep.Warnings, warn)
	}
	if rep.Uncounted["no_action"] != 2 {
		t.Errorf("uncounted %v", rep.Uncounted)
	}
}

var jsonUnmarshal = json.Unmarshal

// TestTransitGatewayReport reads the transit gateway default format beside VPC lines (each
// chosen by field count) and checks the TGW section against a plain count; no TGW record may
// appear under an action.
func TestTransitGatewayReport(t *testing.T) {
	t.Parallel()
	tgwNames := strings.Fields("version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service")
	var b strings.Builder
	type tally struct{ flows, packets, bytes, blackhole, noRoute uint64 }
	want := map[string]*tally{}
	var vpc Counts
	for i := range 300 {
		if i%3 == 0 {
			fmt.Fprintf(&b, "2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 50000 6 2 %d 1718000000 1718000060 ACCEPT OK\n", 50+i)
			vpc.Flows, vpc.Packets, vpc.Bytes = vpc.Flows+1, vpc.Packets+2, vpc.Bytes+uint64(50+i)
			continue
		}
		att := fmt.Sprintf("tgw-attach-%d", i%4)
		pk, by, bh, nr := 1+i%5, 100+i, i%3, i%2
		fmt.Fprintf(&b, "6 TransitGateway 123456789012 tgw-1 %s 123456789012 - vpc-1 - subnet-1 - eni-1 - use1-az1 - - 10.0.0.1 10.1.0.1 50000 443 6 %d %d 1718000000 1718000060 OK IPv4 %d %d 0 0 2 us-east-1 egress - -\n",
			att, pk, by, nr, bh)
		w := want[att]
		if w == nil {
			w = &tally{}
			want[att] = w
		}
		w.flows, w.packets, w.bytes, w.blackhole, w.noRoute = w.flows+1, w.packets+uint64(pk), w.bytes+uint64(by), w.blackhole+uint64(bh), w.noRoute+uint64(nr)
	}
	opts := DefaultOptions()
	opts.LogFormats = []string{strings.Join(defaultNames, " "), strings.Join(tgwNames, " ")}
	rep, warn := runOptions(t, opts, b.String())
	if warn != "" {
		t.Errorf("warnings %q", warn)
	}
	if rep.Totals["ACCEPT"] != vpc || rep.Flows != vpc.Flows || rep.Records != 300 {
		t.Errorf("VPC totals %+v, flows %d, records %d; want %+v, %d, 300", rep.Totals, rep.Flows, rep.Records, vpc, vpc.Flows)
	}
	if rep.TGW.Records != 200 || rep.TGW.Flows != 200 || len(rep.TGW.Attachments) != len(want) {
		t.Fatalf("tgw %+v", rep.TGW)
	}
	for _, a := range rep.TGW.Attachments {
		w := want[a.AttachmentID]
		if w == nil || a.Counts != (Counts{Flows: w.flows, Packets: w.packets, Bytes: w.bytes}) {
			t.Errorf("attachment %+v, want %+v", a, w)
		}
	}
	for _, l := range rep.TGW.Lost {
		w := want[l.AttachmentID]
		if got := map[string]uint64{"blackhole": w.blackhole, "no_route": w.noRoute}[l.Reason]; got != l.Packets {
			t.Errorf("lost %+v, want %d", l, got)
		}
	}
	rows := 0
	for _, w := range want {
		rows += min(int(w.blackhole), 1) + min(int(w.noRoute), 1)
	}
	if len(rep.TGW.Lost) != rows || rows == 0 {
		t.Errorf("lost rows %+v", rep.TGW.Lost)
	}
}

// TestLateIndependentOfOrder reads the AWS documentation's default-format examples (2014 to
// 2016, so most are older than a 7-day window) oldest first and newest first: late must be
// the same, and equal the plain count of flows that start before the window.
func TestLateIndependentOfOrder(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "parse", "testdata", "formats", "default.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i, l := range strings.Split(string(data), "\n") {
		if i == 0 || strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			continue
		}
		lines = append(lines, l)
	}
	start := func(l string) int64 { n, _ := strconv.ParseInt(strings.Fields(l)[10], 10, 64); return n }
	slices.SortStableFunc(lines, func(a, b string) int { return cmp.Compare(start(a), start(b)) })
	oldest := strings.Join(lines, "\n") + "\n"
	slices.Reverse(lines)
	newest := strings.Join(lines, "\n") + "\n"
	a, _ := runOptions(t, DefaultOptions(), oldest)
	b, _ := runOptions(t, DefaultOptions(), newest)
	if a.FirstWindowStart == nil {
		t.Fatal("no window")
	}
	var want uint64
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 14 && f[13] == "OK" && f[12] != "-" && start(l) < a.FirstWindowStart.Unix() {
			want++
		}
	}
	if a.Late != b.Late || a.Late != want || want == 0 {
		t.Errorf("late: oldest first %d, newest first %d; want %d for both", a.Late, b.Late, want)
	}
}

// TestParquetRefused checks that a Parquet object (a file the test writes: the magic number, a
// body and the magic again, as every Parquet file has) is refused with one message that says
// what it is, not read as a dozen malformed lines.
func TestParquetRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "flows.parquet")
	if err := os.WriteFile(path, []byte("PAR1\x15\x00\x15\x1c\x2c\x00version srcaddr\x00PAR1"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Files = []string{"testdata/plain.log", path}
	err := Run(context.Background(), opts, strings.NewReader(""), &bytes.Buffer{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Name != path || !strings.Contains(err.Error(), "Parquet") {
		t.Errorf("Run = %v, want an input error naming the Parquet file", err)
	}
}

// TestTransitGatewayTable checks the table's transit gateway section, from the parser's TGW
// testdata (an S3 header, then the records).
func TestTransitGatewayTable(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "parse", "testdata", "formats", "tgw-default.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "#") && l != "" {
			in.WriteString(l + "\n")
		}
	}
	opts := DefaultOptions()
	opts.Warnings = nil
	var out bytes.Buffer
	if err := Run(context.Background(), opts, strings.NewReader(in.String()), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TRANSIT GATEWAY", "(no action)", "TOP TGW ATTACHMENTS", "tgw-attach-0123456789abcdef0  blackhole     6"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
