package parse

import "net/netip"

// Field identifies one flow log field, as named in the format string (${field-name}).
// The zero value is FieldUnknown: a name flowd does not know, kept as an opaque column.
type Field uint8

// The known fields: those of VPC flow logs, versions 2 to 11, in the order of the AWS
// documentation, then those that only transit gateway flow logs have (version 6 of theirs).
// Fields both kinds share (version, srcaddr, packets, ...) are one Field.
const (
	FieldUnknown Field = iota
	// Version 2 (the default format).
	FieldVersion
	FieldAccountID
	FieldInterfaceID
	FieldSrcAddr
	FieldDstAddr
	FieldSrcPort
	FieldDstPort
	FieldProtocol
	FieldPackets
	FieldBytes
	FieldStart
	FieldEnd
	FieldAction
	FieldLogStatus
	// Version 3.
	FieldVPCID
	FieldSubnetID
	FieldInstanceID
	FieldTCPFlags
	FieldType
	FieldPktSrcAddr
	FieldPktDstAddr
	// Version 4.
	FieldRegion
	FieldAZID
	FieldSublocationType
	FieldSublocationID
	// Version 5.
	FieldPktSrcAWSService
	FieldPktDstAWSService
	FieldFlowDirection
	FieldTrafficPath
	// Version 7 (ECS).
	FieldECSClusterARN
	FieldECSClusterName
	FieldECSContainerInstanceARN
	FieldECSContainerInstanceID
	FieldECSContainerID
	FieldECSSecondContainerID
	FieldECSServiceName
	FieldECSTaskDefinitionARN
	FieldECSTaskARN
	FieldECSTaskID
	// Version 8.
	FieldRejectReason
	// Version 9.
	FieldResourceID
	// Version 10.
	FieldEncryptionStatus
	// Version 11: EC2 tags and the next hop, written by AWS into the record itself.
	FieldInstanceTag
	FieldInstanceTag2
	FieldInterfaceTag
	FieldInterfaceTag2
	FieldASGTag
	FieldASGTag2
	FieldInterfaceType
	FieldNextHopInterfaceID
	FieldNextHopSubnetID
	FieldNextHopAZID
	FieldNextHopVPCID
	FieldNextHopInterfaceType
	// Transit gateway flow logs only.
	FieldResourceType
	FieldTGWID
	FieldTGWAttachmentID
	FieldTGWSrcVPCAccountID
	FieldTGWDstVPCAccountID
	FieldTGWSrcVPCID
	FieldTGWDstVPCID
	FieldTGWSrcSubnetID
	FieldTGWDstSubnetID
	FieldTGWSrcENI
	FieldTGWDstENI
	FieldTGWSrcAZID
	FieldTGWDstAZID
	FieldTGWPairAttachmentID
	FieldPacketsLostNoRoute
	FieldPacketsLostBlackhole
	FieldPacketsLostMTUExceeded
	FieldPacketsLostTTLExpired

	numFields // one past the last known field
)

// fieldSetWords is the number of 64-bit words of a FieldSet: a power of two, so that indexing
// with f>>6 masked needs no bounds check. The array below fails to compile if it is too small.
const fieldSetWords = 2

var _ [fieldSetWords*64 - int(numFields)]struct{}

// FieldSet is a bitmask of fields, indexed by Field. Record.Present uses it to say which fields
// carried a value (not "-") in the parsed line. There are more known fields than bits in a
// word, so it is an array; the zero value is the empty set and sets compare with ==.
type FieldSet [fieldSetWords]uint64

// Has reports whether f is in the set; never for a Field outside the known ones.
func (s FieldSet) Has(f Field) bool {
	return f < numFields && s[f>>6&(fieldSetWords-1)]&(1<<(f&63)) != 0
}

// With returns the set with f added; a Field outside the known ones leaves it unchanged.
func (s FieldSet) With(f Field) FieldSet {
	if f < numFields {
		s[f>>6&(fieldSetWords-1)] |= 1 << (f & 63)
	}
	return s
}

// Without returns the set with f removed.
func (s FieldSet) Without(f Field) FieldSet {
	if f < numFields {
		s[f>>6&(fieldSetWords-1)] &^= 1 << (f & 63)
	}
	return s
}

// Union returns the fields in s or t.
func (s FieldSet) Union(t FieldSet) FieldSet {
	for i := range s {
		s[i] |= t[i]
	}
	return s
}

// Minus returns the fields in s and not in t.
func (s FieldSet) Minus(t FieldSet) FieldSet {
	for i := range s {
		s[i] &^= t[i]
	}
	return s
}

// Intersects reports whether s and t have a field in common.
func (s FieldSet) Intersects(t FieldSet) bool {
	for i := range s {
		if s[i]&t[i] != 0 {
			return true
		}
	}
	return false
}

// Fields returns the fields of the set, in Field order.
func (s FieldSet) Fields() []Field {
	var fs []Field
	for f := FieldUnknown + 1; f < numFields; f++ {
		if s.Has(f) {
			fs = append(fs, f)
		}
	}
	return fs
}

// FieldSetOf returns the set of the given fields.
func FieldSetOf(fs ...Field) FieldSet {
	var s FieldSet
	for _, f := range fs {
		s = s.With(f)
	}
	return s
}

// Action is the value of the action field.
type Action uint8

// Actions. ActionNone is the "-" of NODATA and SKIPDATA records, or a format without the field.
const (
	ActionNone Action = iota
	ActionAccept
	ActionReject
)

// LogStatus is the value of the log-status field.
type LogStatus uint8

