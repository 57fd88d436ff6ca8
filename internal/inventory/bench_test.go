package inventory

import (
	"fmt"
	"net/netip"
	"testing"
)

// benchSnapshot is a snapshot of n interfaces in 10.0.0.0/16 across 16 subnets, with the
// test ip ranges.
func benchSnapshot(b *testing.B, n int) *Snapshot {
	b.Helper()
	ranges, err := LoadIPRanges("testdata/ip-ranges.json")
	if err != nil {
		b.Fatal(err)
	}
	s := &Snapshot{ranges: ranges, VPCs: []VPC{{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}}}
	for i := range 16 {
		s.Subnets = append(s.Subnets, Subnet{ID: fmt.Sprintf("subnet-%d", i), VPCID: "vpc-1", CIDRs: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i * 16), 0}), 20)}})
	}
	for i := range n {
		s.Interfaces = append(s.Interfaces, Interface{ID: fmt.Sprintf("eni-%d", i), Owner: OwnerInstance, Name: "web",
			Addrs: []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})}})
	}
	s.index()
	return s
}

// Classify runs for every top-K entry at scrape time; it must not allocate.
func BenchmarkClassify(b *testing.B) {
	s := benchSnapshot(b, 10000)
	addrs := []netip.Addr{
		netip.MustParseAddr("10.0.3.7"),      // interface
		netip.MustParseAddr("10.0.200.9"),    // subnet
		netip.MustParseAddr("52.216.8.9"),    // AWS
		netip.MustParseAddr("198.18.1.1"),    // internet
		netip.MustParseAddr("2001:db8::1"),   // internet, IPv6
		netip.MustParseAddr("2600:1f18::99"), // AWS, IPv6
	}
	b.ReportAllocs()
	var kinds int
	for i := 0; b.Loop(); i++ {
		if s.Classify(addrs[i%len(addrs)]).Kind == PeerInterface {
			kinds++
		}
	}
	if kinds == 0 {
		b.Fatal("no interface classified")
	}
}
