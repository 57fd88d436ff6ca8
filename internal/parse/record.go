package parse

import "net/netip"

// Field identifies one flow log field, as named in the format string (${field-name}).
// The zero value is FieldUnknown: a name flowd does not know, kept as an opaque column.
type Field uint8

// The known fields, versions 2 to 8, in the order of the AWS documentation.
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

	numFields // one past the last known field
)

// FieldSet is a bitmask of fields, indexed by Field. Record.Present uses it to say which fields
// carried a value (not "-") in the parsed line.
type FieldSet uint64

// Has reports whether f is in the set.
func (s FieldSet) Has(f Field) bool { return s&(1<<f) != 0 }

// With returns the set with f added.
func (s FieldSet) With(f Field) FieldSet { return s | 1<<f }

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

// Record is one parsed flow log record. Only fields in Present carry a value; the others are
// zero. String fields (and Opaque) refer into the line given to Format.Parse and are valid only
// until the next call that reuses the Record or the line: copy what you keep.
type Record struct {
	Present FieldSet

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

	// Opaque holds the values of fields flowd does not know (later versions, transit gateway
	// fields), in the order of Format.Opaque; "-" is kept as is. Its backing array is reused.
	Opaque []string
}

// Has reports whether the line carried a value for f.
func (r *Record) Has(f Field) bool { return r.Present.Has(f) }
