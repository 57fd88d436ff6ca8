package ec2emu

import (
	"encoding/xml"
	"net/netip"
	"strconv"
	"time"
)

// The answer documents, element for element as EC2 writes them and as aws-sdk-go-v2's ec2query
// deserializers read them (lists are <xxxSet><item>...</item></xxxSet>; booleans true/false;
// times ISO 8601 in UTC with milliseconds). Only the members flowd and its tests read, plus
// what makes the documents recognisable to other clients, are written.

const xmlNamespace = "http://ec2.amazonaws.com/doc/" + APIVersion + "/"

type xmlResponse struct {
	XMLName   xml.Name
	Xmlns     string `xml:"xmlns,attr"`
	RequestID string `xml:"requestId"`
	Body      any
	NextToken string `xml:"nextToken,omitempty"`
}

type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type xmlTags struct {
	Items []xmlTag `xml:"item"`
}

func tagSet(tags []Tag) *xmlTags {
	if len(tags) == 0 {
		return nil
	}
	out := &xmlTags{Items: make([]xmlTag, len(tags))}
	for i, t := range tags {
		out.Items[i] = xmlTag(t)
	}
	return out
}

// ec2Time is the timestamp format of EC2's XML (the SDK parses it as ISO 8601).
func ec2Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

type xmlFlowLogSet struct {
	XMLName xml.Name     `xml:"flowLogSet"`
	Items   []xmlFlowLog `xml:"item"`
}

type xmlFlowLog struct {
	CreationTime             string   `xml:"creationTime,omitempty"`
	DeliverLogsErrorMessage  string   `xml:"deliverLogsErrorMessage,omitempty"`
	DeliverLogsPermissionArn string   `xml:"deliverLogsPermissionArn,omitempty"`
	DeliverLogsStatus        string   `xml:"deliverLogsStatus"`
	FlowLogID                string   `xml:"flowLogId"`
	FlowLogStatus            string   `xml:"flowLogStatus"`
	LogGroupName             string   `xml:"logGroupName,omitempty"`
	ResourceID               string   `xml:"resourceId"`
	TrafficType              string   `xml:"trafficType"`
	LogDestinationType       string   `xml:"logDestinationType"`
	LogDestination           string   `xml:"logDestination,omitempty"`
	LogFormat                string   `xml:"logFormat"`
	TagSet                   *xmlTags `xml:"tagSet,omitempty"`
	MaxAggregationInterval   int32    `xml:"maxAggregationInterval"`
}

func (s *Server) flowLogXML(f *FlowLog) xmlFlowLog {
	dest := orDefault(f.LogDestinationType, "cloud-watch-logs")
	arn := f.LogDestination
	if arn == "" && dest == "cloud-watch-logs" && f.LogGroupName != "" {
		arn = "arn:aws:logs:" + s.cfg.Region + ":" + s.cfg.AccountID + ":log-group:" + f.LogGroupName
	}
	agg := f.MaxAggregationInterval
	if agg == 0 {
		agg = 600
	}
	return xmlFlowLog{
		CreationTime:             ec2Time(f.CreationTime),
		DeliverLogsErrorMessage:  f.DeliverLogsErrorMessage,
		DeliverLogsPermissionArn: f.DeliverLogsPermissionARN,
		DeliverLogsStatus:        orDefault(f.DeliverLogsStatus, "SUCCESS"),
		FlowLogID:                f.ID,
		FlowLogStatus:            orDefault(f.FlowLogStatus, "ACTIVE"),
		LogGroupName:             f.LogGroupName,
		ResourceID:               f.ResourceID,
		TrafficType:              orDefault(f.TrafficType, "ALL"),
		LogDestinationType:       dest,
		LogDestination:           arn,
		LogFormat:                orDefault(f.LogFormat, DefaultLogFormat),
		TagSet:                   tagSet(f.Tags),
		MaxAggregationInterval:   agg,
	}
}

