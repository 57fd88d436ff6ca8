package ec2emu

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowd-dev/flowd/internal/simulate"
)

// SeedOptions say where the simulated network lives and where its flow log delivers.
type SeedOptions struct {
	Region    string // "" = us-east-1
	AccountID string // "" = 123456789012
	// LogGroup is the CloudWatch Logs group of the VPC's flow log ("" = /aws/vpc/flow-logs).
	LogGroup string
	// LogFormat is the flow log's format, exactly as AWS reports it (the simulator's
	// Format().String(); "" = the default format).
	LogFormat string
	// MaxAggregationInterval is 60 or 600 ("" = 600, matching the simulator's 10m default).
	MaxAggregationInterval int32
	// Created is the flow log's creation time (zero = the server's clock at Load).
	Created time.Time
	// NoManaged leaves out the extra interfaces of AWS-managed owners.
	NoManaged bool
}

// FromSimulator returns the EC2 view of a simulator's network: its VPC, the subnets holding its
// interfaces, one instance per interface (named by role, e.g. "web-1") with its primary
// interface, the VPC's flow log, and (unless NoManaged) one or two interfaces of every
// AWS-managed owner the inventory recognises, placed at the top of the subnets' address space
// where the simulator never hands out addresses. The result depends only on the simulator's
// network and opts.
func FromSimulator(sim *simulate.Simulator, opts SeedOptions) Inventory {
	region := orDefault(opts.Region, DefaultRegion)
	account := orDefault(opts.AccountID, DefaultAccountID)
	ifaces := sim.Interfaces()
	vpcID := sim.VPCID()
	var inv Inventory

	vpc := VPC{ID: vpcID, OwnerID: account, Tags: []Tag{{"Name", "flowd-demo"}}}
	if len(ifaces) > 0 {
		vpc.CIDR = netip.PrefixFrom(ifaces[0].IPv4, 16).Masked()
		if ifaces[0].IPv6.IsValid() {
			vpc.IPv6CIDR = []netip.Prefix{netip.PrefixFrom(ifaces[0].IPv6, 56).Masked()}
		}
	}
	inv.VPCs = append(inv.VPCs, vpc)

	subnets := map[string]*Subnet{}
	counters := map[string]int{}
	for _, f := range ifaces {
		sn := subnets[f.SubnetID]
		if sn == nil {
			az := azName(region, f.AZID)
			sn = &Subnet{
				ID: f.SubnetID, VPCID: vpcID, OwnerID: account,
				CIDR:             netip.PrefixFrom(f.IPv4, 20).Masked(),
				AvailabilityZone: az, AZID: f.AZID,
				Tags: []Tag{{"Name", tierName(f.Role) + "-" + az[len(az)-1:]}},
			}
			if f.IPv6.IsValid() {
				sn.IPv6CIDR = netip.PrefixFrom(f.IPv6, 64).Masked()
			}
			subnets[f.SubnetID] = sn
		}
		counters[f.Role]++
		name := f.Role + "-" + strconv.Itoa(counters[f.Role])
		inv.Instances = append(inv.Instances, Instance{
			ID: f.InstanceID, InstanceType: instanceType(f.Role), VPCID: vpcID, SubnetID: f.SubnetID,
			PrivateIP: f.IPv4, Tags: []Tag{{"Name", name}, {"Role", f.Role}},
		})
		n := NetworkInterface{
			ID: f.ID, VPCID: vpcID, SubnetID: f.SubnetID, AvailabilityZone: sn.AvailabilityZone, AZID: f.AZID,
			OwnerID: account, InterfaceType: "interface", MACAddress: mac(f.ID),
			PrivateIPs: []netip.Addr{f.IPv4}, SecurityGroups: []string{"sg-" + hexID(vpcID, "sg-"+f.Role)},
			Attachment: &Attachment{InstanceID: f.InstanceID, InstanceOwnerID: account},
		}
		if f.IPv6.IsValid() {
			n.IPv6Addresses = []netip.Addr{f.IPv6}
		}
		inv.Interfaces = append(inv.Interfaces, n)
	}
	for _, id := range sortedIDs(subnets) {
		inv.Subnets = append(inv.Subnets, *subnets[id])
	}
	inv.FlowLogs = append(inv.FlowLogs, FlowLog{
		ID: "fl-" + hexID(vpcID, "flow-log"), ResourceID: vpcID, TrafficType: "ALL",
		LogDestinationType: "cloud-watch-logs", LogGroupName: orDefault(opts.LogGroup, "/aws/vpc/flow-logs"),
		LogFormat:                orDefault(opts.LogFormat, DefaultLogFormat),
		DeliverLogsPermissionARN: "arn:aws:iam::" + account + ":role/flowd-demo-flow-logs",
		MaxAggregationInterval:   opts.MaxAggregationInterval, CreationTime: opts.Created,
	})
	if !opts.NoManaged && len(inv.Subnets) > 0 {
		inv.addManaged(region, account, vpcID)
	}
	return inv
}

