package parse

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// custom29 is a 29-field custom format with version 3 to 5 fields (the AWS v5 example's).
const custom29 = "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status"

// benchLines is the number of generated lines per mix, a power of two so that the loop can
// pick a line with a mask.
const benchLines = 4096

// benchMix generates benchLines deterministic lines in format f: mostly IPv4 TCP flows, about
// 10 % IPv6, 20 % of flows rejected, some UDP and ICMP, 4 % NODATA and 1 % SKIPDATA.
func benchMix(tb testing.TB, f *Format) []string {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	ports := []uint16{443, 80, 22, 3389, 5432, 3306, 6379, 53, 8080, 9090}
	services := []string{"S3", "DYNAMODB", "EC2", "AMAZON", "ROUTE53"}
	v4 := func() netip.Addr {
		if rng.IntN(3) == 0 {
			return netip.AddrFrom4([4]byte{byte(rng.IntN(223) + 1), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(254) + 1)})
		}
		return netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(32)), byte(rng.IntN(254) + 1)})
	}
	v6 := func() netip.Addr {
		var a [16]byte
		copy(a[:], []byte{0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34})
		for i := 8; i < 16; i++ {
			a[i] = byte(rng.IntN(256))
		}
		return netip.AddrFrom16(a)
	}
	lines := make([]string, benchLines)
	var buf []byte
	var r Record
	for i := range lines {
		eni := rng.IntN(64)
		start := int64(1718000000 + i*3)
		r = Record{
			Version: 5, AccountID: "123456789012", InterfaceID: fmt.Sprintf("eni-%017x", 0xabc000+eni),
			Start: start, End: start + 60, VPCID: "vpc-0a1b2c3d4e5f60718",
			SubnetID: fmt.Sprintf("subnet-%017x", 0xdef000+eni%8), InstanceID: fmt.Sprintf("i-%017x", 0x123000+eni),
			Region: "eu-west-1", AZID: "euw1-az" + strconv.Itoa(1+eni%3),
		}
		r.Present = set(FieldVersion, FieldAccountID, FieldInterfaceID, FieldStart, FieldEnd, FieldLogStatus,
			FieldVPCID, FieldSubnetID, FieldInstanceID, FieldRegion, FieldAZID)
		switch p := rng.IntN(100); {
		case p < 4:
			r.LogStatus = LogStatusNoData
		case p < 5:
			r.LogStatus = LogStatusSkipData
		default:
			r.LogStatus = LogStatusOK
			r.Present = r.Present.Union(set(FieldSrcAddr, FieldDstAddr, FieldSrcPort, FieldDstPort, FieldProtocol, FieldPackets,
				FieldBytes, FieldAction, FieldType, FieldTCPFlags, FieldPktSrcAddr, FieldPktDstAddr, FieldFlowDirection))
			if rng.IntN(10) == 0 {
				r.SrcAddr, r.DstAddr, r.Type = v6(), v6(), TrafficTypeIPv6
			} else {
				r.SrcAddr, r.DstAddr, r.Type = v4(), v4(), TrafficTypeIPv4
			}
			r.PktSrcAddr, r.PktDstAddr = r.SrcAddr, r.DstAddr
			r.SrcPort, r.DstPort = uint16(32768+rng.IntN(28000)), ports[rng.IntN(len(ports))]
			r.Protocol = 6
			switch rng.IntN(20) {
			case 0:
				r.Protocol, r.SrcPort, r.DstPort = 1, 0, 0
			case 1, 2:
				r.Protocol = 17
			}
			r.Packets = uint64(1 + rng.IntN(5000))
			r.Bytes = r.Packets * uint64(40+rng.IntN(1460))
			r.Action, r.TCPFlags = ActionAccept, []uint8{0, 1, 2, 3, 18, 19}[rng.IntN(6)]
			if rng.IntN(5) == 0 {
				r.Action, r.TCPFlags, r.Packets, r.Bytes = ActionReject, 2, 1, 60
			}
			r.FlowDirection = FlowDirection(1 + rng.IntN(2))
			if r.FlowDirection == FlowDirectionEgress {
				r.Present = r.Present.With(FieldTrafficPath)
				r.TrafficPath = uint8(1 + rng.IntN(8))
			}
			if rng.IntN(4) == 0 {
				r.Present = r.Present.With(FieldPktDstAWSService)
				r.PktDstAWSService = services[rng.IntN(len(services))]
			}
		}
		buf = f.Append(buf[:0], &r)
		lines[i] = string(buf)
	}
	// Every generated line must parse: a benchmark over errors would measure the wrong path.
	for _, line := range lines {
		if err := f.Parse(line, &r); err != nil {
			tb.Fatalf("generated line %q: %v", line, err)
		}
	}
	return lines
}