type xmlInterfaceSet struct {
	XMLName xml.Name       `xml:"networkInterfaceSet"`
	Items   []xmlInterface `xml:"item"`
}

type xmlAttachment struct {
	AttachmentID    string `xml:"attachmentId"`
	InstanceID      string `xml:"instanceId,omitempty"`
	InstanceOwnerID string `xml:"instanceOwnerId"`
	DeviceIndex     int32  `xml:"deviceIndex"`
	Status          string `xml:"status"`
}

type xmlAssociation struct {
	PublicIP string `xml:"publicIp"`
	IPOwner  string `xml:"ipOwnerId"`
}

type xmlPrivateIP struct {
	PrivateIPAddress string          `xml:"privateIpAddress"`
	Primary          bool            `xml:"primary"`
	Association      *xmlAssociation `xml:"association,omitempty"`
}

type xmlPrivateIPs struct {
	Items []xmlPrivateIP `xml:"item"`
}

type xmlIPv6 struct {
	IPv6Address string `xml:"ipv6Address"`
}

type xmlIPv6s struct {
	Items []xmlIPv6 `xml:"item"`
}

type xmlGroup struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type xmlGroups struct {
	Items []xmlGroup `xml:"item"`
}

type xmlOperator struct {
	Managed   bool   `xml:"managed"`
	Principal string `xml:"principal,omitempty"`
}

type xmlInterface struct {
	NetworkInterfaceID string          `xml:"networkInterfaceId"`
	SubnetID           string          `xml:"subnetId"`
	VPCID              string          `xml:"vpcId"`
	AvailabilityZone   string          `xml:"availabilityZone"`
	AvailabilityZoneID string          `xml:"availabilityZoneId,omitempty"`
	Description        string          `xml:"description"`
	OwnerID            string          `xml:"ownerId"`
	RequesterID        string          `xml:"requesterId,omitempty"`
	RequesterManaged   bool            `xml:"requesterManaged"`
	Status             string          `xml:"status"`
	MACAddress         string          `xml:"macAddress"`
	PrivateIPAddress   string          `xml:"privateIpAddress,omitempty"`
	SourceDestCheck    bool            `xml:"sourceDestCheck"`
	InterfaceType      string          `xml:"interfaceType"`
	GroupSet           *xmlGroups      `xml:"groupSet"`
	Attachment         *xmlAttachment  `xml:"attachment,omitempty"`
	Association        *xmlAssociation `xml:"association,omitempty"`
	TagSet             *xmlTags        `xml:"tagSet,omitempty"`
	PrivateIPs         *xmlPrivateIPs  `xml:"privateIpAddressesSet"`
	IPv6s              *xmlIPv6s       `xml:"ipv6AddressesSet"`
	Operator           *xmlOperator    `xml:"operator,omitempty"`
}