// Log statuses. LogStatusNone means the field was absent from the format or "-".
const (
	LogStatusNone LogStatus = iota
	LogStatusOK
	LogStatusNoData
	LogStatusSkipData
)

// FlowDirection is the value of the flow-direction field (version 5).
type FlowDirection uint8

// Flow directions.
const (
	FlowDirectionNone FlowDirection = iota
	FlowDirectionIngress
	FlowDirectionEgress
)

// TrafficType is the value of the type field (version 3).
type TrafficType uint8

// Traffic types.
const (
	TrafficTypeNone TrafficType = iota
	TrafficTypeIPv4
	TrafficTypeIPv6
	TrafficTypeEFA
)

// EncryptionStatus is the value of the encryption-status field (version 10): whether the flow
// was encrypted in transit, as VPC Encryption Controls see it. AWS writes it as a digit.
type EncryptionStatus uint8

// Encryption statuses, with AWS's values. A record whose field is "-" (Encryption Controls off,
// or status unknown) does not have FieldEncryptionStatus in Present.
const (
	EncryptionCleartext   EncryptionStatus = 0 // not encrypted
	EncryptionNitro       EncryptionStatus = 1 // encrypted by the Nitro hardware (layer 3)
	EncryptionApplication EncryptionStatus = 2 // encrypted by the application (TLS)
	EncryptionBoth        EncryptionStatus = 3 // both
)

// ResourceType is the value of the resource-type field of transit gateway flow logs: the kind
// of resource the flow log was created on.
type ResourceType uint8

// Resource types. ResourceTypeNone means the field was absent or "-".
const (
	ResourceTypeNone ResourceType = iota
	ResourceTypeTransitGateway
	ResourceTypeTransitGatewayAttachment
)

// Record is one parsed flow log record. Only fields in Present carry a value; the others are
// zero. String fields (and Opaque) refer into the line given to Format.Parse and are valid only
// until the next call that reuses the Record or the line: copy what you keep.
type Record struct {
	Present FieldSet
	// v2Only is set by parseV2: no field outside DefaultFormat's is set, so parseV2 may skip
	// the reset. Every other way of filling a Record (the general path, a composite literal)
	// leaves it false, which makes the next Parse reset the Record whole.
	v2Only bool

	// Version 2.
	Version     uint8
	AccountID   string
	InterfaceID string
	SrcAddr     netip.Addr
	DstAddr     netip.Addr
	SrcPort     uint16
	DstPort     uint16
	Protocol    uint8
	Packets     uint64
	Bytes       uint64
	Start       int64 // Unix seconds
	End         int64 // Unix seconds
	Action      Action
	LogStatus   LogStatus

	// Version 3.
	VPCID      string
	SubnetID   string
	InstanceID string
	TCPFlags   uint8
	Type       TrafficType
	PktSrcAddr netip.Addr
	PktDstAddr netip.Addr

	// Version 4.
	Region          string
	AZID            string
	SublocationType string
	SublocationID   string

	// Version 5.
	PktSrcAWSService string
	PktDstAWSService string
	FlowDirection    FlowDirection
	TrafficPath      uint8

	// Version 7 (ECS).
	ECSClusterARN           string
	ECSClusterName          string
	ECSContainerInstanceARN string
	ECSContainerInstanceID  string
	ECSContainerID          string
	ECSSecondContainerID    string
	ECSServiceName          string
	ECSTaskDefinitionARN    string
	ECSTaskARN              string
	ECSTaskID               string

	// Version 8.
	RejectReason string

	// Version 9: the resource of a flow with no network interface (a regional NAT gateway).
	ResourceID string

	// Version 10.
	EncryptionStatus EncryptionStatus

	// Version 11. Tag values are as AWS writes them (special characters percent-encoded);
	// the tag keys are the flow log's TagFieldSpecifications, which the record does not carry.
	InstanceTag          string
	InstanceTag2         string
	InterfaceTag         string
	InterfaceTag2        string
	ASGTag               string
	ASGTag2              string
	InterfaceType        string // e.g. nat_gateway, vpc_endpoint, transit_gateway
	NextHopInterfaceID   string
	NextHopSubnetID      string
	NextHopAZID          string
	NextHopVPCID         string
	NextHopInterfaceType string

	// Transit gateway flow logs.
	ResourceType           ResourceType
	TGWID                  string
	TGWAttachmentID        string
	TGWSrcVPCAccountID     string
	TGWDstVPCAccountID     string
	TGWSrcVPCID            string
	TGWDstVPCID            string
	TGWSrcSubnetID         string
	TGWDstSubnetID         string
	TGWSrcENI              string
	TGWDstENI              string
	TGWSrcAZID             string
	TGWDstAZID             string
	TGWPairAttachmentID    string
	PacketsLostNoRoute     uint64
	PacketsLostBlackhole   uint64
	PacketsLostMTUExceeded uint64
	PacketsLostTTLExpired  uint64

	// Opaque holds the values of fields flowd does not know (later versions), in the order of
	// Format.Opaque; "-" is kept as is. Its backing array is reused.
	Opaque []string
}

// Has reports whether the line carried a value for f.
func (r *Record) Has(f Field) bool { return r.Present.Has(f) }

// reset zeroes r but keeps the backing array of r.Opaque. Zeroing in place (rather than
// assigning a composite literal, which the compiler builds on the stack and copies over) halves
// the memory written: a Record is over a kilobyte.
func (r *Record) reset() {
	opaque := r.Opaque[:0]
	*r = Record{}
	r.Opaque = opaque
}
