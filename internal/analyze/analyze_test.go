package analyze

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// defaultNames are the columns of the default format.
var defaultNames = strings.Fields("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status")

// expected is an independent count of testdata files: strings.Fields and strconv, no flowd code.
type expected struct {
	records, malformed, nodata, skipdata uint64
	totals                               map[string]Counts
	ports                                map[string]Counts // "ACTION/proto/port"
	ifaces                               map[string]Counts // "ACTION/eni"
	uncounted                            uint64
}

func recount(t *testing.T, files ...string) expected {
	t.Helper()
	e := expected{totals: map[string]Counts{}, ports: map[string]Counts{}, ifaces: map[string]Counts{}}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		if strings.HasSuffix(name, ".gz") {
			if r, err = gzip.NewReader(f); err != nil {
				t.Fatal(err)
			}
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		names := defaultNames
		first := true
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			if first && strings.HasPrefix(name, "testdata/s3") {
				names, first = strings.Fields(line), false
				continue
			}
			first = false
			v := map[string]string{}
			fields := strings.Fields(line)
			if len(fields) != len(names) || len(line) > 64<<10 {
				e.malformed++
				continue
			}
			for i, n := range names {
				v[n] = fields[i]
			}
			if !valid(v) {
				e.malformed++
				continue
			}
			e.records++
			switch v["log-status"] {
			case "NODATA":
				e.nodata++
				continue
			case "SKIPDATA":
				e.skipdata++
				continue
			}
			if v["action"] == "-" || v["packets"] == "-" || v["bytes"] == "-" {
				e.uncounted++
				continue
			}
			p, _ := strconv.ParseUint(v["packets"], 10, 64)
			b, _ := strconv.ParseUint(v["bytes"], 10, 64)
			sp, _ := strconv.Atoi(v["srcport"])
			dp, _ := strconv.Atoi(v["dstport"])
			port := 0
			if v["protocol"] == "6" || v["protocol"] == "17" {
				port = min(sp, dp)
			}
			add := func(m map[string]Counts, k string) {
				c := m[k]
				c.Flows, c.Packets, c.Bytes = c.Flows+1, c.Packets+p, c.Bytes+b
				m[k] = c
			}
			add(e.totals, v["action"])
			add(e.ports, fmt.Sprintf("%s/%s/%d", v["action"], v["protocol"], port))
			add(e.ifaces, v["action"]+"/"+v["interface-id"])
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return e
}

// valid checks a record's values the plain way.
func valid(v map[string]string) bool {
	num := func(k string, bits int) bool {
		s, ok := v[k]
		if !ok || s == "-" {
			return true
		}
		_, err := strconv.ParseUint(s, 10, bits)
		return err == nil
	}
	addr := func(k string) bool {
		s, ok := v[k]
		if !ok || s == "-" {
			return true
		}
		_, err := netip.ParseAddr(s)
		return err == nil
	}
	enum := func(k string, vals ...string) bool {
		s, ok := v[k]
		return !ok || slices.Contains(vals, s)
	}
	return num("version", 8) && num("srcport", 16) && num("dstport", 16) && num("protocol", 8) &&
		num("packets", 63) && num("bytes", 63) && num("start", 63) && num("end", 63) &&
		addr("srcaddr") && addr("dstaddr") && enum("action", "ACCEPT", "REJECT", "-") &&
		enum("log-status", "OK", "NODATA", "SKIPDATA", "-")
}

func runJSON(t *testing.T, stdin io.Reader, args ...string) Report {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Main(append([]string{"--output", "json"}, args...), stdin, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	return rep
}

func TestEndToEndAgainstRecount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files []string
	}{
		{name: "plain", files: []string{"testdata/plain.log"}},
		{name: "gzip", files: []string{"testdata/plain.log.gz"}},
		{name: "s3 header", files: []string{"testdata/s3-export.log.gz"}},
		{name: "mixed malformed", files: []string{"testdata/malformed.log"}},
		{name: "formats differ per file", files: []string{"testdata/s3-export.log.gz", "testdata/plain.log", "testdata/malformed.log", "testdata/plain.log.gz"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := recount(t, tc.files...)
			rep := runJSON(t, nil, tc.files...)
			if rep.Records != want.records || rep.Malformed != want.malformed || rep.NoData != want.nodata || rep.SkipData != want.skipdata {
				t.Errorf("records/malformed/nodata/skipdata = %d/%d/%d/%d, want %d/%d/%d/%d",
					rep.Records, rep.Malformed, rep.NoData, rep.SkipData, want.records, want.malformed, want.nodata, want.skipdata)
			}
			var uncounted uint64
			for _, n := range rep.Uncounted {
				uncounted += n
			}
			if uncounted != want.uncounted {
				t.Errorf("uncounted = %d, want %d", uncounted, want.uncounted)
			}
			for _, act := range []string{"ACCEPT", "REJECT"} {
				if rep.Totals[act] != want.totals[act] {
					t.Errorf("totals[%s] = %+v, want %+v", act, rep.Totals[act], want.totals[act])
				}
			}
			ports := map[string]Counts{}
			for _, p := range rep.Ports {
				ports[fmt.Sprintf("%s/%d/%d", p.Action, p.Protocol, p.Port)] = p.Counts
			}
			compare(t, "ports", ports, want.ports)
			ifaces := map[string]Counts{}
			for _, in := range rep.Interfaces {
				ifaces[in.Action+"/"+in.InterfaceID] = in.Counts
			}
			compare(t, "interfaces", ifaces, want.ifaces)
			var lines uint64
			for _, f := range rep.Files {
				lines += f.Records + f.Malformed
			}
			if lines != want.records+want.malformed || len(rep.Files) != len(tc.files) {
				t.Errorf("files %+v do not add up to %d lines", rep.Files, want.records+want.malformed)
			}
		})
	}
}

