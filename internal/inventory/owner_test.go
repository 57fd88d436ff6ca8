package inventory

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Descriptions, types and requesters as AWS writes them (docs/inventory.md lists the sources).
func TestOwnerOf(t *testing.T) {
	t.Parallel()
	names := map[string]string{"i-0123456789abcdef0": "web-1", "i-0eks000000000000a": "ng-1"}
	lookup := func(id string) string { return names[id] }
	att := func(id string) *types.NetworkInterfaceAttachment {
		return &types.NetworkInterfaceAttachment{InstanceId: aws.String(id)}
	}
	tags := func(kv ...string) []types.Tag {
		var out []types.Tag
		for i := 0; i < len(kv); i += 2 {
			out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		return out
	}
	cases := []struct {
		name      string
		n         types.NetworkInterface
		owner     Owner
		ownerName string
	}{
		{"instance with Name", types.NetworkInterface{Description: aws.String("Primary network interface"), Attachment: att("i-0123456789abcdef0")}, OwnerInstance, "web-1"},
		{"instance without Name", types.NetworkInterface{Attachment: att("i-0fffffffffffffff0")}, OwnerInstance, "i-0fffffffffffffff0"},
		{"ALB", types.NetworkInterface{Description: aws.String("ELB app/sandbox-DependencyTrack-usw2/e243a104b51f6849"), RequesterId: aws.String("amazon-elb")}, OwnerLoadBalancer, "sandbox-DependencyTrack-usw2"},
		{"NLB", types.NetworkInterface{InterfaceType: "network_load_balancer", Description: aws.String("ELB net/api/0123456789abcdef")}, OwnerLoadBalancer, "api"},
		{"classic ELB", types.NetworkInterface{Description: aws.String("ELB legacy-web")}, OwnerLoadBalancer, "legacy-web"},
		{"GWLB", types.NetworkInterface{InterfaceType: "gateway_load_balancer", Description: aws.String("ELB gwy/inspect/0123456789abcdef")}, OwnerGatewayLB, "inspect"},
		{"NAT gateway", types.NetworkInterface{InterfaceType: "nat_gateway", Description: aws.String("Interface for NAT Gateway nat-0d5af2c8f8e52d6ad")}, OwnerNATGateway, "nat-0d5af2c8f8e52d6ad"},
		{"NAT gateway (SDK enum spelling)", types.NetworkInterface{InterfaceType: types.NetworkInterfaceTypeNatGateway, Description: aws.String("Interface for NAT Gateway nat-01")}, OwnerNATGateway, "nat-01"},
		{"Lambda", types.NetworkInterface{InterfaceType: "lambda", Description: aws.String("AWS Lambda VPC ENI-sandbox_Login_usw2-112dbf85-ff5f-48f9-b773-f7de669598f7")}, OwnerLambda, "sandbox_Login_usw2"},
		{"Lambda, old style", types.NetworkInterface{Description: aws.String("AWS Lambda VPC ENI-resize")}, OwnerLambda, "resize"},
		{"VPC endpoint", types.NetworkInterface{InterfaceType: "vpc_endpoint", Description: aws.String("VPC Endpoint Interface vpce-0abc123def4567890")}, OwnerVPCEndpoint, "vpce-0abc123def4567890"},
		{"EKS CNI node interface", types.NetworkInterface{Description: aws.String("aws-K8S-i-0eks000000000000a"), Attachment: att("i-0eks000000000000a")}, OwnerEKSNode, "ng-1"},
		{"EKS node primary (tagged)", types.NetworkInterface{Attachment: att("i-0eks000000000000a"), TagSet: tags("eks:cluster-name", "prod")}, OwnerEKSNode, "ng-1"},
		{"EKS control plane", types.NetworkInterface{Description: aws.String("Amazon EKS prod-cluster")}, OwnerEKSControlPlane, "prod-cluster"},
		{"EKS pod branch", types.NetworkInterface{InterfaceType: "branch", Description: aws.String("aws-k8s-branch-eni"), TagSet: tags("vpcresources.k8s.aws/cluster-name", "prod")}, OwnerEKSPod, "prod"},
		{"ECS task", types.NetworkInterface{Description: aws.String("arn:aws:ecs:us-east-1:123456789012:attachment/5b0e4f7a-1111-4222-8333-444455556666"), TagSet: tags("aws:ecs:serviceName", "checkout")}, OwnerECSTask, "checkout"},
		{"RDS", types.NetworkInterface{Description: aws.String("RDSNetworkInterface"), RequesterId: aws.String("amazon-rds")}, OwnerRDS, ""},
		{"EFS", types.NetworkInterface{InterfaceType: "efs", Description: aws.String("EFS mount target for fs-0954adb46534caae7 (fsmt-0f65a5b8492239fa3)")}, OwnerEFS, "fs-0954adb46534caae7"},
		{"TGW", types.NetworkInterface{InterfaceType: "transit_gateway", Description: aws.String("Network Interface for Transit Gateway Attachment tgw-attach-0123456789abcdef0")}, OwnerTransitGateway, "tgw-attach-0123456789abcdef0"},
		{"ElastiCache", types.NetworkInterface{Description: aws.String("ElastiCache sessions-001")}, OwnerElastiCache, "sessions-001"},
		{"trunk", types.NetworkInterface{InterfaceType: "trunk", Attachment: att("i-0123456789abcdef0")}, OwnerTrunk, "web-1"},
		{"other managed", types.NetworkInterface{RequesterManaged: aws.Bool(true), RequesterId: aws.String("amazon-aws")}, OwnerAWSManaged, "amazon-aws"},
		{"managed visibility", types.NetworkInterface{Operator: &types.OperatorResponse{Managed: aws.Bool(true), Principal: aws.String("eks.amazonaws.com")}}, OwnerAWSManaged, "eks.amazonaws.com"},
		{"unattached", types.NetworkInterface{Status: types.NetworkInterfaceStatusAvailable}, OwnerUnattached, ""},
		{"nothing known", types.NetworkInterface{Status: types.NetworkInterfaceStatusInUse}, OwnerUnknown, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, name := ownerOf(&tc.n, lookup)
			if o != tc.owner || name != tc.ownerName {
				t.Errorf("got %s %q, want %s %q", o, name, tc.owner, tc.ownerName)
			}
		})
	}
}