// benchFormats are the two formats every benchmark runs over.
var benchFormats = []struct{ name, spec string }{
	{"default", DefaultFormat},
	{"custom29", custom29},
}

// threadCPU returns the CPU time used by the calling thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startRecords starts the timed part of a benchmark whose iterations are one record each, on a
// locked thread. The returned function reports records/s (wall) and records/cpu-s (CPU time of
// the thread): on a shared machine the second measures the work, not the neighbours.
func startRecords(b *testing.B) (stop func()) {
	runtime.LockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := threadCPU()
	return func() {
		cpu := threadCPU() - cpu0
		b.StopTimer()
		runtime.UnlockOSThread()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
}

// BenchmarkParse measures Format.Parse over the generated mix.
func BenchmarkParse(b *testing.B) {
	for _, bf := range benchFormats {
		b.Run(bf.name, func(b *testing.B) {
			f := MustCompile(bf.spec)
			lines := benchMix(b, f)
			var r Record
			stop := startRecords(b)
			for i := 0; i < b.N; i++ {
				if err := f.Parse(lines[i&(benchLines-1)], &r); err != nil {
					b.Fatal(err)
				}
			}
			stop()
		})
	}
}

// splitSink keeps the split-only loop from being optimised away.
var splitSink int

// BenchmarkSplitOnly is the speed limit of any parser: a plain byte loop that finds the field
// boundaries (with the same separators as Parse) and converts nothing.
func BenchmarkSplitOnly(b *testing.B) {
	for _, bf := range benchFormats {
		b.Run(bf.name, func(b *testing.B) {
			f := MustCompile(bf.spec)
			lines := benchMix(b, f)
			var bounds [64][2]int
			stop := startRecords(b)
			for i := 0; i < b.N; i++ {
				line := lines[i&(benchLines-1)]
				n := 0
				for j := 0; j < len(line); {
					for j < len(line) && isSpace(line[j]) {
						j++
					}
					if j == len(line) {
						break
					}
					k := j + 1
					for k < len(line) && !isSpace(line[k]) {
						k++
					}
					if n < len(bounds) {
						bounds[n] = [2]int{j, k}
					}
					n++
					j = k
				}
				splitSink += n + bounds[n/2][1]
			}
			stop()
		})
	}
}

// naiveRecord is what the naive parser fills: the obvious types of the standard library.
type naiveRecord struct {
	nums    [numFields]uint64
	addrs   [numFields]net.IP
	strs    [numFields]string
	present FieldSet
}

// naiveParse is the naive approach: strings.Fields, then strconv and net.ParseIP per field.
func naiveParse(f *Format, line string, r *naiveRecord) error {
	*r = naiveRecord{}
	toks := strings.Fields(line)
	if len(toks) != len(f.fields) {
		return fmt.Errorf("%d fields, want %d", len(toks), len(f.fields))
	}
	for i, tok := range toks {
		field := f.fields[i]
		if tok == "-" {
			continue
		}
		switch field {
		case FieldSrcAddr, FieldDstAddr, FieldPktSrcAddr, FieldPktDstAddr:
			ip := net.ParseIP(tok)
			if ip == nil {
				return fmt.Errorf("field %d: bad address %q", i+1, tok)
			}
			r.addrs[field] = ip
		case FieldVersion, FieldSrcPort, FieldDstPort, FieldProtocol, FieldPackets, FieldBytes, FieldStart,
			FieldEnd, FieldTCPFlags, FieldTrafficPath:
			v, err := strconv.ParseUint(tok, 10, 64)
			if err != nil {
				return fmt.Errorf("field %d: %w", i+1, err)
			}
			r.nums[field] = v
		default:
			r.strs[field] = tok
		}
		r.present = r.present.With(field)
	}
	return nil
}

// BenchmarkNaive is the naive baseline (strings.Fields + strconv + net.ParseIP).
func BenchmarkNaive(b *testing.B) {
	for _, bf := range benchFormats {
		b.Run(bf.name, func(b *testing.B) {
			f := MustCompile(bf.spec)
			lines := benchMix(b, f)
			var r naiveRecord
			stop := startRecords(b)
			for i := 0; i < b.N; i++ {
				if err := naiveParse(f, lines[i&(benchLines-1)], &r); err != nil {
					b.Fatal(err)
				}
			}
			stop()
		})
	}
}

// BenchmarkParseAddr compares netip.ParseAddr with flowd's address parsing, to check that both
// allocate nothing for IPv4 and IPv6.
func BenchmarkParseAddr(b *testing.B) {
	for _, s := range []string{"172.31.16.139", "2001:db8:1234:a100:8d6e:3477:df66:f105"} {
		b.Run("netip/"+s, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := netip.ParseAddr(s); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("flowd/"+s, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, _, kind := scanAddr(s, 0); kind != 0 {
					b.Fatal(kind)
				}
			}
		})
	}
}

