// Package inventory asks the EC2 API what the flow logs and the network are, within a small
// API budget, so that flowd can discover flow logs by itself and put names on interface ids
// and addresses. It never imports Prometheus: Stats and Snapshot are plain values the metrics
// package reads.
//
// # What it lists
//
// Each refresh (Options.RefreshInterval, 5m by default) pages, with MaxResults 1000:
//
//   - DescribeFlowLogs: every flow log, with its resource (VPC, subnet, interface, transit
//     gateway), destination, log group, exact LogFormat and DeliverLogsStatus. LogGroups
//     groups those delivered to CloudWatch Logs by group, with their distinct formats; when
//     several flow logs share a group, FlowLogForStream tells which one writes a stream (AWS
//     names streams <interface-id>-all): the flow log of the interface itself, else of its
//     subnet, else of its VPC.
//   - DescribeVpcs and DescribeSubnets: ids, Name tags, IPv4 and IPv6 CIDR blocks.
//   - DescribeNetworkInterfaces with IncludeManagedResources=true (interfaces of managed
//     resource visibility, such as EKS Auto Mode's, are listed too): the first
//     Options.MaxInterfaces in id order are kept (the rest counted), each trimmed to what naming
//     needs and at most 16 addresses.
//   - DescribeInstances: the Name tags of the instances those interfaces are attached to.
//
// # Owners and names
//
// An interface's Owner comes from its interface type (nat_gateway, lambda, vpc_endpoint, efs,
// transit_gateway, branch, trunk, network_load_balancer, gateway_load_balancer, ...), then the
// description AWS services write ("ELB app/<name>/<id>", "AWS Lambda VPC ENI-<function>-<uuid>",
// "aws-K8S-i-<node>", "Amazon EKS <cluster>", "arn:aws:ecs:...:attachment/<id>",
// "RDSNetworkInterface", "EFS mount target for fs-<id> (...)", "Interface for NAT Gateway
// nat-<id>", "VPC Endpoint Interface vpce-<id>", "Network Interface for Transit Gateway
// Attachment tgw-attach-<id>", "ElastiCache <id>"), then the attachment (an EC2 instance and
// its Name tag, or an EKS node by its tags), then requester-managed (aws_managed), else
// unattached or unknown. Names are bounded to MaxNameLen bytes of printable UTF-8. The set of
// owners is fixed (Owners), so it is a bounded label.
//
// # Addresses
//
// Snapshot.Classify places an address: an address of a kept interface (its owner and name),
// inside a known subnet, inside a known VPC, in AWS's published ranges (IPRanges, read from an
// ip-ranges.json file; the most specific service wins over AMAZON), private space, or the
// internet. Lookups are a map probe per prefix length and do not allocate.
//
// # Budget and failure
//
// Every attempt waits on a rate.Limiter shared per account and Region (Limiters; 2 requests/s,
// burst 5 by default: the EC2 bucket is shared with every other tool in the account) and is
// retried on RequestLimitExceeded, 5xx and transport failures with jittered exponential
// back-off (500ms to 30s, 6 attempts). Give the SDK aws.NopRetryer so that every attempt spends
// from the shared budget. A part that fails keeps its last good value; UnauthorizedOperation is
// not retried, logs one warning per action naming what is lost, is counted, and leaves that part
// empty, so flowd keeps counting without names. All time goes through the injected Clock.
package inventory