// addManaged adds interfaces of AWS-managed owners, with the descriptions, types and
// requesters AWS gives them (see the package doc for the sources).
func (inv *Inventory) addManaged(region, account, vpcID string) {
	id := func(kind string) string { return hexID(vpcID, kind) }
	uuid := func(kind string) string {
		h := id(kind) + id(kind+"2")
		return h[1:9] + "-" + h[9:13] + "-4" + h[14:17] + "-8" + h[18:21] + "-" + h[21:33]
	}
	host := 200
	add := func(subnet int, n NetworkInterface) {
		sn := inv.Subnets[subnet%len(inv.Subnets)]
		base := sn.CIDR.Addr().As4()
		// The last /24 of the /20, from .200: the simulator hands out addresses from the bottom.
		addr := netip.AddrFrom4([4]byte{base[0], base[1], base[2] + 15, byte(host)})
		host++
		n.VPCID, n.SubnetID, n.AvailabilityZone, n.AZID = vpcID, sn.ID, sn.AvailabilityZone, sn.AZID
		n.OwnerID = account
		n.PrivateIPs = []netip.Addr{addr}
		n.MACAddress = mac(n.ID)
		inv.Interfaces = append(inv.Interfaces, n)
	}
	elbAccount := "amazon-elb"
	albID := id("alb")[1:]
	add(0, NetworkInterface{ID: "eni-" + id("alb-a"), InterfaceType: "interface", Description: "ELB app/flowd-demo-web/" + albID,
		RequesterID: elbAccount, RequesterManaged: true, Attachment: &Attachment{ID: "ela-attach-" + id("alb-a"), InstanceOwnerID: elbAccount, DeviceIndex: 1}})
	add(1, NetworkInterface{ID: "eni-" + id("alb-b"), InterfaceType: "interface", Description: "ELB app/flowd-demo-web/" + albID,
		RequesterID: elbAccount, RequesterManaged: true, Attachment: &Attachment{ID: "ela-attach-" + id("alb-b"), InstanceOwnerID: elbAccount, DeviceIndex: 1}})
	add(2, NetworkInterface{ID: "eni-" + id("nlb"), InterfaceType: "network_load_balancer", Description: "ELB net/flowd-demo-nlb/" + id("nlb-id")[1:],
		RequesterID: elbAccount, RequesterManaged: true, Attachment: &Attachment{ID: "ela-attach-" + id("nlb"), InstanceOwnerID: elbAccount, DeviceIndex: 1}})
	add(0, NetworkInterface{ID: "eni-" + id("nat"), InterfaceType: "nat_gateway", Description: "Interface for NAT Gateway nat-" + id("nat-gw"),
		RequesterID: "amazon-vpc-nat", RequesterManaged: true, PublicIP: netip.MustParseAddr("203.0.113.250"),
		Attachment: &Attachment{ID: "ela-attach-" + id("nat"), InstanceOwnerID: "amazon-vpc-nat", DeviceIndex: 1}})
	add(3, NetworkInterface{ID: "eni-" + id("lambda"), InterfaceType: "lambda", Description: "AWS Lambda VPC ENI-flowd-demo-thumbnailer-" + uuid("lambda"),
		RequesterID: "AROA" + strings.ToUpper(id("lambda-role")[1:17]) + ":flowd-demo-thumbnailer", RequesterManaged: true,
		Attachment: &Attachment{ID: "ela-attach-" + id("lambda"), InstanceOwnerID: "amazon-aws", DeviceIndex: 1}})
	add(4, NetworkInterface{ID: "eni-" + id("vpce"), InterfaceType: "vpc_endpoint", Description: "VPC Endpoint Interface vpce-" + id("vpce-id"),
		RequesterID: "727180483921", RequesterManaged: true})
	eksNode := "i-" + id("eks-node")
	inv.Instances = append(inv.Instances, Instance{ID: eksNode, InstanceType: "m6i.large", VPCID: vpcID, SubnetID: inv.Subnets[5%len(inv.Subnets)].ID,
		Tags: []Tag{{"Name", "flowd-demo-ng-1"}, {"eks:cluster-name", "flowd-demo"}}})
	add(5, NetworkInterface{ID: "eni-" + id("eks-node-primary"), InterfaceType: "interface", Description: "",
		Attachment: &Attachment{InstanceID: eksNode, InstanceOwnerID: account, DeviceIndex: 0}})
	add(5, NetworkInterface{ID: "eni-" + id("eks-node-cni"), InterfaceType: "interface", Description: "aws-K8S-" + eksNode,
		Attachment: &Attachment{InstanceID: eksNode, InstanceOwnerID: account, DeviceIndex: 1},
		Tags:       []Tag{{"node.k8s.amazonaws.com/instance_id", eksNode}, {"cluster.k8s.amazonaws.com/name", "flowd-demo"}}})
	add(6, NetworkInterface{ID: "eni-" + id("eks-cp"), InterfaceType: "interface", Description: "Amazon EKS flowd-demo",
		RequesterID: "602401143452", RequesterManaged: true, Attachment: &Attachment{InstanceOwnerID: "602401143452", DeviceIndex: 1}})
	add(6, NetworkInterface{ID: "eni-" + id("eks-pod"), InterfaceType: "branch", Description: "aws-k8s-branch-eni",
		Tags: []Tag{{"vpcresources.k8s.aws/cluster-name", "flowd-demo"}}})
	add(7, NetworkInterface{ID: "eni-" + id("ecs"), InterfaceType: "interface", Description: "arn:aws:ecs:" + region + ":" + account + ":attachment/" + uuid("ecs"),
		RequesterID: "578734482556", RequesterManaged: true, Attachment: &Attachment{InstanceOwnerID: "578734482556", DeviceIndex: 1}})
	add(8, NetworkInterface{ID: "eni-" + id("rds"), InterfaceType: "interface", Description: "RDSNetworkInterface",
		RequesterID: "amazon-rds", RequesterManaged: true})
	add(1, NetworkInterface{ID: "eni-" + id("efs"), InterfaceType: "efs", Description: "EFS mount target for fs-" + id("efs-fs") + " (fsmt-" + id("efs-mt") + ")",
		RequesterID: "641247547298", RequesterManaged: true})
	add(2, NetworkInterface{ID: "eni-" + id("tgw"), InterfaceType: "transit_gateway", Description: "Network Interface for Transit Gateway Attachment tgw-attach-" + id("tgw-attach"),
		RequesterID: "amazon-tgw", RequesterManaged: true})
	add(3, NetworkInterface{ID: "eni-" + id("spare"), InterfaceType: "interface", Description: "spare interface", Status: "available"})
	add(4, NetworkInterface{ID: "eni-" + id("auto-mode"), InterfaceType: "interface", Description: "",
		Managed: true, OperatorService: "eks.amazonaws.com", RequesterManaged: true, RequesterID: account,
		Tags: []Tag{{"eks:eks-cluster-name", "flowd-demo"}}})
	slices.SortFunc(inv.Interfaces, func(a, b NetworkInterface) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(inv.Instances, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
}

// hexID derives a stable 17-digit id suffix from a scope and a kind.
func hexID(scope, kind string) string {
	h := fnv.New64a()
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(kind))
	x := h.Sum64()
	g := fnv.New64a()
	g.Write([]byte(kind))
	y := g.Sum64() ^ x
	return "0" + fmt.Sprintf("%016x", x^(y<<7))[:16]
}

// mac derives a locally administered MAC address from an interface id.
func mac(id string) string {
	h := fnv.New64a()
	h.Write([]byte(id))
	x := h.Sum64()
	return fmt.Sprintf("0a:%02x:%02x:%02x:%02x:%02x", byte(x>>32), byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
}

// azName turns an AZ id (use1-az2) into a zone name of the Region (us-east-1b). AWS maps ids
// to names per account; the emulator's mapping is the obvious one.
func azName(region, azID string) string {
	letter := "a"
	if i := strings.LastIndex(azID, "-az"); i >= 0 {
		if n, err := strconv.Atoi(azID[i+3:]); err == nil && n >= 1 && n <= 26 {
			letter = string(rune('a' + n - 1))
		}
	}
	return region + letter
}

func tierName(role string) string {
	switch role {
	case "web":
		return "public"
	case "db":
		return "data"
	}
	return "private"
}

func instanceType(role string) string {
	switch role {
	case "web":
		return "c6i.large"
	case "db":
		return "r6i.xlarge"
	}
	return "m6i.large"
}