func compare(t *testing.T, what string, got, want map[string]Counts) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: nothing expected: the test checks nothing", what)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s[%s] = %+v, want %+v", what, k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d entries, want %d", what, len(got), len(want))
	}
}

func TestMalformedReport(t *testing.T) {
	t.Parallel()
	rep := runJSON(t, nil, "testdata/malformed.log")
	var lines []int
	for _, m := range rep.MalformedExamples {
		lines = append(lines, m.Line)
	}
	wantLines := []int{6, 12, 18, 24, 30, 36, 60}
	if !slices.Equal(lines, wantLines) {
		t.Errorf("malformed lines = %v, want %v", lines, wantLines)
	}
	wantReasons := map[string]uint64{"field_count": 2, "bad_number": 1, "bad_address": 1, "out_of_range": 1, "bad_enum": 1, "line_too_long": 1}
	if fmt.Sprint(rep.MalformedReasons) != fmt.Sprint(wantReasons) {
		t.Errorf("reasons = %v, want %v", rep.MalformedReasons, wantReasons)
	}
	if rep.Uncounted["no_action"] != 1 || rep.Uncounted["no_packets"] != 1 {
		t.Errorf("uncounted = %v, want no_action 1 and no_packets 1", rep.Uncounted)
	}
}

func TestTopListsAndScan(t *testing.T) {
	t.Parallel()
	rep := runJSON(t, nil, "testdata/plain.log")
	scanner := netip.MustParseAddr("192.0.2.66")
	if len(rep.TopRejected) == 0 || rep.TopRejected[0].Src != scanner || rep.TopRejected[0].Flows != 25 || rep.TopRejected[0].DistinctPorts != 25 {
		t.Errorf("top rejected = %+v, want %s first with 25 flows on 25 ports", rep.TopRejected, scanner)
	}
	if len(rep.ScanCandidates) != 1 || rep.ScanCandidates[0].Src != scanner {
		t.Errorf("scan candidates = %+v, want only %s", rep.ScanCandidates, scanner)
	}
	if len(rep.TopTalkers) != 10 || rep.TopTalkers[0].Bytes < rep.TopTalkers[9].Bytes || rep.Late != 0 {
		t.Errorf("top talkers = %+v (late %d), want 10 in decreasing order, nothing late", rep.TopTalkers, rep.Late)
	}
}

