package inventory

import (
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Interface is one network interface as the inventory names it.
type Interface struct {
	ID       string
	Owner    Owner
	Name     string // the owner's name (instance Name tag, load balancer, function, ...), bounded; may be ""
	Type     string // the EC2 interface type
	VPCID    string
	SubnetID string
	AZ       string
	// InstanceID is the attached instance, if any.
	InstanceID string
	// Addrs are the interface's private IPv4 and IPv6 addresses and its public IPv4 (at most
	// maxAddrsPerInterface).
	Addrs []netip.Addr
}

// Subnet is a subnet and its CIDR blocks.
type Subnet struct {
	ID, VPCID, AZ, Name string
	CIDRs               []netip.Prefix
}

// VPC is a VPC and its CIDR blocks.
type VPC struct {
	ID, Name string
	CIDRs    []netip.Prefix
}

// FlowLog is a flow log subscription as DescribeFlowLogs reports it.
type FlowLog struct {
	ID string
	// ResourceID is what it logs: a vpc-, subnet-, eni-, tgw- or tgw-attach- id.
	ResourceID      string
	DestinationType string // cloud-watch-logs, s3, kinesis-data-firehose
	LogGroup        string // cloud-watch-logs only
	// Format is the exact LogFormat ("${version} ${account-id} ..."), as parse.Compile reads it.
	Format string
	// DeliverStatus is SUCCESS or FAILED; DeliverError says why (Rate limited, Access error, ...).
	DeliverStatus, DeliverError string
	TrafficType                 string
	AggregationInterval         time.Duration
	Created                     time.Time
}

// Failed reports whether AWS says the flow log cannot deliver.
func (f *FlowLog) Failed() bool { return f.DeliverStatus != "" && f.DeliverStatus != "SUCCESS" }

// Snapshot is the inventory at one refresh. It is immutable; lookups do not allocate.
type Snapshot struct {
	// Taken is when the refresh that built it finished (zero: never refreshed).
	Taken time.Time
	// Interfaces in id order (at most Options.MaxInterfaces).
	Interfaces []Interface
	Subnets    []Subnet
	VPCs       []VPC
	// FlowLogs in id order, every destination type.
	FlowLogs []FlowLog
	// DroppedInterfaces is how many interfaces were beyond Options.MaxInterfaces.
	DroppedInterfaces int

	byID     map[string]int32
	byAddr   map[netip.Addr]int32
	subnetAt prefixTable[int32]
	vpcAt    prefixTable[int32]
	ranges   *IPRanges
}

// NewSnapshot builds an indexed snapshot from parts (for tests of the snapshot's readers, and
// for callers that assemble an inventory by other means). Slices are kept, not copied.
func NewSnapshot(taken time.Time, ifaces []Interface, subnets []Subnet, vpcs []VPC, flowLogs []FlowLog, ranges *IPRanges) *Snapshot {
	s := &Snapshot{Taken: taken, Interfaces: ifaces, Subnets: subnets, VPCs: vpcs, FlowLogs: flowLogs, ranges: ranges}
	s.index()
	return s
}

func (s *Snapshot) index() {
	s.byID = make(map[string]int32, len(s.Interfaces))
	s.byAddr = make(map[netip.Addr]int32, len(s.Interfaces))
	for i := range s.Interfaces {
		s.byID[s.Interfaces[i].ID] = int32(i)
		for _, a := range s.Interfaces[i].Addrs {
			s.byAddr[a] = int32(i)
		}
	}
	for i, sn := range s.Subnets {
		for _, p := range sn.CIDRs {
			s.subnetAt.insert(p, int32(i), nil)
		}
	}
	for i, v := range s.VPCs {
		for _, p := range v.CIDRs {
			s.vpcAt.insert(p, int32(i), nil)
		}
	}
}

// Interface returns the interface with the id.
func (s *Snapshot) Interface(id string) (*Interface, bool) {
	if s == nil {
		return nil, false
	}
	i, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	return &s.Interfaces[i], true
}

// PeerKind says what an address is, from the inventory's point of view: a bounded label.
type PeerKind string

// The kinds of addresses, most specific first.
const (
	PeerInterface PeerKind = "interface" // an address of a known interface
	PeerSubnet    PeerKind = "subnet"    // inside a known subnet, no known interface
	PeerVPC       PeerKind = "vpc"       // inside a known VPC's CIDR, no known subnet
	PeerAWS       PeerKind = "aws"       // in AWS's published ranges (Service says which)
	PeerPrivate   PeerKind = "private"   // private, shared, loopback or link-local space outside the known VPCs
	PeerInternet  PeerKind = "internet"  // anything else
	PeerUnknown   PeerKind = "unknown"   // an invalid address
)

// Peer is the classification of an address. Its strings point into the Snapshot.
type Peer struct {
	Kind        PeerKind
	Owner       Owner  // PeerInterface
	Name        string // PeerInterface: the owner's name
	InterfaceID string // PeerInterface
	SubnetID    string // PeerInterface, PeerSubnet
	VPCID       string // PeerInterface, PeerSubnet, PeerVPC
	Service     string // PeerAWS: S3, EC2, AMAZON, ...
	Region      string // PeerAWS
}

// Classify says what an address is: a known interface (its owner and name), inside a known
// subnet or VPC, an AWS service (from the ip ranges), private space, or the internet.
func (s *Snapshot) Classify(a netip.Addr) Peer {
	if !a.IsValid() {
		return Peer{Kind: PeerUnknown}
	}
	a = a.Unmap()
	if s != nil {
		if i, ok := s.byAddr[a]; ok {
			n := &s.Interfaces[i]
			return Peer{Kind: PeerInterface, Owner: n.Owner, Name: n.Name, InterfaceID: n.ID, SubnetID: n.SubnetID, VPCID: n.VPCID}
		}
		if i, ok := s.subnetAt.lookup(a); ok {
			return Peer{Kind: PeerSubnet, SubnetID: s.Subnets[i].ID, VPCID: s.Subnets[i].VPCID}
		}
		if i, ok := s.vpcAt.lookup(a); ok {
			return Peer{Kind: PeerVPC, VPCID: s.VPCs[i].ID}
		}
		if r, ok := s.ranges.Lookup(a); ok {
			return Peer{Kind: PeerAWS, Service: r.Service, Region: r.Region}
		}
	}
	if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() || isShared(a) {
		return Peer{Kind: PeerPrivate}
	}
	return Peer{Kind: PeerInternet}
}

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

func isShared(a netip.Addr) bool { return sharedSpace.Contains(a) }

// LogGroup is a CloudWatch Logs group some flow logs deliver to.
type LogGroup struct {
	Name string
	// FlowLogs delivering to it (cloud-watch-logs only), in id order.
	FlowLogs []FlowLog
	// Formats are the distinct formats among them, in order of first appearance.
	Formats []string
}

// LogGroups lists the groups flow logs deliver to, for discovery: each with its exact formats.
func (s *Snapshot) LogGroups() []LogGroup {
	if s == nil {
		return nil
	}
	idx := map[string]int{}
	var out []LogGroup
	for _, f := range s.FlowLogs {
		if f.DestinationType != "cloud-watch-logs" || f.LogGroup == "" {
			continue
		}
		i, ok := idx[f.LogGroup]
		if !ok {
			i = len(out)
			idx[f.LogGroup] = i
			out = append(out, LogGroup{Name: f.LogGroup})
		}
		g := &out[i]
		g.FlowLogs = append(g.FlowLogs, f)
		if !slices.Contains(g.Formats, f.Format) {
			g.Formats = append(g.Formats, f.Format)
		}
	}
	slices.SortFunc(out, func(a, b LogGroup) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// StreamInterface returns the interface id a flow log stream is named after: AWS names a
// group's streams <interface-id>-all (or -accept, -reject, by traffic type).
func StreamInterface(stream string) string {
	for _, suffix := range []string{"-all", "-accept", "-reject"} {
		if id, ok := strings.CutSuffix(stream, suffix); ok {
			return id
		}
	}
	return stream
}

// FlowLogForStream returns the flow log of group g that writes the stream: the one whose
// resource is the stream's interface, else its subnet, else its VPC (the most specific wins,
// as when a subnet has its own flow log inside a logged VPC). With a single flow log in the
// group it is that one. ok is false when the interface is unknown and the group holds flow
// logs of several formats: the caller cannot tell which format applies.
func (s *Snapshot) FlowLogForStream(g *LogGroup, stream string) (FlowLog, bool) {
	if len(g.FlowLogs) == 1 {
		return g.FlowLogs[0], true
	}
	eni := StreamInterface(stream)
	var subnet, vpc string
	if n, ok := s.Interface(eni); ok {
		subnet, vpc = n.SubnetID, n.VPCID
	}
	best, rank := -1, 0
	for i := range g.FlowLogs {
		r := 0
		switch g.FlowLogs[i].ResourceID {
		case eni:
			r = 3
		case subnet:
			r = 2
		case vpc:
			r = 1
		}
		if subnet == "" && vpc == "" && r != 3 {
			r = 0
		}
		if r > rank {
			best, rank = i, r
		}
	}
	if best >= 0 {
		return g.FlowLogs[best], true
	}
	if len(g.Formats) == 1 {
		return g.FlowLogs[0], true
	}
	return FlowLog{}, false
}
