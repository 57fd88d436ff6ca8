package simulate

import "net/netip"

// The outside world. Addresses come from ranges reserved for documentation and benchmarking,
// so a simulated record never names a real host; the AWS service ranges are real prefixes,
// because pkt-dst-aws-service is derived from them.

// Salts separate the random streams drawn from the one seed.
const (
	saltVPC uint64 = iota + 1
	saltInterface
	saltTraffic
	saltScenario
	saltDelay
	saltSkip
	saltClient
	saltScanner
)

// clientPoolSize is the number of distinct internet clients of the web servers. Clients are
// drawn skewed, so a handful of them are the top talkers.
const clientPoolSize = 1 << 14

// clientAddr4 returns internet client idx, in 198.18.0.0/15 (RFC 2544 benchmarking space).
func clientAddr4(seed uint64, idx int) netip.Addr {
	h := mix(seed ^ mix(uint64(idx)+saltClient<<32))
	return netip.AddrFrom4([4]byte{198, 18 + byte(h>>16&1), byte(h >> 8), byte(h)})
}

// clientAddr6 returns internet client idx, in 2001:db8:f000::/36 (documentation space).
func clientAddr6(seed uint64, idx int) netip.Addr {
	h := mix(seed ^ mix(uint64(idx)+saltClient<<33))
	l := mix(h)
	var a [16]byte
	a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8
	a[4] = 0xf0 | byte(h&0x0f)
	for i := 5; i < 13; i++ {
		a[i] = byte(l >> (8 * (i - 5)))
	}
	a[13], a[14], a[15] = byte(h>>8), byte(h>>16), byte(h>>24)
	return netip.AddrFrom16(a)
}

// attackerPoolSize is the number of hosts that knock on SSH and RDP (a botnet, skewed too).
const attackerPoolSize = 512

// attackerAddr returns attacker idx, in 198.51.100.0/24 or 203.0.113.0/24 (TEST-NET-2 and -3).
func attackerAddr(seed uint64, idx int) netip.Addr {
	h := mix(seed ^ mix(uint64(idx)+saltScanner<<32))
	if h&(1<<20) == 0 {
		return netip.AddrFrom4([4]byte{198, 51, 100, byte(h)})
	}
	return netip.AddrFrom4([4]byte{203, 0, 113, byte(h)})
}

// scannerAddr returns the source of port scan number n, in 192.0.2.0/24 (TEST-NET-1).
func scannerAddr(seed uint64, n int64) netip.Addr {
	h := mix(seed ^ mix(uint64(n)+saltScanner<<40))
	return netip.AddrFrom4([4]byte{192, 0, 2, 1 + byte(h%254)})
}

// awsService is a block of an AWS service's public range.
type awsService struct {
	name   string  // the pkt-*-aws-service value
	prefix [3]byte // a /24 of the service
	path   uint8   // traffic-path of egress to it: 7 gateway endpoint, 8 internet gateway (Nitro)
	share  float64 // cumulative share of the outbound calls
}

// awsServices are the AWS endpoints the VPC calls over HTTPS (S3 and DynamoDB through gateway
// endpoints). Amazon DNS is deliberately absent: AWS does not log traffic to it.
var awsServices = [...]awsService{
	{name: "S3", prefix: [3]byte{52, 216, 8}, path: 7, share: 0.45},
	{name: "DYNAMODB", prefix: [3]byte{3, 218, 182}, path: 7, share: 0.65},
	{name: "AMAZON", prefix: [3]byte{52, 94, 0}, path: 8, share: 0.9},
	{name: "EC2", prefix: [3]byte{18, 208, 12}, path: 8, share: 1},
}

// pickService returns the index of a random AWS service and an address in its range.
func pickService(r *rng) (int, netip.Addr) {
	f := r.float()
	i := 0
	for i < len(awsServices)-1 && f >= awsServices[i].share {
		i++
	}
	p := awsServices[i].prefix
	return i, netip.AddrFrom4([4]byte{p[0], p[1], p[2], byte(r.between(1, 254))})
}
