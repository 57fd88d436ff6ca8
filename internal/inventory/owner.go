package inventory

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Owner is what a network interface belongs to: a small fixed set, so it is a bounded label.
type Owner string

// The owners the inventory recognises. The patterns (interface type, description, requester)
// are the ones AWS writes; see ownerOf and docs/inventory.md.
const (
	OwnerInstance         Owner = "ec2_instance"
	OwnerLoadBalancer     Owner = "load_balancer"
	OwnerGatewayLB        Owner = "gateway_load_balancer"
	OwnerGatewayLBEnpoint Owner = "gateway_load_balancer_endpoint"
	OwnerNATGateway       Owner = "nat_gateway"
	OwnerLambda           Owner = "lambda"
	OwnerVPCEndpoint      Owner = "vpc_endpoint"
	OwnerEKSNode          Owner = "eks_node"
	OwnerEKSPod           Owner = "eks_pod"
	OwnerEKSControlPlane  Owner = "eks_control_plane"
	OwnerECSTask          Owner = "ecs_task"
	OwnerRDS              Owner = "rds"
	OwnerEFS              Owner = "efs"
	OwnerElastiCache      Owner = "elasticache"
	OwnerRedshift         Owner = "redshift"
	OwnerTransitGateway   Owner = "transit_gateway"
	OwnerAPIGateway       Owner = "api_gateway"
	OwnerGlobalAccel      Owner = "global_accelerator"
	OwnerTrunk            Owner = "trunk"
	OwnerAWSManaged       Owner = "aws_managed" // requester-managed by a service not listed above
	OwnerUnattached       Owner = "unattached"
	OwnerUnknown          Owner = "unknown"
)

// Owners lists every Owner value (the label's whole domain).
func Owners() []Owner {
	return []Owner{OwnerInstance, OwnerLoadBalancer, OwnerGatewayLB, OwnerGatewayLBEnpoint, OwnerNATGateway, OwnerLambda,
		OwnerVPCEndpoint, OwnerEKSNode, OwnerEKSPod, OwnerEKSControlPlane, OwnerECSTask, OwnerRDS, OwnerEFS,
		OwnerElastiCache, OwnerRedshift, OwnerTransitGateway, OwnerAPIGateway, OwnerGlobalAccel, OwnerTrunk,
		OwnerAWSManaged, OwnerUnattached, OwnerUnknown}
}

// MaxNameLen bounds a derived name (a label value).
const MaxNameLen = 64

