package simulate

import "github.com/flowd-dev/flowd/internal/parse"

// renderer turns flows into messages in the configured format through parse.Format.Append,
// so every format the parser knows can be produced, and reports what the message carries.
type renderer struct {
	format  *parse.Format
	fmask   parse.FieldSet // the known fields of the format
	version uint8          // the version field's value: the highest version among the fields
	rec     parse.Record   // reused
	buf     []byte         // reused
}

func newRenderer(f *parse.Format) *renderer {
	rd := &renderer{format: f, version: 2}
	for _, fl := range f.Fields() {
		if fl == parse.FieldUnknown {
			continue
		}
		rd.fmask = rd.fmask.With(fl)
		rd.version = max(rd.version, fieldVersion(fl))
	}
	return rd
}

// fieldVersion is the flow log version that introduced a field.
func fieldVersion(f parse.Field) uint8 {
	switch {
	case f <= parse.FieldLogStatus:
		return 2
	case f <= parse.FieldPktDstAddr:
		return 3
	case f <= parse.FieldSublocationID:
		return 4
	case f <= parse.FieldTrafficPath:
		return 5
	case f <= parse.FieldECSTaskID:
		return 7
	}
	return 8
}

// Fields every record of an interface carries, and those only flow records (log-status OK) do.
var (
	staticFields = fieldSet(parse.FieldVersion, parse.FieldAccountID, parse.FieldInterfaceID,
		parse.FieldStart, parse.FieldEnd, parse.FieldLogStatus, parse.FieldVPCID, parse.FieldSubnetID,
		parse.FieldInstanceID, parse.FieldRegion, parse.FieldAZID)
	flowFields = fieldSet(parse.FieldSrcAddr, parse.FieldDstAddr, parse.FieldSrcPort, parse.FieldDstPort,
		parse.FieldProtocol, parse.FieldPackets, parse.FieldBytes, parse.FieldAction, parse.FieldTCPFlags,
		parse.FieldType, parse.FieldPktSrcAddr, parse.FieldPktDstAddr, parse.FieldFlowDirection)
)

func fieldSet(fs ...parse.Field) parse.FieldSet {
	var s parse.FieldSet
	for _, f := range fs {
		s = s.With(f)
	}
	return s
}

// setInterface fills the fields that are the same for every record of the interface.
func (rd *renderer) setInterface(cfg *Config, v *vpc, ifc *iface) {
	r := &rd.rec
	r.Version = rd.version
	r.AccountID = cfg.AccountID
	r.InterfaceID = ifc.eni
	r.VPCID = v.id
	r.SubnetID = ifc.subnetID
	r.InstanceID = ifc.instance
	r.Region = cfg.Region
	r.AZID = ifc.azID
}

// render returns f's message and the summary of what it carries.
func (rd *renderer) render(f *flow) (string, summary) {
	r := &rd.rec
	r.Present = staticFields
	r.Start, r.End, r.LogStatus = f.start, f.end, f.status
	if f.status == parse.LogStatusOK {
		r.Present = r.Present.Union(flowFields)
		r.SrcAddr, r.DstAddr = f.src, f.dst
		r.PktSrcAddr, r.PktDstAddr = f.src, f.dst
		r.SrcPort, r.DstPort, r.Protocol = f.srcPort, f.dstPort, f.proto
		r.Packets, r.Bytes = f.packets, f.bytes
		r.Action, r.TCPFlags, r.FlowDirection = f.action, f.flags, f.dir
		r.Type = parse.TrafficTypeIPv4
		if f.src.Is6() {
			r.Type = parse.TrafficTypeIPv6
		}
		if f.path != 0 {
			r.Present = r.Present.With(parse.FieldTrafficPath)
			r.TrafficPath = f.path
		}
		if f.srcSvc >= 0 {
			r.Present = r.Present.With(parse.FieldPktSrcAWSService)
			r.PktSrcAWSService = awsServices[f.srcSvc].name
		}
		if f.dstSvc >= 0 {
			r.Present = r.Present.With(parse.FieldPktDstAWSService)
			r.PktDstAWSService = awsServices[f.dstSvc].name
		}
	}
	rd.buf = rd.format.Append(rd.buf[:0], r)

	s := summary{start: f.start}
	m := rd.fmask
	if m.Has(parse.FieldLogStatus) {
		s.status = f.status
	}
	if f.status == parse.LogStatusOK {
		if m.Has(parse.FieldPackets) {
			s.packets = f.packets
		}
		if m.Has(parse.FieldBytes) {
			s.bytes = f.bytes
		}
		if m.Has(parse.FieldSrcPort) {
			s.srcPort = f.srcPort
		}
		if m.Has(parse.FieldDstPort) {
			s.dstPort = f.dstPort
		}
		if m.Has(parse.FieldProtocol) {
			s.proto = f.proto
		}
		if m.Has(parse.FieldAction) {
			s.action = f.action
		}
	}
	return string(rd.buf), s
}