func (s *Server) interfaceXML(n *NetworkInterface) xmlInterface {
	out := xmlInterface{
		NetworkInterfaceID: n.ID,
		SubnetID:           n.SubnetID,
		VPCID:              n.VPCID,
		AvailabilityZone:   n.AvailabilityZone,
		AvailabilityZoneID: n.AZID,
		Description:        n.Description,
		OwnerID:            orDefault(n.OwnerID, s.cfg.AccountID),
		RequesterID:        n.RequesterID,
		RequesterManaged:   n.RequesterManaged,
		Status:             interfaceStatus(n),
		MACAddress:         n.MACAddress,
		SourceDestCheck:    n.InterfaceType != "nat_gateway",
		InterfaceType:      orDefault(n.InterfaceType, "interface"),
		GroupSet:           &xmlGroups{},
		TagSet:             tagSet(n.Tags),
		PrivateIPs:         &xmlPrivateIPs{},
		IPv6s:              &xmlIPv6s{},
	}
	for _, g := range n.SecurityGroups {
		out.GroupSet.Items = append(out.GroupSet.Items, xmlGroup{GroupID: g, GroupName: g})
	}
	var assoc *xmlAssociation
	if n.PublicIP.IsValid() {
		assoc = &xmlAssociation{PublicIP: n.PublicIP.String(), IPOwner: "amazon"}
		out.Association = assoc
	}
	for i, a := range n.PrivateIPs {
		p := xmlPrivateIP{PrivateIPAddress: a.String(), Primary: i == 0}
		if i == 0 {
			out.PrivateIPAddress = a.String()
			p.Association = assoc
		}
		out.PrivateIPs.Items = append(out.PrivateIPs.Items, p)
	}
	for _, a := range n.IPv6Addresses {
		out.IPv6s.Items = append(out.IPv6s.Items, xmlIPv6{a.String()})
	}
	if at := n.Attachment; at != nil {
		owner := at.InstanceOwnerID
		if owner == "" {
			owner = orDefault(n.OwnerID, s.cfg.AccountID)
		}
		out.Attachment = &xmlAttachment{
			AttachmentID:    orDefault(at.ID, "eni-attach-"+suffix(n.ID)),
			InstanceID:      at.InstanceID,
			InstanceOwnerID: owner,
			DeviceIndex:     at.DeviceIndex,
			Status:          orDefault(at.Status, "attached"),
		}
	}
	if n.Managed {
		out.Operator = &xmlOperator{Managed: true, Principal: n.OperatorService}
	}
	return out
}

// suffix returns what follows the first '-' of an id (the hexadecimal part).
func suffix(id string) string {
	for i := 0; i < len(id); i++ {
		if id[i] == '-' {
			return id[i+1:]
		}
	}
	return id
}

type xmlSubnetSet struct {
	XMLName xml.Name    `xml:"subnetSet"`
	Items   []xmlSubnet `xml:"item"`
}

type xmlSubnetIPv6 struct {
	AssociationID string `xml:"associationId"`
	IPv6CIDR      string `xml:"ipv6CidrBlock"`
	State         struct {
		State string `xml:"state"`
	} `xml:"ipv6CidrBlockState"`
}

type xmlSubnetIPv6s struct {
	Items []xmlSubnetIPv6 `xml:"item"`
}

type xmlSubnet struct {
	SubnetID                string          `xml:"subnetId"`
	SubnetArn               string          `xml:"subnetArn"`
	State                   string          `xml:"state"`
	OwnerID                 string          `xml:"ownerId"`
	VPCID                   string          `xml:"vpcId"`
	CIDRBlock               string          `xml:"cidrBlock"`
	IPv6CIDRBlocks          *xmlSubnetIPv6s `xml:"ipv6CidrBlockAssociationSet"`
	AvailableIPAddressCount int32           `xml:"availableIpAddressCount"`
	AvailabilityZone        string          `xml:"availabilityZone"`
	AvailabilityZoneID      string          `xml:"availabilityZoneId,omitempty"`
	DefaultForAz            bool            `xml:"defaultForAz"`
	MapPublicIPOnLaunch     bool            `xml:"mapPublicIpOnLaunch"`
	TagSet                  *xmlTags        `xml:"tagSet,omitempty"`
}

func (s *Server) subnetXML(sn *Subnet) xmlSubnet {
	owner := orDefault(sn.OwnerID, s.cfg.AccountID)
	out := xmlSubnet{
		SubnetID:           sn.ID,
		SubnetArn:          "arn:aws:ec2:" + s.cfg.Region + ":" + owner + ":subnet/" + sn.ID,
		State:              "available",
		OwnerID:            owner,
		VPCID:              sn.VPCID,
		CIDRBlock:          prefixString(sn.CIDR),
		IPv6CIDRBlocks:     &xmlSubnetIPv6s{},
		AvailabilityZone:   sn.AvailabilityZone,
		AvailabilityZoneID: sn.AZID,
		TagSet:             tagSet(sn.Tags),
	}
	if sn.CIDR.IsValid() && sn.CIDR.Addr().Is4() {
		// AWS reserves five addresses of every subnet.
		out.AvailableIPAddressCount = int32(max(0, (1<<(32-sn.CIDR.Bits()))-5))
	}
	if sn.IPv6CIDR.IsValid() {
		a := xmlSubnetIPv6{AssociationID: "subnet-cidr-assoc-" + suffix(sn.ID), IPv6CIDR: sn.IPv6CIDR.String()}
		a.State.State = "associated"
		out.IPv6CIDRBlocks.Items = append(out.IPv6CIDRBlocks.Items, a)
	}
	return out
}