// ownerOf derives an interface's owner and a human name from what DescribeNetworkInterfaces
// says of it; instanceName gives the Name tag of an instance ("" if unknown). The checks go
// from the most specific signal (the interface type AWS sets for managed interfaces) to the
// description patterns services write, to the attachment.
func ownerOf(n *types.NetworkInterface, instanceName func(id string) string) (Owner, string) {
	desc := aws.ToString(n.Description)
	instanceID := ""
	if n.Attachment != nil {
		instanceID = aws.ToString(n.Attachment.InstanceId)
	}
	tag := func(key string) string {
		for _, t := range n.TagSet {
			if aws.ToString(t.Key) == key {
				return aws.ToString(t.Value)
			}
		}
		return ""
	}
	switch string(n.InterfaceType) {
	case "nat_gateway", "natGateway":
		return OwnerNATGateway, idAfter(desc, "nat-")
	case "lambda":
		return OwnerLambda, lambdaName(desc)
	case "vpc_endpoint":
		return OwnerVPCEndpoint, idAfter(desc, "vpce-")
	case "efs":
		return OwnerEFS, idAfter(desc, "fs-")
	case "transit_gateway":
		return OwnerTransitGateway, idAfter(desc, "tgw-attach-")
	case "branch":
		return OwnerEKSPod, firstOf(tag("vpcresources.k8s.aws/cluster-name"), tag("cluster.k8s.amazonaws.com/name"))
	case "trunk":
		return OwnerTrunk, instanceName(instanceID)
	case "gateway_load_balancer":
		return OwnerGatewayLB, elbName(desc)
	case "gateway_load_balancer_endpoint":
		return OwnerGatewayLBEnpoint, idAfter(desc, "vpce-")
	case "network_load_balancer", "load_balancer":
		return OwnerLoadBalancer, elbName(desc)
	case "api_gateway_managed":
		return OwnerAPIGateway, ""
	case "global_accelerator_managed":
		return OwnerGlobalAccel, ""
	}
	switch {
	case strings.HasPrefix(desc, "ELB "):
		return OwnerLoadBalancer, elbName(desc)
	case strings.HasPrefix(desc, "aws-K8S-"):
		// The VPC CNI's secondary interfaces of a node: "aws-K8S-i-0123...".
		node := strings.TrimPrefix(desc, "aws-K8S-")
		if instanceID != "" {
			node = instanceID
		}
		return OwnerEKSNode, firstOf(instanceName(node), node)
	case strings.HasPrefix(desc, "Amazon EKS "):
		return OwnerEKSControlPlane, strings.TrimPrefix(desc, "Amazon EKS ")
	case desc == "aws-k8s-branch-eni":
		return OwnerEKSPod, tag("vpcresources.k8s.aws/cluster-name")
	case strings.HasPrefix(desc, "arn:aws:ecs:") || strings.HasPrefix(desc, "arn:aws-cn:ecs:") || strings.HasPrefix(desc, "arn:aws-us-gov:ecs:"):
		return OwnerECSTask, firstOf(tag("aws:ecs:serviceName"), tag("aws:ecs:clusterName"))
	case desc == "RDSNetworkInterface" || aws.ToString(n.RequesterId) == "amazon-rds":
		return OwnerRDS, ""
	case strings.HasPrefix(desc, "ElastiCache "):
		return OwnerElastiCache, strings.TrimPrefix(desc, "ElastiCache ")
	case desc == "RedshiftNetworkInterface":
		return OwnerRedshift, ""
	case strings.HasPrefix(desc, "AWS Lambda VPC ENI"):
		return OwnerLambda, lambdaName(desc)
	case strings.HasPrefix(desc, "Interface for NAT Gateway "):
		return OwnerNATGateway, idAfter(desc, "nat-")
	case strings.HasPrefix(desc, "VPC Endpoint Interface "):
		return OwnerVPCEndpoint, idAfter(desc, "vpce-")
	case strings.HasPrefix(desc, "EFS mount target for "):
		return OwnerEFS, idAfter(desc, "fs-")
	case strings.HasPrefix(desc, "Network Interface for Transit Gateway Attachment "):
		return OwnerTransitGateway, idAfter(desc, "tgw-attach-")
	}
	if instanceID != "" {
		if tag("node.k8s.amazonaws.com/instance_id") != "" || tag("eks:cluster-name") != "" {
			return OwnerEKSNode, firstOf(instanceName(instanceID), instanceID)
		}
		return OwnerInstance, firstOf(instanceName(instanceID), instanceID)
	}
	if aws.ToBool(n.RequesterManaged) || (n.Operator != nil && aws.ToBool(n.Operator.Managed)) {
		return OwnerAWSManaged, firstOf(aws.ToString(n.RequesterId), operatorPrincipal(n))
	}
	if n.Status == types.NetworkInterfaceStatusAvailable {
		return OwnerUnattached, ""
	}
	return OwnerUnknown, ""
}

func operatorPrincipal(n *types.NetworkInterface) string {
	if n.Operator == nil {
		return ""
	}
	return aws.ToString(n.Operator.Principal)
}

// elbName reads a load balancer's name from "ELB app/<name>/<id>", "ELB net/<name>/<id>",
// "ELB gwy/<name>/<id>" or, for a Classic Load Balancer, "ELB <name>".
func elbName(desc string) string {
	rest, ok := strings.CutPrefix(desc, "ELB ")
	if !ok {
		return ""
	}
	parts := strings.Split(rest, "/")
	if len(parts) == 3 {
		return parts[1]
	}
	return rest
}

// lambdaName reads the function name from "AWS Lambda VPC ENI-<function>-<uuid>" (the uuid is
// 36 characters; older interfaces have no suffix).
func lambdaName(desc string) string {
	rest, ok := strings.CutPrefix(desc, "AWS Lambda VPC ENI-")
	if !ok {
		return ""
	}
	if n := len(rest); n > 37 && rest[n-37] == '-' && isUUID(rest[n-36:]) {
		return rest[:n-37]
	}
	return rest
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// idAfter returns the first AWS id with the given prefix in s (prefix plus hexadecimal digits),
// or "".
func idAfter(s, prefix string) string {
	for i := 0; ; {
		j := strings.Index(s[i:], prefix)
		if j < 0 {
			return ""
		}
		start := i + j
		if start > 0 && isIDByte(s[start-1]) {
			i = start + len(prefix)
			continue
		}
		end := start + len(prefix)
		for end < len(s) && isHex(s[end]) {
			end++
		}
		if end > start+len(prefix) {
			return s[start:end]
		}
		i = start + len(prefix)
	}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func isIDByte(c byte) bool { return isHex(c) || c >= 'g' && c <= 'z' || c == '-' }

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// boundName makes a derived name safe as a label value: at most MaxNameLen bytes of valid
// UTF-8 (cut at a rune boundary), no control characters.
func boundName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) <= MaxNameLen {
		return s
	}
	cut := MaxNameLen
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut]
}