func TestBoundName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 40) // 80 bytes
	if got := boundName(long); len(got) > MaxNameLen || !utf8.ValidString(got) || got == "" {
		t.Errorf("boundName cut %q badly", got)
	}
	if got := boundName("a\x00b\nc\xffd"); got != "abcd" {
		t.Errorf("boundName kept control or invalid bytes: %q", got)
	}
}

// FuzzOwnerOf: any description, type, requester and tag must give a known Owner and a name
// that is a bounded, valid label value after boundName, never a panic.
func FuzzOwnerOf(f *testing.F) {
	for _, s := range []string{"ELB app/a/b", "ELB ", "AWS Lambda VPC ENI-", "aws-K8S-", "Interface for NAT Gateway nat-", "arn:aws:ecs:", "EFS mount target for fs-", "nat-nat-0"} {
		f.Add(s, "interface", "amazon-elb", "x")
	}
	f.Add("", "lambda", "", "")
	known := map[Owner]bool{}
	for _, o := range Owners() {
		known[o] = true
	}
	f.Fuzz(func(t *testing.T, desc, typ, requester, tag string) {
		n := types.NetworkInterface{Description: aws.String(desc), InterfaceType: types.NetworkInterfaceType(typ), RequesterId: aws.String(requester),
			TagSet: []types.Tag{{Key: aws.String("vpcresources.k8s.aws/cluster-name"), Value: aws.String(tag)}}}
		o, name := ownerOf(&n, func(string) string { return tag })
		if !known[o] {
			t.Fatalf("unknown owner %q", o)
		}
		if b := boundName(name); len(b) > MaxNameLen || !utf8.ValidString(b) {
			t.Fatalf("name %q not bounded", b)
		}
	})
}
