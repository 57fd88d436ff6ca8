package inventory

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/simulate"
)

var update = flag.Bool("update", false, "rewrite testdata/ip-ranges.json")

// simulatorRanges are the AWS service blocks the simulator uses, plus an IPv6 one and a wider
// umbrella range, as the test file lists them.
func simulatorRanges() []IPRange {
	var out []IPRange
	for _, p := range simulate.AWSServicePrefixes() {
		out = append(out, IPRange{Prefix: p.Prefix, Service: p.Service, Region: "us-east-1"})
	}
	out = append(out,
		IPRange{Prefix: netip.MustParsePrefix("52.94.0.0/16"), Service: "AMAZON", Region: "us-east-1"},
		IPRange{Prefix: netip.MustParsePrefix("2600:1f18::/33"), Service: "EC2", Region: "us-east-1"},
	)
	return out
}

// testdata/ip-ranges.json is generated (go test ./internal/inventory -run TestIPRangesFile -args -update),
// never downloaded: it describes the simulator's AWS services in AWS's format.
func TestIPRangesFile(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteIPRanges(&buf, simulatorRanges(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "ip-ranges.json")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	disk, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to generate it)", err)
	}
	if !bytes.Equal(disk, buf.Bytes()) {
		t.Fatalf("%s is stale: run go test ./internal/inventory -run TestIPRangesFile -args -update", path)
	}
	r, err := LoadIPRanges(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		addr, service string
		ok            bool
	}{
		{"52.216.8.77", "S3", true}, // listed as AMAZON and S3: S3 wins
		{"3.218.182.1", "DYNAMODB", true},
		{"52.94.0.9", "AMAZON", true},   // the simulator's AMAZON block
		{"52.94.200.9", "AMAZON", true}, // only the umbrella /16
		{"2600:1f18::1", "EC2", true},
		{"::ffff:18.208.12.3", "EC2", true}, // v4-mapped
		{"198.18.0.1", "", false},
	}
	for _, c := range cases {
		got, ok := r.Lookup(netip.MustParseAddr(c.addr))
		if ok != c.ok || got.Service != c.service {
			t.Errorf("Lookup(%s) = %+v %v, want %s %v", c.addr, got, ok, c.service, c.ok)
		}
	}
	if svcs := r.Services(); strings.Join(svcs, ",") != "AMAZON,DYNAMODB,EC2,S3" {
		t.Errorf("services %v", svcs)
	}
}

func TestParseIPRangesErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ doc, want string }{
		{`{`, "decode"},
		{`{"prefixes":[{"ip_prefix":"1.2.3.0/24","service":"S3"},{"ip_prefix":"300.0.0.0/8","service":"S3"}]}`, `prefixes[1].ip_prefix: "300.0.0.0/8"`},
		{`{"prefixes":[{"ip_prefix":"2600::/32","service":"S3"}]}`, `prefixes[0].ip_prefix`},
		{`{"ipv6_prefixes":[{"ipv6_prefix":"10.0.0.0/8","service":"S3"}]}`, `ipv6_prefixes[0].ipv6_prefix`},
		{`{"prefixes":[{"ip_prefix":"1.2.3.0/24","service":""}]}`, `prefixes[0].service`},
		{`{"prefixes":[{"ip_prefix":"1.2.3.0/24","service":"a b"}]}`, `prefixes[0].service`},
	}
	for _, c := range cases {
		_, err := ParseIPRanges([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseIPRanges(%s) = %v, want an error naming %s", c.doc, err, c.want)
		}
	}
	if _, err := LoadIPRanges(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file loaded")
	}
}

// FuzzParseIPRanges: any document gives ranges or an error, and every range found by Lookup
// contains the address looked up.
func FuzzParseIPRanges(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteIPRanges(&buf, simulatorRanges(), time.Unix(0, 0))
	f.Add(buf.Bytes(), "52.216.8.1")
	f.Add([]byte(`{"prefixes":[{"ip_prefix":"0.0.0.0/0","service":"X"}]}`), "1.1.1.1")
	f.Fuzz(func(t *testing.T, doc []byte, addr string) {
		r, err := ParseIPRanges(doc)
		if err != nil {
			return
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return
		}
		if got, ok := r.Lookup(a); ok && !got.Prefix.Contains(a.Unmap()) {
			t.Fatalf("Lookup(%s) = %v, which does not contain it", a, got.Prefix)
		}
	})
}