type xmlVPCSet struct {
	XMLName xml.Name `xml:"vpcSet"`
	Items   []xmlVPC `xml:"item"`
}

type xmlCIDRAssoc struct {
	AssociationID string `xml:"associationId"`
	CIDRBlock     string `xml:"cidrBlock"`
	State         struct {
		State string `xml:"state"`
	} `xml:"cidrBlockState"`
}

type xmlCIDRAssocs struct {
	Items []xmlCIDRAssoc `xml:"item"`
}

type xmlIPv6Assoc struct {
	AssociationID string `xml:"associationId"`
	IPv6CIDRBlock string `xml:"ipv6CidrBlock"`
	State         struct {
		State string `xml:"state"`
	} `xml:"ipv6CidrBlockState"`
}

type xmlIPv6Assocs struct {
	Items []xmlIPv6Assoc `xml:"item"`
}

type xmlVPC struct {
	VPCID           string         `xml:"vpcId"`
	OwnerID         string         `xml:"ownerId"`
	State           string         `xml:"state"`
	CIDRBlock       string         `xml:"cidrBlock"`
	CIDRAssocs      *xmlCIDRAssocs `xml:"cidrBlockAssociationSet"`
	IPv6Assocs      *xmlIPv6Assocs `xml:"ipv6CidrBlockAssociationSet,omitempty"`
	DhcpOptionsID   string         `xml:"dhcpOptionsId"`
	InstanceTenancy string         `xml:"instanceTenancy"`
	IsDefault       bool           `xml:"isDefault"`
	TagSet          *xmlTags       `xml:"tagSet,omitempty"`
}

func (s *Server) vpcXML(v *VPC) xmlVPC {
	out := xmlVPC{
		VPCID:           v.ID,
		OwnerID:         orDefault(v.OwnerID, s.cfg.AccountID),
		State:           "available",
		CIDRBlock:       prefixString(v.CIDR),
		CIDRAssocs:      &xmlCIDRAssocs{},
		DhcpOptionsID:   "dopt-" + suffix(v.ID),
		InstanceTenancy: "default",
		IsDefault:       v.IsDefault,
		TagSet:          tagSet(v.Tags),
	}
	for i, p := range append([]netip.Prefix{v.CIDR}, v.ExtraCIDR...) {
		if !p.IsValid() {
			continue
		}
		a := xmlCIDRAssoc{AssociationID: "vpc-cidr-assoc-" + strconv.Itoa(i) + suffix(v.ID), CIDRBlock: p.String()}
		a.State.State = "associated"
		out.CIDRAssocs.Items = append(out.CIDRAssocs.Items, a)
	}
	if len(v.IPv6CIDR) > 0 {
		out.IPv6Assocs = &xmlIPv6Assocs{}
		for i, p := range v.IPv6CIDR {
			a := xmlIPv6Assoc{AssociationID: "vpc-cidr-assoc-6" + strconv.Itoa(i) + suffix(v.ID), IPv6CIDRBlock: p.String()}
			a.State.State = "associated"
			out.IPv6Assocs.Items = append(out.IPv6Assocs.Items, a)
		}
	}
	return out
}

type xmlReservationSet struct {
	XMLName xml.Name         `xml:"reservationSet"`
	Items   []xmlReservation `xml:"item"`
}

type xmlReservation struct {
	ReservationID string `xml:"reservationId"`
	OwnerID       string `xml:"ownerId"`
	GroupSet      struct {
	} `xml:"groupSet"`
	Instances struct {
		Items []xmlInstance `xml:"item"`
	} `xml:"instancesSet"`
}

