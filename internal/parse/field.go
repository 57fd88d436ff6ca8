package parse

import "strings"

// fieldNames maps each known Field to its AWS name, as written between ${ and } in a format.
var fieldNames = [numFields]string{
	FieldUnknown:                 "unknown",
	FieldVersion:                 "version",
	FieldAccountID:               "account-id",
	FieldInterfaceID:             "interface-id",
	FieldSrcAddr:                 "srcaddr",
	FieldDstAddr:                 "dstaddr",
	FieldSrcPort:                 "srcport",
	FieldDstPort:                 "dstport",
	FieldProtocol:                "protocol",
	FieldPackets:                 "packets",
	FieldBytes:                   "bytes",
	FieldStart:                   "start",
	FieldEnd:                     "end",
	FieldAction:                  "action",
	FieldLogStatus:               "log-status",
	FieldVPCID:                   "vpc-id",
	FieldSubnetID:                "subnet-id",
	FieldInstanceID:              "instance-id",
	FieldTCPFlags:                "tcp-flags",
	FieldType:                    "type",
	FieldPktSrcAddr:              "pkt-srcaddr",
	FieldPktDstAddr:              "pkt-dstaddr",
	FieldRegion:                  "region",
	FieldAZID:                    "az-id",
	FieldSublocationType:         "sublocation-type",
	FieldSublocationID:           "sublocation-id",
	FieldPktSrcAWSService:        "pkt-src-aws-service",
	FieldPktDstAWSService:        "pkt-dst-aws-service",
	FieldFlowDirection:           "flow-direction",
	FieldTrafficPath:             "traffic-path",
	FieldECSClusterARN:           "ecs-cluster-arn",
	FieldECSClusterName:          "ecs-cluster-name",
	FieldECSContainerInstanceARN: "ecs-container-instance-arn",
	FieldECSContainerInstanceID:  "ecs-container-instance-id",
	FieldECSContainerID:          "ecs-container-id",
	FieldECSSecondContainerID:    "ecs-second-container-id",
	FieldECSServiceName:          "ecs-service-name",
	FieldECSTaskDefinitionARN:    "ecs-task-definition-arn",
	FieldECSTaskARN:              "ecs-task-arn",
	FieldECSTaskID:               "ecs-task-id",
	FieldRejectReason:            "reject-reason",
	FieldResourceID:              "resource-id",
	FieldEncryptionStatus:        "encryption-status",
	FieldInstanceTag:             "instance-tag",
	FieldInstanceTag2:            "instance-tag-2",
	FieldInterfaceTag:            "interface-tag",
	FieldInterfaceTag2:           "interface-tag-2",
	FieldASGTag:                  "asg-tag",
	FieldASGTag2:                 "asg-tag-2",
	FieldInterfaceType:           "interface-type",
	FieldNextHopInterfaceID:      "next-hop-interface-id",
	FieldNextHopSubnetID:         "next-hop-subnet-id",
	FieldNextHopAZID:             "next-hop-az-id",
	FieldNextHopVPCID:            "next-hop-vpc-id",
	FieldNextHopInterfaceType:    "next-hop-interface-type",
	FieldResourceType:            "resource-type",
	FieldTGWID:                   "tgw-id",
	FieldTGWAttachmentID:         "tgw-attachment-id",
	FieldTGWSrcVPCAccountID:      "tgw-src-vpc-account-id",
	FieldTGWDstVPCAccountID:      "tgw-dst-vpc-account-id",
	FieldTGWSrcVPCID:             "tgw-src-vpc-id",
	FieldTGWDstVPCID:             "tgw-dst-vpc-id",
	FieldTGWSrcSubnetID:          "tgw-src-subnet-id",
	FieldTGWDstSubnetID:          "tgw-dst-subnet-id",
	FieldTGWSrcENI:               "tgw-src-eni",
	FieldTGWDstENI:               "tgw-dst-eni",
	FieldTGWSrcAZID:              "tgw-src-az-id",
	FieldTGWDstAZID:              "tgw-dst-az-id",
	FieldTGWPairAttachmentID:     "tgw-pair-attachment-id",
	FieldPacketsLostNoRoute:      "packets-lost-no-route",
	FieldPacketsLostBlackhole:    "packets-lost-blackhole",
	FieldPacketsLostMTUExceeded:  "packets-lost-mtu-exceeded",
	FieldPacketsLostTTLExpired:   "packets-lost-ttl-expired",
}

// fieldsByName is the reverse of fieldNames, built once; FieldUnknown is not in it.
var fieldsByName = func() map[string]Field {
	m := make(map[string]Field, numFields)
	for f := FieldUnknown + 1; f < numFields; f++ {
		m[fieldNames[f]] = f
	}
	return m
}()

// String returns the field's AWS name (e.g. "account-id"), or "unknown" for FieldUnknown and
// values outside the known range.
func (f Field) String() string {
	if f >= numFields {
		return "unknown"
	}
	return fieldNames[f]
}

// FieldByName returns the known field with the given AWS name. Names are case-sensitive; "_" is
// accepted for "-" (the Parquet and Athena spelling). It reports false for names flowd does not
// know, which a Format keeps as opaque columns.
func FieldByName(name string) (Field, bool) {
	if strings.IndexByte(name, '_') >= 0 {
		name = strings.ReplaceAll(name, "_", "-")
	}
	f, ok := fieldsByName[name]
	return f, ok
}

// Known returns every known field, in the order of the AWS documentation.
func Known() []Field {
	fs := make([]Field, 0, numFields-1)
	for f := FieldUnknown + 1; f < numFields; f++ {
		fs = append(fs, f)
	}
	return fs
}