func TestStdinAndContentDetection(t *testing.T) {
	t.Parallel()
	want := recount(t, "testdata/plain.log.gz")
	gz, err := os.ReadFile("testdata/plain.log.gz")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{nil, {"-"}} {
		rep := runJSON(t, bytes.NewReader(gz), args...) // gzip on stdin, no file name to hint
		if rep.Records != want.records || rep.Totals["ACCEPT"] != want.totals["ACCEPT"] {
			t.Errorf("stdin %v: records %d accept %+v; want %d %+v", args, rep.Records, rep.Totals["ACCEPT"], want.records, want.totals["ACCEPT"])
		}
	}
}

func TestHugeLine(t *testing.T) {
	t.Parallel()
	line := "2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 50000 6 10 800 1700000000 1700000060 ACCEPT OK\n"
	var in bytes.Buffer
	in.WriteString(line)
	in.WriteString(strings.Repeat("y", 3*chunkSize+5) + "\n") // longer than the read buffer
	in.WriteString(line)
	in.WriteString(strings.Repeat("z", 100)) // a last line without a newline, too long for the limit
	rep := runJSON(t, &in, "--max-line-bytes", "99")
	if rep.Records != 2 || rep.Malformed != 2 || rep.Totals["ACCEPT"].Bytes != 1600 {
		t.Errorf("records %d, malformed %d, bytes %d; want 2, 2, 1600", rep.Records, rep.Malformed, rep.Totals["ACCEPT"].Bytes)
	}
	if len(rep.MalformedExamples) != 2 || rep.MalformedExamples[0].Line != 2 || rep.MalformedExamples[1].Line != 4 {
		t.Errorf("malformed examples = %+v, want lines 2 and 4", rep.MalformedExamples)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "missing file", args: []string{"testdata/plain.log", "testdata/nope.log"}, wantCode: ExitError, wantErr: "testdata/nope.log"},
		{name: "bad format", args: []string{"--log-format", "${version} ${version}", "testdata/plain.log"}, wantCode: ExitUsage, wantErr: "--log-format"},
		{name: "bad output", args: []string{"--output", "xml"}, wantCode: ExitUsage, wantErr: "--output"},
		{name: "bad window", args: []string{"--window", "1h"}, wantCode: ExitUsage, wantErr: "--window"},
		{name: "unknown flag", args: []string{"--nope"}, wantCode: ExitUsage, wantErr: "nope"},
		{name: "truncated gzip", args: []string{"testdata/truncated.gz"}, wantCode: ExitError, wantErr: "truncated.gz"},
		{name: "help", args: []string{"-h"}, wantCode: ExitOK, wantErr: "usage: flowd analyze"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			code := Main(tc.args, strings.NewReader(""), &out, &errb)
			if code != tc.wantCode || !strings.Contains(errb.String(), tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), tc.wantCode, tc.wantErr)
			}
		})
	}
}

func TestTableOutput(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if code := Main([]string{"testdata/plain.log", "testdata/malformed.log"}, nil, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"TOP PORTS ACCEPT", "REJECTS BY INTERFACE", "TOP TALKERS", "SCAN CANDIDATES", "192.0.2.66",
		"malformed: testdata/malformed.log:6: field_count", "(S3 header)"} {
		if want == "(S3 header)" {
			if strings.Contains(out.String(), want) {
				t.Errorf("table claims an S3 header for plain files")
			}
			continue
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestEmptyInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
	}{
		{name: "empty", input: ""},
		{name: "blank lines", input: "\n\n  \r\n"},
		{name: "header only", input: "version srcaddr dstaddr action log-status\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := runJSON(t, strings.NewReader(tc.input))
			if rep.Records != 0 || rep.Malformed != 0 || rep.Ports == nil || rep.TopTalkers == nil || rep.NewestStart != nil {
				t.Errorf("report of an empty input = %+v", rep)
			}
			var out, errb bytes.Buffer
			if code := Main(nil, strings.NewReader(tc.input), &out, &errb); code != ExitOK || !strings.Contains(out.String(), "TOP TALKERS") {
				t.Errorf("table of an empty input: exit %d, %q, %q", code, out.String(), errb.String())
			}
		})
	}
}
