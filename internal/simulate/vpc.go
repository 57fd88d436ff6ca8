package simulate

import (
	"net/netip"
	"strings"
)

// role is what an interface does in the virtual VPC; it decides its traffic mix.
type role uint8

const (
	roleWeb  role = iota // public subnet: serves 443/80 to the internet, is probed by it
	roleApp              // private subnet: called by web, calls the databases and AWS services
	roleDB               // data subnet: PostgreSQL or MySQL for the app tier
	roleIdle             // private subnet: a standby interface, mostly NODATA
	numRoles
)

// rolePattern assigns roles by interface index: 30% web, 40% app, 10% db, 20% idle. Index 0 is
// always a web server (the port scan's default target), and 0-2 cover web, app and db, so even
// a three-interface VPC has every tier.
var rolePattern = [10]role{roleWeb, roleApp, roleDB, roleApp, roleWeb, roleIdle, roleApp, roleWeb, roleApp, roleIdle}

// tierOf maps a role to its subnet tier: 0 public, 1 private, 2 data.
var tierOf = [numRoles]int{roleWeb: 0, roleApp: 1, roleDB: 2, roleIdle: 1}

// numAZs is the number of availability zones the VPC spans.
const numAZs = 3

// subnet is one /20 of the VPC's 10.0.0.0/16 (and one /64 of its IPv6 /56).
type subnet struct {
	id    string
	base4 [4]byte // network address
	hosts int     // addresses handed out so far
}

// iface is one network interface and its log stream.
type iface struct {
	eni      string // interface-id, eni- and 17 hex digits
	stream   string // log stream name, as AWS names it: <eni>-all
	instance string // instance-id
	subnetID string
	azID     string
	vpc      int // index into vpc.ids
	role     role
	addr4    netip.Addr // primary private IPv4
	addr6    netip.Addr // IPv6 from the subnet's /64
	weight   float64    // relative activity: a few heavy talkers, many light ones
	phase    int64      // offset of its aggregation windows, in seconds (AWS windows are not aligned)
	dbPort   uint16     // for databases: 5432 (PostgreSQL) or 3306 (MySQL)
}

// vpc is the virtual network: ids, subnets and interfaces, derived from the seed alone. With
// Config.VPCs > 1 it is several VPCs (10.0.0.0/16, 10.1.0.0/16, ...), peered: interface i lives
// in VPC i % VPCs, and peers are picked across all of them.
type vpc struct {
	id      string               // the first VPC's id
	ids     []string             // every VPC's id
	subnets [][3 * numAZs]subnet // by VPC, then tier*numAZs + az
	ifaces  []iface
	byRole  [numRoles][]int // interface indices per role, to pick peers
}

// newVPC builds the network for a validated configuration.
func newVPC(cfg *Config) *vpc {
	v := &vpc{subnets: make([][3 * numAZs]subnet, cfg.VPCs)}
	for k := range cfg.VPCs {
		// The first VPC draws exactly what a one-VPC simulation draws, so adding VPCs changes
		// nothing of it.
		r := seeded(cfg.Seed, saltVPC)
		if k > 0 {
			r = seeded(cfg.Seed, saltVPC, uint64(k))
		}
		v.ids = append(v.ids, "vpc-"+hexID(&r))
		for s := range v.subnets[k] {
			v.subnets[k][s] = subnet{id: "subnet-" + hexID(&r), base4: [4]byte{10, byte(k), byte(s * 16), 0}}
		}
	}
	v.id = v.ids[0]
	azPrefix := azIDPrefix(cfg.Region)
	interval := int64(cfg.Interval.Seconds())
	v.ifaces = make([]iface, cfg.Interfaces)
	for i := range v.ifaces {
		ro := rolePattern[i%len(rolePattern)]
		az := i % numAZs
		vi := i % cfg.VPCs
		sn := &v.subnets[vi][tierOf[ro]*numAZs+az]
		// Hosts start at .4: AWS reserves the first four addresses of a subnet.
		h := 4 + sn.hosts
		sn.hosts++
		ir := seeded(cfg.Seed, saltInterface, uint64(i))
		eni := "eni-" + hexID(&ir)
		var a6 [16]byte
		copy(a6[:], vpcIPv6Prefix[:])
		a6[6] += byte(vi) // each VPC its own /56
		a6[7] = byte(tierOf[ro]*numAZs + az)
		lo := ir.next()
		for b := 0; b < 8; b++ {
			a6[8+b] = byte(lo >> (8 * b))
		}
		w := ir.pareto(1, 1.5) / 3 // Pareto(1, 1.5) has mean 3: weights average about 1
		if w > 30 {
			w = 30
		}
		if ro == roleIdle {
			w = 0.03
		}
		port := uint16(5432)
		if ir.chance(0.4) {
			port = 3306
		}
		v.ifaces[i] = iface{
			eni:      eni,
			stream:   eni + "-all",
			instance: "i-" + hexID(&ir),
			subnetID: sn.id,
			azID:     azPrefix + "-az" + string(rune('1'+az)),
			vpc:      vi,
			role:     ro,
			addr4:    netip.AddrFrom4([4]byte{10, sn.base4[1], sn.base4[2] + byte(h>>8), byte(h)}),
			addr6:    netip.AddrFrom16(a6),
			weight:   w,
			phase:    int64(ir.intn(int(interval))),
			dbPort:   port,
		}
		v.byRole[ro] = append(v.byRole[ro], i)
	}
	return v
}

// vpcIPv6Prefix is the VPC's IPv6 /56 (documentation space); byte 7 selects the subnet's /64.
var vpcIPv6Prefix = [7]byte{0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0xa1}

// hexID returns the 17 hexadecimal digits of a current AWS resource id (eni-0123456789abcdef0).
func hexID(r *rng) string {
	const digits = "0123456789abcdef"
	var b [17]byte
	b[0] = '0' // current long ids start with 0
	x := r.next()
	for i := 1; i < len(b); i++ {
		b[i] = digits[x&15]
		x >>= 4
	}
	return string(b[:])
}

// azIDPrefix derives the AZ id prefix from a Region name as AWS does: us-east-1 -> use1,
// ap-southeast-2 -> apse2, eu-west-1 -> euw1 (the middle word's initial, or its compass points).
func azIDPrefix(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return "az"
	}
	mid := parts[1]
	short := mid[:1]
	for _, d := range []string{"north", "south"} {
		if rest, ok := strings.CutPrefix(mid, d); ok {
			short = d[:1]
			if rest != "" {
				short += rest[:1]
			}
		}
	}
	return parts[0] + short + parts[2]
}

// peer returns a random interface of the role (skewed: a few are called most), or -1 if the
// VPC has none.
func (v *vpc) peer(r *rng, ro role) int {
	ids := v.byRole[ro]
	if len(ids) == 0 {
		return -1
	}
	return ids[r.skewed(len(ids), 2)]
}
