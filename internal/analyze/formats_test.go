package analyze

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
	if _, ok := err.(*UsageError); !ok || !strings.Contains(err.Error(), "field count") {
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
