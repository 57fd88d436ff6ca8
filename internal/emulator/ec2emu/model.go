package ec2emu

import (
	"net/netip"
	"time"
)

// The resources the emulator serves. They are plain values: the Put* methods store copies,
// and answers are built from them under the server's lock. Ids follow AWS's shapes (vpc-,
// subnet-, i-, eni-, fl- and 17 hexadecimal digits) but are not checked, so tests may use
// short ones.

// Tag is a resource tag.
type Tag struct {
	Key, Value string
}

// VPC is a virtual private cloud.
type VPC struct {
	ID        string
	OwnerID   string       // "" = Config.AccountID
	CIDR      netip.Prefix // primary IPv4 CIDR block
	ExtraCIDR []netip.Prefix
	IPv6CIDR  []netip.Prefix
	IsDefault bool
	Tags      []Tag
}

// Subnet is one subnet of a VPC.
type Subnet struct {
	ID               string
	VPCID            string
	OwnerID          string // "" = Config.AccountID
	CIDR             netip.Prefix
	IPv6CIDR         netip.Prefix // zero: none
	AvailabilityZone string       // us-east-1a
	AZID             string       // use1-az1
	Tags             []Tag
}

// Instance is an EC2 instance; DescribeInstances answers one reservation per instance.
type Instance struct {
	ID           string
	InstanceType string // "" = t3.micro
	State        string // "" = running
	VPCID        string
	SubnetID     string
	PrivateIP    netip.Addr
	LaunchTime   time.Time
	Tags         []Tag
}

// Attachment attaches a network interface to an instance (or, for managed interfaces, to a
// resource in another account, shown by InstanceOwnerID alone).
type Attachment struct {
	ID              string // eni-attach-...
	InstanceID      string
	InstanceOwnerID string
	DeviceIndex     int32
	Status          string // "" = attached
}

// NetworkInterface is an elastic network interface. Its owner is told by InterfaceType,
// Description, RequesterID and RequesterManaged, as AWS tells it: see the package doc.
type NetworkInterface struct {
	ID               string
	VPCID            string
	SubnetID         string
	AvailabilityZone string
	AZID             string
	OwnerID          string // "" = Config.AccountID
	InterfaceType    string // "" = interface
	Description      string
	RequesterID      string
	RequesterManaged bool
	// Managed marks an interface of managed resource visibility (the "operator" of EKS Auto
	// Mode, ECS Managed Instances): DescribeNetworkInterfaces lists it only with
	// IncludeManagedResources=true, unless Config.ShowManaged.
	Managed         bool
	OperatorService string // the operator's principal, e.g. eks.amazonaws.com (Managed only)
	Status          string // "" = in-use (available when no attachment)
	MACAddress      string
	PrivateIPs      []netip.Addr // the first is the primary address
	IPv6Addresses   []netip.Addr
	PublicIP        netip.Addr // zero: none
	Attachment      *Attachment
	SecurityGroups  []string
	Tags            []Tag
}

// FlowLog is a VPC flow log subscription.
type FlowLog struct {
	ID                       string
	ResourceID               string // vpc-, subnet-, eni-, tgw- or tgw-attach- id
	TrafficType              string // ALL, ACCEPT or REJECT ("" = ALL)
	LogDestinationType       string // cloud-watch-logs, s3 or kinesis-data-firehose ("" = cloud-watch-logs)
	LogGroupName             string // cloud-watch-logs only
	LogDestination           string // ARN of the group, bucket or stream ("" = derived for cloud-watch-logs)
	LogFormat                string // "" = the default format
	DeliverLogsStatus        string // SUCCESS or FAILED ("" = SUCCESS)
	DeliverLogsErrorMessage  string // Rate limited, Access error or Unknown error, when FAILED
	DeliverLogsPermissionARN string
	FlowLogStatus            string // "" = ACTIVE
	MaxAggregationInterval   int32  // 60 or 600 ("" = 600)
	CreationTime             time.Time
	Tags                     []Tag
}

// DefaultLogFormat is the format AWS reports for a flow log created without one.
const DefaultLogFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
