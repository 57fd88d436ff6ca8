package parse

// isSpace reports whether c separates fields: the ASCII whitespace bytes (space, \t, \n, \v, \f,
// \r). AWS writes single spaces, but one documented example has a double space, and lines read
// from files may end in \r\n; treating every ASCII space as a separator makes all of these parse
// the same, and no field value can contain one.
func isSpace(c byte) bool { return c == ' ' || '\t' <= c && c <= '\r' }

// CountFields returns the number of fields in line: the runs of non-space bytes (see Parse for
// what counts as a space). It allocates nothing.
func CountFields(line string) int {
	n := 0
	inField := false
	for i := 0; i < len(line); i++ {
		if isSpace(line[i]) {
			inField = false
		} else if !inField {
			inField = true
			n++
		}
	}
	return n
}

// Parse fills r from one flow log record in this format. It resets r first (keeping the
// backing array of r.Opaque). Fields are separated by runs of ASCII whitespace; leading and
// trailing whitespace (including a trailing "\r\n") are ignored. A field written "-" is left out
// of r.Present and keeps its zero value; NODATA and SKIPDATA records parse without error and
// r.LogStatus says what they are.
//
// String fields of r (and r.Opaque) refer into line: they are valid as long as line is, and
// are overwritten by the next Parse into r. Parse allocates nothing unless it returns an error,
// which is always an *Error.
func (f *Format) Parse(line string, r *Record) error {
	*r = Record{Opaque: r.Opaque[:0]}
	fields := f.fields
	col := 0
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		j := i + 1
		for j < len(line) && !isSpace(line[j]) {
			j++
		}
		tok := line[i:j]
		i = j
		if col == len(fields) {
			return f.countError(line, col+1, tok)
		}
		field := fields[col]
		col++
		if field == FieldUnknown {
			r.Opaque = append(r.Opaque, tok)
			continue
		}
		if tok == "-" {
			continue
		}
		if kind := r.set(field, tok); kind != 0 {
			return f.valueError(line, kind, field, col, tok)
		}
		r.Present |= 1 << field
	}
	if col != len(fields) {
		return &Error{Kind: KindFieldCount, Position: col + 1, Got: col, Want: len(fields)}
	}
	return nil
}

// valueError reports a bad value, unless the line also has the wrong number of fields: then the
// count is the root cause (a truncated line usually ends in half a value), and is reported.
func (f *Format) valueError(line string, kind ErrorKind, field Field, col int, tok string) error {
	if n := CountFields(line); n != len(f.fields) {
		return &Error{Kind: KindFieldCount, Position: min(n, len(f.fields)) + 1, Got: n, Want: len(f.fields)}
	}
	return &Error{Kind: kind, Field: field, Position: col, Value: clip(tok)}
}

// countError reports a line with more fields than the format; extra is the first extra value,
// at column pos.
func (f *Format) countError(line string, pos int, extra string) error {
	return &Error{Kind: KindFieldCount, Position: pos, Value: clip(extra), Got: CountFields(line), Want: len(f.fields)}
}

// set stores the value tok (not "-") of a known field into r, or returns the kind of problem.
func (r *Record) set(field Field, tok string) ErrorKind {
	var kind ErrorKind
	switch field {
	case FieldVersion:
		var v uint64
		v, kind = parseUint(tok, 1<<8-1)
		r.Version = uint8(v)
	case FieldAccountID:
		r.AccountID = tok
	case FieldInterfaceID:
		r.InterfaceID = tok
	case FieldSrcAddr:
		r.SrcAddr, kind = parseAddr(tok)
	case FieldDstAddr:
		r.DstAddr, kind = parseAddr(tok)
	case FieldSrcPort:
		var v uint64
		v, kind = parseUint(tok, 1<<16-1)
		r.SrcPort = uint16(v)
	case FieldDstPort:
		var v uint64
		v, kind = parseUint(tok, 1<<16-1)
		r.DstPort = uint16(v)
	case FieldProtocol:
		var v uint64
		v, kind = parseUint(tok, 1<<8-1)
		r.Protocol = uint8(v)
	case FieldPackets:
		r.Packets, kind = parseUint(tok, 1<<64-1)
	case FieldBytes:
		r.Bytes, kind = parseUint(tok, 1<<64-1)
	case FieldStart:
		var v uint64
		v, kind = parseUint(tok, 1<<63-1)
		r.Start = int64(v)
	case FieldEnd:
		var v uint64
		v, kind = parseUint(tok, 1<<63-1)
		r.End = int64(v)
	case FieldAction:
		r.Action, kind = parseAction(tok)
	case FieldLogStatus:
		r.LogStatus, kind = parseLogStatus(tok)
	case FieldVPCID:
		r.VPCID = tok
	case FieldSubnetID:
		r.SubnetID = tok
	case FieldInstanceID:
		r.InstanceID = tok
	case FieldTCPFlags:
		var v uint64
		v, kind = parseUint(tok, 1<<8-1)
		r.TCPFlags = uint8(v)
	case FieldType:
		r.Type, kind = parseTrafficType(tok)
	case FieldPktSrcAddr:
		r.PktSrcAddr, kind = parseAddr(tok)
	case FieldPktDstAddr:
		r.PktDstAddr, kind = parseAddr(tok)
	case FieldRegion:
		r.Region = tok
	case FieldAZID:
		r.AZID = tok
	case FieldSublocationType:
		r.SublocationType = tok
	case FieldSublocationID:
		r.SublocationID = tok
	case FieldPktSrcAWSService:
		r.PktSrcAWSService = tok
	case FieldPktDstAWSService:
		r.PktDstAWSService = tok
	case FieldFlowDirection:
		r.FlowDirection, kind = parseFlowDirection(tok)
	case FieldTrafficPath:
		var v uint64
		v, kind = parseUint(tok, 1<<8-1)
		r.TrafficPath = uint8(v)
	case FieldECSClusterARN:
		r.ECSClusterARN = tok
	case FieldECSClusterName:
		r.ECSClusterName = tok
	case FieldECSContainerInstanceARN:
		r.ECSContainerInstanceARN = tok
	case FieldECSContainerInstanceID:
		r.ECSContainerInstanceID = tok
	case FieldECSContainerID:
		r.ECSContainerID = tok
	case FieldECSSecondContainerID:
		r.ECSSecondContainerID = tok
	case FieldECSServiceName:
		r.ECSServiceName = tok
	case FieldECSTaskDefinitionARN:
		r.ECSTaskDefinitionARN = tok
	case FieldECSTaskARN:
		r.ECSTaskARN = tok
	case FieldECSTaskID:
		r.ECSTaskID = tok
	case FieldRejectReason:
		r.RejectReason = tok
	}
	return kind
}
