package parse

import (
	"net/netip"
	"strconv"
)

// Append appends r as one record line in this format (without a trailing newline) to dst and
// returns the extended buffer. It is the inverse of Parse: a column whose field is not in
// r.Present, or whose value cannot be written (an invalid address, an empty string, an enum
// outside its constants), is written "-"; opaque columns take r.Opaque in order ("-" when
// missing or empty). Values are written as they are: a string containing whitespace would not
// parse back. Append allocates only to grow dst.
func (f *Format) Append(dst []byte, r *Record) []byte {
	op := 0
	for i, field := range f.fields {
		if i > 0 {
			dst = append(dst, ' ')
		}
		if field == FieldUnknown {
			v := ""
			if op < len(r.Opaque) {
				v = r.Opaque[op]
			}
			op++
			dst = appendString(dst, v)
			continue
		}
		if !r.Present.Has(field) {
			dst = append(dst, '-')
			continue
		}
		dst = r.appendField(dst, field)
	}
	return dst
}

// appendField appends the value of one present field.
func (r *Record) appendField(dst []byte, field Field) []byte {
	switch field {
	case FieldVersion:
		return strconv.AppendUint(dst, uint64(r.Version), 10)
	case FieldAccountID:
		return appendString(dst, r.AccountID)
	case FieldInterfaceID:
		return appendString(dst, r.InterfaceID)
	case FieldSrcAddr:
		return appendAddr(dst, r.SrcAddr)
	case FieldDstAddr:
		return appendAddr(dst, r.DstAddr)
	case FieldSrcPort:
		return strconv.AppendUint(dst, uint64(r.SrcPort), 10)
	case FieldDstPort:
		return strconv.AppendUint(dst, uint64(r.DstPort), 10)
	case FieldProtocol:
		return strconv.AppendUint(dst, uint64(r.Protocol), 10)
	case FieldPackets:
		return strconv.AppendUint(dst, r.Packets, 10)
	case FieldBytes:
		return strconv.AppendUint(dst, r.Bytes, 10)
	case FieldStart:
		return appendUnix(dst, r.Start)
	case FieldEnd:
		return appendUnix(dst, r.End)
	case FieldAction:
		return append(dst, r.Action.String()...)
	case FieldLogStatus:
		return append(dst, r.LogStatus.String()...)
	case FieldVPCID:
		return appendString(dst, r.VPCID)
	case FieldSubnetID:
		return appendString(dst, r.SubnetID)
	case FieldInstanceID:
		return appendString(dst, r.InstanceID)
	case FieldTCPFlags:
		return strconv.AppendUint(dst, uint64(r.TCPFlags), 10)
	case FieldType:
		return append(dst, r.Type.String()...)
	case FieldPktSrcAddr:
		return appendAddr(dst, r.PktSrcAddr)
	case FieldPktDstAddr:
		return appendAddr(dst, r.PktDstAddr)
	case FieldRegion:
		return appendString(dst, r.Region)
	case FieldAZID:
		return appendString(dst, r.AZID)
	case FieldSublocationType:
		return appendString(dst, r.SublocationType)
	case FieldSublocationID:
		return appendString(dst, r.SublocationID)
	case FieldPktSrcAWSService:
		return appendString(dst, r.PktSrcAWSService)
	case FieldPktDstAWSService:
		return appendString(dst, r.PktDstAWSService)
	case FieldFlowDirection:
		return append(dst, r.FlowDirection.String()...)
	case FieldTrafficPath:
		return strconv.AppendUint(dst, uint64(r.TrafficPath), 10)
	case FieldECSClusterARN:
		return appendString(dst, r.ECSClusterARN)
	case FieldECSClusterName:
		return appendString(dst, r.ECSClusterName)
	case FieldECSContainerInstanceARN:
		return appendString(dst, r.ECSContainerInstanceARN)
	case FieldECSContainerInstanceID:
		return appendString(dst, r.ECSContainerInstanceID)
	case FieldECSContainerID:
		return appendString(dst, r.ECSContainerID)
	case FieldECSSecondContainerID:
		return appendString(dst, r.ECSSecondContainerID)
	case FieldECSServiceName:
		return appendString(dst, r.ECSServiceName)
	case FieldECSTaskDefinitionARN:
		return appendString(dst, r.ECSTaskDefinitionARN)
	case FieldECSTaskARN:
		return appendString(dst, r.ECSTaskARN)
	case FieldECSTaskID:
		return appendString(dst, r.ECSTaskID)
	case FieldRejectReason:
		return appendString(dst, r.RejectReason)
	case FieldResourceID:
		return appendString(dst, r.ResourceID)
	case FieldInstanceTag:
		return appendString(dst, r.InstanceTag)
	case FieldInstanceTag2:
		return appendString(dst, r.InstanceTag2)
	case FieldInterfaceTag:
		return appendString(dst, r.InterfaceTag)
	case FieldInterfaceTag2:
		return appendString(dst, r.InterfaceTag2)
	case FieldASGTag:
		return appendString(dst, r.ASGTag)
	case FieldASGTag2:
		return appendString(dst, r.ASGTag2)
	case FieldInterfaceType:
		return appendString(dst, r.InterfaceType)
	case FieldNextHopInterfaceID:
		return appendString(dst, r.NextHopInterfaceID)
	case FieldNextHopSubnetID:
		return appendString(dst, r.NextHopSubnetID)
	case FieldNextHopAZID:
		return appendString(dst, r.NextHopAZID)
	case FieldNextHopVPCID:
		return appendString(dst, r.NextHopVPCID)
	case FieldNextHopInterfaceType:
		return appendString(dst, r.NextHopInterfaceType)
	case FieldTGWID:
		return appendString(dst, r.TGWID)
	case FieldTGWAttachmentID:
		return appendString(dst, r.TGWAttachmentID)
	case FieldTGWSrcVPCAccountID:
		return appendString(dst, r.TGWSrcVPCAccountID)
	case FieldTGWDstVPCAccountID:
		return appendString(dst, r.TGWDstVPCAccountID)
	case FieldTGWSrcVPCID:
		return appendString(dst, r.TGWSrcVPCID)
	case FieldTGWDstVPCID:
		return appendString(dst, r.TGWDstVPCID)
	case FieldTGWSrcSubnetID:
		return appendString(dst, r.TGWSrcSubnetID)
	case FieldTGWDstSubnetID:
		return appendString(dst, r.TGWDstSubnetID)
	case FieldTGWSrcENI:
		return appendString(dst, r.TGWSrcENI)
	case FieldTGWDstENI:
		return appendString(dst, r.TGWDstENI)
	case FieldTGWSrcAZID:
		return appendString(dst, r.TGWSrcAZID)
	case FieldTGWDstAZID:
		return appendString(dst, r.TGWDstAZID)
	case FieldTGWPairAttachmentID:
		return appendString(dst, r.TGWPairAttachmentID)
	case FieldEncryptionStatus:
		return strconv.AppendUint(dst, uint64(r.EncryptionStatus), 10)
	case FieldResourceType:
		return append(dst, r.ResourceType.String()...)
	case FieldPacketsLostNoRoute:
		return strconv.AppendUint(dst, r.PacketsLostNoRoute, 10)
	case FieldPacketsLostBlackhole:
		return strconv.AppendUint(dst, r.PacketsLostBlackhole, 10)
	case FieldPacketsLostMTUExceeded:
		return strconv.AppendUint(dst, r.PacketsLostMTUExceeded, 10)
	case FieldPacketsLostTTLExpired:
		return strconv.AppendUint(dst, r.PacketsLostTTLExpired, 10)
	}
	return append(dst, '-')
}

// appendString writes s, or "-" for the empty string (which no field can hold).
func appendString(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, '-')
	}
	return append(dst, s...)
}

// appendAddr writes a, or "-" for the zero Addr (whose text "invalid IP" would break the line).
func appendAddr(dst []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(dst, '-')
	}
	return a.AppendTo(dst)
}

// appendUnix writes a Unix time; negative times, which Parse never produces, are written "-".
func appendUnix(dst []byte, t int64) []byte {
	if t < 0 {
		return append(dst, '-')
	}
	return strconv.AppendInt(dst, t, 10)
}
