package inventory

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// IPRange is one entry of AWS's published ip-ranges.json: a prefix, the service it belongs to
// (S3, EC2, AMAZON for every Amazon-owned range, ...) and its Region (or GLOBAL).
type IPRange struct {
	Prefix  netip.Prefix
	Service string
	Region  string
}

// IPRanges answers which AWS service an address belongs to. It is immutable once built.
type IPRanges struct {
	table    prefixTable[IPRange]
	services []string // distinct, sorted: the domain of the service label
	created  string
}

// MaxServiceLen bounds a service name read from the file (a label value).
const MaxServiceLen = 48

// ipRangesFile is the document's shape, as AWS publishes it.
type ipRangesFile struct {
	SyncToken  string `json:"syncToken"`
	CreateDate string `json:"createDate"`
	Prefixes   []struct {
		IPPrefix           string `json:"ip_prefix"`
		Region             string `json:"region"`
		Service            string `json:"service"`
		NetworkBorderGroup string `json:"network_border_group"`
	} `json:"prefixes"`
	IPv6Prefixes []struct {
		IPv6Prefix         string `json:"ipv6_prefix"`
		Region             string `json:"region"`
		Service            string `json:"service"`
		NetworkBorderGroup string `json:"network_border_group"`
	} `json:"ipv6_prefixes"`
}

// LoadIPRanges reads an ip-ranges.json file.
func LoadIPRanges(path string) (*IPRanges, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ip ranges: %w", err)
	}
	r, err := ParseIPRanges(data)
	if err != nil {
		return nil, fmt.Errorf("ip ranges file %s: %w", path, err)
	}
	return r, nil
}

// ParseIPRanges decodes the ip-ranges.json document. A bad prefix or an empty service is an
// error naming the entry; a prefix listed under several services keeps the most specific
// service (any before AMAZON, the umbrella of every Amazon range).
func ParseIPRanges(data []byte) (*IPRanges, error) {
	var f ipRangesFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	r := &IPRanges{created: f.CreateDate}
	seen := map[string]bool{}
	add := func(field string, i int, prefix, service, region string, want6 bool) error {
		p, err := netip.ParsePrefix(prefix)
		if err != nil || p.Addr().Is6() != want6 || p.Addr().Is4In6() {
			return fmt.Errorf("%s[%d].%s: %q is not an IPv%s prefix", field, i, map[bool]string{false: "ip_prefix", true: "ipv6_prefix"}[want6], prefix, map[bool]string{false: "4", true: "6"}[want6])
		}
		if service == "" || len(service) > MaxServiceLen || strings.ContainsAny(service, " \t\r\n\"") {
			return fmt.Errorf("%s[%d].service: %q must be a service name of at most %d characters", field, i, service, MaxServiceLen)
		}
		r.table.insert(p, IPRange{Prefix: p.Masked(), Service: service, Region: region}, func(old, new IPRange) bool {
			return old.Service == "AMAZON"
		})
		if !seen[service] {
			seen[service] = true
			r.services = append(r.services, service)
		}
		return nil
	}
	for i, p := range f.Prefixes {
		if err := add("prefixes", i, p.IPPrefix, p.Service, p.Region, false); err != nil {
			return nil, err
		}
	}
	for i, p := range f.IPv6Prefixes {
		if err := add("ipv6_prefixes", i, p.IPv6Prefix, p.Service, p.Region, true); err != nil {
			return nil, err
		}
	}
	slices.Sort(r.services)
	return r, nil
}

// Lookup returns the most specific range holding a (longest prefix; at equal length a named
// service before AMAZON).
func (r *IPRanges) Lookup(a netip.Addr) (IPRange, bool) {
	if r == nil {
		return IPRange{}, false
	}
	return r.table.lookup(a)
}

// Len is the number of distinct prefixes.
func (r *IPRanges) Len() int {
	if r == nil {
		return 0
	}
	return r.table.len()
}

// Services lists the distinct service names (the worst-case domain of the service label).
func (r *IPRanges) Services() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.services)
}

// WriteIPRanges writes ranges as an ip-ranges.json document, in AWS's shape, with every range
// also listed under AMAZON as AWS does. The demo and the tests use it to make a small file
// describing the simulator's AWS services (internal/simulate.AWSServicePrefixes); it is not a
// copy of AWS's file.
func WriteIPRanges(w io.Writer, ranges []IPRange, created time.Time) error {
	var f ipRangesFile
	f.SyncToken = strconv.FormatInt(created.Unix(), 10)
	f.CreateDate = created.UTC().Format("2006-01-02-15-04-05")
	f.Prefixes = f.Prefixes[:0]
	f.IPv6Prefixes = f.IPv6Prefixes[:0]
	emit := func(p netip.Prefix, service, region string) {
		if p.Addr().Is4() {
			f.Prefixes = append(f.Prefixes, struct {
				IPPrefix           string `json:"ip_prefix"`
				Region             string `json:"region"`
				Service            string `json:"service"`
				NetworkBorderGroup string `json:"network_border_group"`
			}{p.String(), region, service, region})
			return
		}
		f.IPv6Prefixes = append(f.IPv6Prefixes, struct {
			IPv6Prefix         string `json:"ipv6_prefix"`
			Region             string `json:"region"`
			Service            string `json:"service"`
			NetworkBorderGroup string `json:"network_border_group"`
		}{p.String(), region, service, region})
	}
	for _, r := range ranges {
		if r.Service != "AMAZON" {
			emit(r.Prefix.Masked(), "AMAZON", r.Region)
		}
		emit(r.Prefix.Masked(), r.Service, r.Region)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}