// tgwMix generates benchLines deterministic lines of the transit gateway default format: 16
// attachments, mostly TCP, a tenth of the records losing packets, 3 % NODATA.
func tgwMix(tb testing.TB, f *Format) []string {
	tb.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	all := FieldSetOf(MustCompile(TransitGatewayDefaultFormat).fields...)
	lines := make([]string, benchLines)
	var buf []byte
	for i := range lines {
		att := rng.IntN(16)
		start := int64(1718000000 + i*3)
		r := Record{Present: all, Version: 6, ResourceType: ResourceTypeTransitGatewayAttachment, AccountID: "123456789012",
			TGWID: "tgw-0123456789abcdef0", TGWAttachmentID: fmt.Sprintf("tgw-attach-%017x", 0xa000+att),
			TGWSrcVPCAccountID: "123456789012", TGWDstVPCAccountID: "210987654321",
			TGWSrcVPCID: fmt.Sprintf("vpc-%017x", 0xb000+att), TGWDstVPCID: "vpc-0fedcba9876543210",
			TGWSrcSubnetID: fmt.Sprintf("subnet-%017x", 0xc000+att), TGWDstSubnetID: "subnet-0fedcba9876543210",
			TGWSrcENI: fmt.Sprintf("eni-%017x", 0xd000+att), TGWDstENI: "eni-0fedcba9876543210",
			TGWSrcAZID: "use1-az1", TGWDstAZID: "use1-az2", TGWPairAttachmentID: "tgw-attach-0fedcba9876543210",
			SrcAddr: netip.AddrFrom4([4]byte{10, byte(att), byte(rng.IntN(256)), byte(1 + rng.IntN(254))}),
			DstAddr: netip.AddrFrom4([4]byte{10, 100, byte(rng.IntN(256)), byte(1 + rng.IntN(254))}),
			SrcPort: uint16(32768 + rng.IntN(28000)), DstPort: []uint16{443, 80, 5432, 22}[rng.IntN(4)], Protocol: 6,
			Packets: uint64(1 + rng.IntN(5000)), Start: start, End: start + 60, LogStatus: LogStatusOK, Type: TrafficTypeIPv4,
			TCPFlags: 2, Region: "us-east-1", FlowDirection: FlowDirection(1 + rng.IntN(2)),
		}
		r.Bytes = r.Packets * uint64(40+rng.IntN(1460))
		r.Present = r.Present.Without(FieldPktSrcAWSService).Without(FieldPktDstAWSService)
		switch p := rng.IntN(100); {
		case p < 3:
			r = Record{Present: FieldSetOf(FieldVersion, FieldResourceType, FieldAccountID, FieldTGWID, FieldTGWAttachmentID,
				FieldStart, FieldEnd, FieldLogStatus, FieldRegion), Version: 6, ResourceType: r.ResourceType,
				AccountID: r.AccountID, TGWID: r.TGWID, TGWAttachmentID: r.TGWAttachmentID, Start: start, End: start + 60,
				LogStatus: LogStatusNoData, Region: r.Region}
		case p < 8:
			r.PacketsLostBlackhole = r.Packets
		case p < 13:
			r.PacketsLostNoRoute = 1 + uint64(rng.IntN(int(r.Packets)))
		}
		buf = f.Append(buf[:0], &r)
		lines[i] = string(buf)
	}
	var r Record
	for _, line := range lines {
		if err := f.Parse(line, &r); err != nil {
			tb.Fatalf("generated line %q: %v", line, err)
		}
	}
	return lines
}

// BenchmarkParseTGW measures Format.Parse over transit gateway records (36 fields).
func BenchmarkParseTGW(b *testing.B) {
	f := MustCompile(TransitGatewayDefaultFormat)
	lines := tgwMix(b, f)
	var r Record
	stop := startRecords(b)
	for i := 0; i < b.N; i++ {
		if err := f.Parse(lines[i&(benchLines-1)], &r); err != nil {
			b.Fatal(err)
		}
	}
	stop()
}
