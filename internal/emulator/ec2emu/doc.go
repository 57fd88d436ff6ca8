// Package ec2emu is an in-memory Amazon EC2 API for flowd's tests and its demo: the Describe
// actions flowd's inventory calls (DescribeFlowLogs, DescribeNetworkInterfaces,
// DescribeSubnets, DescribeVpcs, DescribeInstances), over the real wire protocol, so
// aws-sdk-go-v2's ec2 client and the AWS CLI talk to it unchanged; only the endpoint differs.
//
// # Protocol (the EC2 Query protocol, API version 2016-11-15)
//
//   - Requests are POST / with a form body: Action, Version, and the action's parameters
//     (lists as Name.1, Name.2; filters as Filter.N.Name and Filter.N.Value.M). A parameter the
//     action does not take is UnknownParameter; a missing or unknown Action is MissingAction or
//     InvalidAction; another Version is NoSuchVersion; no Authorization header is AuthFailure
//     (401) unless Config.AllowUnsigned. Signatures are not verified.
//   - Answers are XML documents <ActionResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
//     with requestId, the action's set (<flowLogSet>, <networkInterfaceSet>, <subnetSet>,
//     <vpcSet>, <reservationSet>, lists of <item>) and nextToken, element names as the SDK's
//     ec2query deserializers read them.
//   - Errors are <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
//     with EC2's codes and statuses: RequestLimitExceeded (503), UnauthorizedOperation (403,
//     per action: Config.Denied, SetDenied), InvalidParameterValue and
//     InvalidParameterCombination (400), *.NotFound for unknown ids in an id list (400),
//     DryRunOperation (412) for DryRun=true, InternalError (500) and Unavailable (503).
//
// # Paging and filters
//
// Every action pages: MaxResults (DescribeFlowLogs 1-1000, the others 5-1000, else
// InvalidParameterValue) and NextToken. Without MaxResults the answer holds everything. Items
// are listed in id order and a token names the last id returned (plus a nonce and a
// signature of the request's filters and ids; a token used with other parameters is refused),
// so resources added or removed between pages are neither repeated nor shifted. With
// Config.ShortPageProbability a page may hold fewer items than asked while more remain, as
// EC2's do when it filters after reading. MaxResults with an id list is
// InvalidParameterCombination (DescribeNetworkInterfaces, DescribeInstances).
//
// Filters AND together, the values of one filter OR together, and values take EC2's wildcards
// (* and ?). Supported names: DescribeFlowLogs deliver-log-status, log-destination-type,
// flow-log-id, log-group-name, resource-id, traffic-type; DescribeNetworkInterfaces
// network-interface-id, vpc-id, subnet-id, availability-zone, interface-type, description,
// requester-id, requester-managed, status, owner-id, private-ip-address (and
// addresses.private-ip-address), ipv6-addresses.ipv6-address, attachment.instance-id,
// attachment.status, group-id; DescribeSubnets subnet-id, vpc-id, cidr-block, availability-zone,
// availability-zone-id, owner-id, state; DescribeVpcs vpc-id, cidr, is-default, owner-id,
// state; DescribeInstances instance-id, vpc-id, subnet-id, instance-state-name,
// instance-type, private-ip-address, network-interface.network-interface-id; and tag:<key>,
// tag-key everywhere. Another name is InvalidParameterValue "The filter 'x' is invalid".
//
// Interfaces marked Managed (managed resource visibility, as for EKS Auto Mode) are listed only
// with IncludeManagedResources=true, unless Config.ShowManaged.
//
// # Quotas and faults
//
// Each action has a token bucket (AWS's non-mutating bucket by default: capacity 100, refill
// 20/s; Config.RateLimits, Config.Burst) answering RequestLimitExceeded when empty, on
// Config.Clock. SetFault scripts per action: InternalError (500), Unavailable (503),
// RequestLimitExceeded, slow answers, and a connection closed in the middle of a 200 answer.
//
// # The seeded network
//
// FromSimulator gives the EC2 view of internal/simulate's VPC (its VPC, subnets, one instance
// with a Name tag per interface, its flow log) plus interfaces of AWS-managed owners, each
// described the way AWS describes them (observed in public inventories and AWS's docs):
//
//	load balancer   "ELB app/<name>/<id>" (ALB), "ELB net/<name>/<id>" (NLB, type network_load_balancer), requester amazon-elb
//	NAT gateway     "Interface for NAT Gateway nat-<id>", type nat_gateway
//	Lambda          "AWS Lambda VPC ENI-<function>-<uuid>", type lambda
//	VPC endpoint    "VPC Endpoint Interface vpce-<id>", type vpc_endpoint
//	EKS             "aws-K8S-i-<node>" (VPC CNI secondary interface of a node), "Amazon EKS <cluster>"
//	                (control plane), "aws-k8s-branch-eni" (pod security groups, type branch)
//	ECS task        "arn:aws:ecs:<region>:<account>:attachment/<uuid>" (awsvpc mode)
//	RDS             "RDSNetworkInterface", requester amazon-rds
//	EFS             "EFS mount target for fs-<id> (fsmt-<id>)", type efs
//	Transit Gateway "Network Interface for Transit Gateway Attachment tgw-attach-<id>", type transit_gateway
//
// # Time and connections
//
// Start serves on a TCP port. InMemory serves over net.Pipe connections and returns the HTTP
// client dialing them: real HTTP/1.1, but no socket, so tests inside a testing/synctest bubble
// run the SDK against the emulator in virtual time.
//
// # Known differences from AWS
//
//   - One account and Region; no mutating actions over HTTP (the in-process Put*/Delete*
//     methods change the inventory); no resource-based rate limits; signatures unchecked.
//   - Answers carry the members flowd and its tests read and a few more, not every member.
//   - The wording of some messages (pagination tokens, parameter ranges) is approximate; the
//     codes and statuses are EC2's.
package ec2emu
