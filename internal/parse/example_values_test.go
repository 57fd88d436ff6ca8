package parse

import (
	"net/netip"
	"testing"
)

// set builds a FieldSet.
func set(fs ...Field) FieldSet {
	var s FieldSet
	for _, f := range fs {
		s = s.With(f)
	}
	return s
}

// v2 is the FieldSet of a complete default-format record.
var v2 = set(FieldVersion, FieldAccountID, FieldInterfaceID, FieldSrcAddr, FieldDstAddr, FieldSrcPort,
	FieldDstPort, FieldProtocol, FieldPackets, FieldBytes, FieldStart, FieldEnd, FieldAction, FieldLogStatus)

// TestParseExampleValues checks every value of selected records of testdata/formats.
func TestParseExampleValues(t *testing.T) {
	t.Parallel()
	ip := netip.MustParseAddr
	files := loadCorpus(t)
	tests := []struct {
		name   string
		file   string
		record int // 0-based index among the file's records
		want   Record
	}{
		{"accepted ssh", "default", 0, Record{
			Present: v2, Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
			SrcAddr: ip("172.31.16.139"), DstAddr: ip("172.31.16.21"), SrcPort: 20641, DstPort: 22, Protocol: 6,
			Packets: 20, Bytes: 4249, Start: 1418530010, End: 1418530070, Action: ActionAccept, LogStatus: LogStatusOK,
		}},
		{"rejected rdp", "default", 1, Record{
			Present: v2, Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
			SrcAddr: ip("172.31.9.69"), DstAddr: ip("172.31.9.12"), SrcPort: 49761, DstPort: 3389, Protocol: 6,
			Packets: 20, Bytes: 4249, Start: 1418530010, End: 1418530070, Action: ActionReject, LogStatus: LogStatusOK,
		}},
		{"nodata", "default", 2, Record{
			Present: set(FieldVersion, FieldAccountID, FieldInterfaceID, FieldStart, FieldEnd, FieldLogStatus),
			Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
			Start: 1431280876, End: 1431280934, LogStatus: LogStatusNoData,
		}},
		{"skipdata", "default", 3, Record{
			Present: set(FieldVersion, FieldAccountID, FieldInterfaceID, FieldStart, FieldEnd, FieldLogStatus),
			Version: 2, AccountID: "123456789010", InterfaceID: "eni-11111111aaaaaaaaa",
			Start: 1431280876, End: 1431280934, LogStatus: LogStatusSkipData,
		}},
		{"icmp reply rejected", "default", 5, Record{
			Present: v2, Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
			SrcAddr: ip("172.31.16.139"), DstAddr: ip("203.0.113.12"), Protocol: 1,
			Packets: 4, Bytes: 336, Start: 1432917094, End: 1432917142, Action: ActionReject, LogStatus: LogStatusOK,
		}},
		{"ipv6 ssh", "default", 6, Record{
			Present: v2, Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
			SrcAddr: ip("2001:db8:1234:a100:8d6e:3477:df66:f105"), DstAddr: ip("2001:db8:1234:a102:3304:8879:34cf:4071"),
			SrcPort: 34892, DstPort: 22, Protocol: 6, Packets: 54, Bytes: 8855, Start: 1477913708, End: 1477913820,
			Action: ActionAccept, LogStatus: LogStatusOK,
		}},
		{"terraform unknown account nodata", "terraform", 1, Record{
			Present: set(FieldVersion, FieldAccountID, FieldInterfaceID, FieldStart, FieldEnd, FieldLogStatus),
			Version: 2, AccountID: "unknown", InterfaceID: "eni-1235b8ca123456789",
			Start: 1431280876, End: 1431280934, LogStatus: LogStatusNoData,
		}},
		{"v3 syn-ack+fin with double space", "v3-tcp-flags", 3, Record{
			Present: set(FieldVersion, FieldVPCID, FieldSubnetID, FieldInstanceID, FieldInterfaceID, FieldAccountID,
				FieldType, FieldSrcAddr, FieldDstAddr, FieldSrcPort, FieldDstPort, FieldPktSrcAddr, FieldPktDstAddr,
				FieldProtocol, FieldBytes, FieldPackets, FieldStart, FieldEnd, FieldAction, FieldTCPFlags, FieldLogStatus),
			Version: 3, VPCID: "vpc-abcdefab012345678", SubnetID: "subnet-aaaaaaaa012345678",
			InstanceID: "i-01234567890123456", InterfaceID: "eni-1235b8ca123456789", AccountID: "123456789010",
			Type: TrafficTypeIPv4, SrcAddr: ip("10.0.0.62"), DstAddr: ip("52.213.180.42"), SrcPort: 5001, DstPort: 43638,
			PktSrcAddr: ip("10.0.0.62"), PktDstAddr: ip("52.213.180.42"), Protocol: 6, Bytes: 1044, Packets: 17,
			Start: 1566849193, End: 1566849255, Action: ActionAccept, TCPFlags: 19, LogStatus: LogStatusOK,
		}},
		{"nat gateway leg", "nat-gateway", 0, Record{
			Present:     set(FieldInterfaceID, FieldSrcAddr, FieldDstAddr, FieldPktSrcAddr, FieldPktDstAddr),
			InterfaceID: "eni-1235b8ca123456789", SrcAddr: ip("10.0.1.5"), DstAddr: ip("10.0.0.220"),
			PktSrcAddr: ip("10.0.1.5"), PktDstAddr: ip("203.0.113.5"),
		}},
		{"tgw eni", "tgw-eni", 0, Record{
			Present: set(FieldVersion, FieldInterfaceID, FieldAccountID, FieldVPCID, FieldSubnetID, FieldSrcAddr,
				FieldDstAddr, FieldSrcPort, FieldDstPort, FieldProtocol, FieldTCPFlags, FieldType, FieldPktSrcAddr,
				FieldPktDstAddr, FieldAction, FieldLogStatus),
			Version: 3, InterfaceID: "eni-11111111111111111", AccountID: "123456789010", VPCID: "vpc-abcdefab012345678",
			SubnetID: "subnet-11111111aaaaaaaaa", SrcAddr: ip("10.40.1.175"), DstAddr: ip("10.40.2.236"),
			SrcPort: 39812, DstPort: 80, Protocol: 6, TCPFlags: 3, Type: TrafficTypeIPv4,
			PktSrcAddr: ip("10.20.33.164"), PktDstAddr: ip("10.40.2.236"), Action: ActionAccept, LogStatus: LogStatusOK,
		}},
		{"v5 egress to s3", "v5", 1, Record{
			Present: set(FieldVersion, FieldSrcAddr, FieldDstAddr, FieldSrcPort, FieldDstPort, FieldProtocol,
				FieldStart, FieldEnd, FieldType, FieldPackets, FieldBytes, FieldAccountID, FieldVPCID, FieldSubnetID,
				FieldInstanceID, FieldInterfaceID, FieldRegion, FieldAZID, FieldAction, FieldTCPFlags,
				FieldPktSrcAddr, FieldPktDstAddr, FieldPktDstAWSService, FieldTrafficPath, FieldFlowDirection, FieldLogStatus),
			Version: 5, SrcAddr: ip("10.0.0.71"), DstAddr: ip("52.95.128.179"), SrcPort: 34210, DstPort: 80, Protocol: 6,
			Start: 1616729292, End: 1616729349, Type: TrafficTypeIPv4, Packets: 7, Bytes: 471, AccountID: "123456789012",
			VPCID: "vpc-abcdefab012345678", SubnetID: "subnet-aaaaaaaa012345678", InstanceID: "i-0c50d5961bcb2d47b",
			InterfaceID: "eni-1235b8ca123456789", Region: "ap-southeast-2", AZID: "apse2-az3", Action: ActionAccept,
			TCPFlags: 3, PktSrcAddr: ip("10.0.0.71"), PktDstAddr: ip("52.95.128.179"), PktDstAWSService: "S3",
			TrafficPath: 8, FlowDirection: FlowDirectionEgress, LogStatus: LogStatusOK,
		}},
		{"v10 encryption-status", "v10-encryption", 0, Record{
			Present:       set(FieldFlowDirection, FieldSrcAddr, FieldDstAddr, FieldSrcPort, FieldDstPort, FieldEncryptionStatus),
			FlowDirection: FlowDirectionIngress, SrcAddr: ip("10.0.133.8"), DstAddr: ip("10.0.128.55"),
			SrcPort: 43236, DstPort: 80, EncryptionStatus: EncryptionNitro,
		}},
		{"v11 tags and next hop", "v11", 0, Record{
			Present: set(FieldVersion, FieldAccountID, FieldInterfaceID, FieldSrcAddr, FieldDstAddr, FieldSrcPort,
				FieldDstPort, FieldProtocol, FieldPackets, FieldBytes, FieldStart, FieldEnd, FieldAction, FieldLogStatus,
				FieldVPCID, FieldSubnetID, FieldAZID, FieldFlowDirection, FieldEncryptionStatus,
				FieldInstanceTag, FieldInstanceTag2, FieldInterfaceTag, FieldASGTag,
				FieldNextHopInterfaceID, FieldNextHopSubnetID, FieldNextHopAZID, FieldNextHopVPCID, FieldNextHopInterfaceType),
			Version: 11, AccountID: "123456789012", InterfaceID: "eni-0a1b2c3d4e5f60718", SrcAddr: ip("10.0.1.15"),
			DstAddr: ip("10.0.2.40"), SrcPort: 49152, DstPort: 5432, Protocol: 6, Packets: 12, Bytes: 3400,
			Start: 1781000000, End: 1781000060, Action: ActionAccept, LogStatus: LogStatusOK,
			VPCID: "vpc-0a1b2c3d4e5f60718", SubnetID: "subnet-0a1b2c3d4e5f60718", AZID: "euw1-az1",
			FlowDirection: FlowDirectionEgress, EncryptionStatus: EncryptionCleartext,
			InstanceTag: "web", InstanceTag2: "team%20blue", InterfaceTag: "frontend", ASGTag: "web-asg",
			NextHopInterfaceID: "eni-0f1e2d3c4b5a69788", NextHopSubnetID: "subnet-0f1e2d3c4b5a69788",
			NextHopAZID: "euw1-az2", NextHopVPCID: "vpc-0a1b2c3d4e5f60718", NextHopInterfaceType: "interface",
		}},
		{"v9 regional nat gateway", "v11", 2, Record{
			Present: set(FieldVersion, FieldAccountID, FieldSrcAddr, FieldDstAddr, FieldSrcPort,
				FieldDstPort, FieldProtocol, FieldPackets, FieldBytes, FieldStart, FieldEnd, FieldAction, FieldLogStatus,
				FieldVPCID, FieldFlowDirection, FieldResourceID, FieldInterfaceType),
			Version: 11, AccountID: "123456789012", SrcAddr: ip("10.0.1.15"),
			DstAddr: ip("198.51.100.20"), SrcPort: 40000, DstPort: 443, Protocol: 6, Packets: 30, Bytes: 9000,
			Start: 1781000000, End: 1781000060, Action: ActionAccept, LogStatus: LogStatusOK,
			VPCID: "vpc-0a1b2c3d4e5f60718", FlowDirection: FlowDirectionEgress,
			ResourceID: "nat-0123456789abcdef0", InterfaceType: "regional_nat_gateway",
		}},
		{"ecs fargate", "ecs-v7", 1, Record{
			Present: set(FieldVersion, FieldInterfaceID, FieldSrcAddr, FieldDstAddr, FieldSrcPort, FieldDstPort,
				FieldProtocol, FieldPackets, FieldBytes, FieldStart, FieldEnd, FieldAction, FieldLogStatus,
				FieldECSClusterARN, FieldECSClusterName, FieldECSContainerID, FieldECSTaskDefinitionARN,
				FieldECSTaskARN, FieldECSTaskID),
			Version: 7, InterfaceID: "eni-0b2c3d4e5f6071829", SrcAddr: ip("10.0.5.23"), DstAddr: ip("52.94.5.100"),
			SrcPort: 51812, DstPort: 443, Protocol: 6, Packets: 40, Bytes: 38120, Start: 1718000002, End: 1718000061,
			Action: ActionAccept, LogStatus: LogStatusOK,
			ECSClusterARN:        "arn:aws:ecs:eu-west-1:123456789012:cluster/batch",
			ECSClusterName:       "batch",
			ECSContainerID:       "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
			ECSTaskDefinitionARN: "arn:aws:ecs:eu-west-1:123456789012:task-definition/report:7",
			ECSTaskARN:           "arn:aws:ecs:eu-west-1:123456789012:task/batch/1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6",
			ECSTaskID:            "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6",
		}},
		{"bpa reject", "reject-reason-v8", 0, Record{
			Present: set(FieldVersion, FieldInterfaceID, FieldSrcAddr, FieldDstAddr, FieldSrcPort, FieldDstPort,
				FieldProtocol, FieldPackets, FieldBytes, FieldStart, FieldEnd, FieldAction, FieldLogStatus, FieldRejectReason),
			Version: 8, InterfaceID: "eni-0a1b2c3d4e5f60718", SrcAddr: ip("198.51.100.7"), DstAddr: ip("10.0.0.12"),
			SrcPort: 51000, DstPort: 22, Protocol: 6, Packets: 1, Bytes: 60, Start: 1718000000, End: 1718000060,
			Action: ActionReject, LogStatus: LogStatusOK, RejectReason: "BPA",
		}},
		{"tgw default", "tgw-default", 0, Record{
			Present: set(FieldVersion, FieldAccountID, FieldSrcAddr, FieldDstAddr, FieldSrcPort, FieldDstPort,
				FieldProtocol, FieldPackets, FieldBytes, FieldStart, FieldEnd, FieldLogStatus, FieldType, FieldTCPFlags,
				FieldRegion, FieldFlowDirection, FieldResourceType, FieldTGWID, FieldTGWAttachmentID,
				FieldTGWSrcVPCAccountID, FieldTGWDstVPCAccountID, FieldTGWSrcVPCID, FieldTGWDstVPCID,
				FieldTGWSrcSubnetID, FieldTGWDstSubnetID, FieldTGWSrcENI, FieldTGWDstENI, FieldTGWSrcAZID,
				FieldTGWDstAZID, FieldTGWPairAttachmentID, FieldPacketsLostNoRoute, FieldPacketsLostBlackhole,
				FieldPacketsLostMTUExceeded, FieldPacketsLostTTLExpired),
			Version: 6, AccountID: "123456789012", SrcAddr: ip("10.0.1.10"), DstAddr: ip("10.1.2.20"), SrcPort: 44321,
			DstPort: 443, Protocol: 6, Packets: 25, Bytes: 14000, Start: 1718000000, End: 1718000060,
			LogStatus: LogStatusOK, Type: TrafficTypeIPv4, TCPFlags: 2, Region: "us-east-1",
			FlowDirection: FlowDirectionEgress,
			ResourceType:  ResourceTypeTransitGateway, TGWID: "tgw-0123456789abcdef0",
			TGWAttachmentID: "tgw-attach-0123456789abcdef0", TGWSrcVPCAccountID: "123456789012",
			TGWDstVPCAccountID: "210987654321", TGWSrcVPCID: "vpc-0123456789abcdef0", TGWDstVPCID: "vpc-0fedcba9876543210",
			TGWSrcSubnetID: "subnet-0123456789abcdef0", TGWDstSubnetID: "subnet-0fedcba9876543210",
			TGWSrcENI: "eni-0123456789abcdef0", TGWDstENI: "eni-0fedcba9876543210", TGWSrcAZID: "use1-az1",
			TGWDstAZID: "use1-az2", TGWPairAttachmentID: "tgw-attach-0fedcba9876543210",
		}},
		{"tgw blackhole drop", "tgw-default", 1, Record{
			Present: set(FieldVersion, FieldResourceType, FieldAccountID, FieldTGWID, FieldTGWAttachmentID,
				FieldTGWSrcVPCAccountID, FieldTGWSrcVPCID, FieldTGWSrcSubnetID, FieldTGWSrcENI, FieldTGWSrcAZID,
				FieldSrcAddr, FieldDstAddr, FieldSrcPort, FieldDstPort, FieldProtocol, FieldPackets, FieldBytes,
				FieldStart, FieldEnd, FieldLogStatus, FieldType, FieldPacketsLostNoRoute, FieldPacketsLostBlackhole,
				FieldPacketsLostMTUExceeded, FieldPacketsLostTTLExpired, FieldTCPFlags, FieldRegion, FieldFlowDirection),
			Version: 6, ResourceType: ResourceTypeTransitGatewayAttachment, AccountID: "123456789012",
			TGWID: "tgw-0123456789abcdef0", TGWAttachmentID: "tgw-attach-0123456789abcdef0",
			TGWSrcVPCAccountID: "123456789012", TGWSrcVPCID: "vpc-0123456789abcdef0",
			TGWSrcSubnetID: "subnet-0123456789abcdef0", TGWSrcENI: "eni-0123456789abcdef0", TGWSrcAZID: "use1-az1",
			SrcAddr: ip("10.0.1.10"), DstAddr: ip("10.9.0.5"), SrcPort: 50000, DstPort: 22, Protocol: 6,
			Packets: 6, Bytes: 360, Start: 1718000060, End: 1718000120, LogStatus: LogStatusOK, Type: TrafficTypeIPv4,
			PacketsLostBlackhole: 6, TCPFlags: 2, Region: "us-east-1", FlowDirection: FlowDirectionIngress,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cf := corpusByName(t, files, tt.file)
			var got Record
			if err := cf.format.Parse(cf.lines[tt.record], &got); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := recordDiff(&got, &tt.want); diff != nil {
				t.Errorf("fields %v differ\n got %+v\nwant %+v", diff, got, tt.want)
			}
		})
	}
}