type xmlInstanceState struct {
	Code int32  `xml:"code"`
	Name string `xml:"name"`
}

type xmlInstanceENI struct {
	NetworkInterfaceID string `xml:"networkInterfaceId"`
	SubnetID           string `xml:"subnetId"`
	VPCID              string `xml:"vpcId"`
	PrivateIPAddress   string `xml:"privateIpAddress,omitempty"`
	Status             string `xml:"status"`
	InterfaceType      string `xml:"interfaceType"`
}

type xmlInstance struct {
	InstanceID     string           `xml:"instanceId"`
	ImageID        string           `xml:"imageId"`
	InstanceState  xmlInstanceState `xml:"instanceState"`
	PrivateDNSName string           `xml:"privateDnsName"`
	InstanceType   string           `xml:"instanceType"`
	LaunchTime     string           `xml:"launchTime,omitempty"`
	Placement      struct {
		AvailabilityZone string `xml:"availabilityZone"`
	} `xml:"placement"`
	SubnetID          string   `xml:"subnetId"`
	VPCID             string   `xml:"vpcId"`
	PrivateIPAddress  string   `xml:"privateIpAddress,omitempty"`
	TagSet            *xmlTags `xml:"tagSet,omitempty"`
	NetworkInterfaces struct {
		Items []xmlInstanceENI `xml:"item"`
	} `xml:"networkInterfaceSet"`
}

var instanceStateCodes = map[string]int32{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

func (s *Server) instanceXML(in *Instance, enis []*NetworkInterface) xmlReservation {
	state := orDefault(in.State, "running")
	x := xmlInstance{
		InstanceID:    in.ID,
		ImageID:       "ami-" + suffix(in.ID),
		InstanceState: xmlInstanceState{Code: instanceStateCodes[state], Name: state},
		InstanceType:  orDefault(in.InstanceType, "t3.micro"),
		LaunchTime:    ec2Time(in.LaunchTime),
		SubnetID:      in.SubnetID,
		VPCID:         in.VPCID,
		TagSet:        tagSet(in.Tags),
	}
	if in.PrivateIP.IsValid() {
		x.PrivateIPAddress = in.PrivateIP.String()
		if in.PrivateIP.Is4() {
			b := in.PrivateIP.As4()
			x.PrivateDNSName = "ip-" + strconv.Itoa(int(b[0])) + "-" + strconv.Itoa(int(b[1])) + "-" + strconv.Itoa(int(b[2])) + "-" + strconv.Itoa(int(b[3])) + s.dnsSuffix()
		}
	}
	for _, n := range enis {
		e := xmlInstanceENI{NetworkInterfaceID: n.ID, SubnetID: n.SubnetID, VPCID: n.VPCID, Status: interfaceStatus(n), InterfaceType: orDefault(n.InterfaceType, "interface")}
		if len(n.PrivateIPs) > 0 {
			e.PrivateIPAddress = n.PrivateIPs[0].String()
		}
		x.Placement.AvailabilityZone = n.AvailabilityZone
		x.NetworkInterfaces.Items = append(x.NetworkInterfaces.Items, e)
	}
	r := xmlReservation{ReservationID: "r-" + suffix(in.ID), OwnerID: s.cfg.AccountID}
	r.Instances.Items = []xmlInstance{x}
	return r
}

// dnsSuffix is the private DNS domain of the Region: ec2.internal in us-east-1,
// <region>.compute.internal elsewhere.
func (s *Server) dnsSuffix() string {
	if s.cfg.Region == "us-east-1" {
		return ".ec2.internal"
	}
	return "." + s.cfg.Region + ".compute.internal"
}

type xmlErrorResponse struct {
	XMLName xml.Name `xml:"Response"`
	Errors  struct {
		Error struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
	} `xml:"Errors"`
	RequestID string `xml:"RequestID"`
}
