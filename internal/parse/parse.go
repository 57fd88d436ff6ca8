package parse

import (
	"math/bits"
	"net/netip"
)

// isSpace reports whether c separates fields: the ASCII whitespace bytes (space, \t, \n, \v, \f,
// \r). AWS writes single spaces, but one documented example has a double space, and lines read
// from files may end in \r\n; treating every ASCII space as a separator makes all of these parse
// the same, and no field value can contain one.
//
// Most bytes are above ' ', so the first comparison settles them.
func isSpace(c byte) bool { return c <= ' ' && (c == ' ' || '\t' <= c && c <= '\r') }

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

// tokenEnd returns the index of the first space at or after i, or len(line).
//
// IDs and ARNs make up most of a record's bytes, so it looks at eight bytes at a time: a word
// with no byte below 0x21 holds no separator and is skipped whole; otherwise it jumps to the
// lowest such byte (the bit trick is exact for the lowest one), which is a separator unless it
// is some other control byte.
func tokenEnd(line string, i int) int {
	const highs, below = 0x8080808080808080, 0x21 * 0x0101010101010101
	for i+8 <= len(line) {
		w := load64(line, i)
		if m := (w - below) &^ w & highs; m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			if isSpace(line[i]) {
				return i
			}
			i++
			continue
		}
		i += 8
	}
	for i < len(line) && !isSpace(line[i]) {
		i++
	}
	return i
}

// load64 reads the eight bytes of s at i as a little-endian word (the compiler merges the loads).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Parse fills r from one flow log record in this format. It resets r first (keeping the
// backing array of r.Opaque). Fields are separated by runs of ASCII whitespace; leading and
// trailing whitespace (including a trailing "\r\n") are ignored. A field written "-" is left out
// of r.Present and keeps its zero value; NODATA and SKIPDATA records parse without error and
// r.LogStatus says what they are. Opaque columns are copied to r.Opaque as written, "-" included.
//
// String fields of r (and r.Opaque) refer into line: they are valid as long as line is, and
// are overwritten by the next Parse into r. Parse allocates nothing unless it returns an error,
// which is always an *Error. When a line has the wrong number of fields the error is of kind
// KindFieldCount, even if a value is also bad (a truncated line usually ends in half a value).
//
// Parse reads the line once: numbers and IPv4 addresses are converted while their field is
// scanned, and other values are sliced out and set by field.
func (f *Format) Parse(line string, r *Record) error {
	*r = Record{Opaque: r.Opaque[:0]}
	n := len(line)
	i := 0
	for col, c := range f.cols {
		// i is at the start of the line or at the space that ended the previous field.
		for i < n && isSpace(line[i]) {
			i++
		}
		if i >= n {
			return &Error{Kind: KindFieldCount, Position: col + 1, Got: col, Want: len(f.cols)}
		}
		start := i
		if line[i] == '-' && (i+1 == n || isSpace(line[i+1])) {
			i++
			if c.kind == kindOpaque {
				r.Opaque = append(r.Opaque, line[start:i])
			}
			continue
		}
		var bad ErrorKind
		switch c.kind {
		case kindUint:
			var v uint64
			v, i, bad = scanUint(line, i, c.max)
			if bad == 0 {
				r.setUint(c.field, v)
			}
		case kindAddr:
			var a netip.Addr
			a, i, bad = scanAddr(line, i)
			if bad == 0 {
				r.setAddr(c.field, a)
			}
		case kindOpaque:
			i = tokenEnd(line, i+1)
			r.Opaque = append(r.Opaque, line[start:i])
			continue
		default:
			i = tokenEnd(line, i+1)
			bad = r.setText(c.field, line[start:i])
		}
		if bad != 0 {
			return f.valueError(line, bad, c.field, col+1, line[start:tokenEnd(line, i)])
		}
		r.Present |= 1 << c.field
	}
	for i < n && isSpace(line[i]) {
		i++
	}
	if i < n {
		return &Error{Kind: KindFieldCount, Position: len(f.cols) + 1, Value: clip(line[i:tokenEnd(line, i)]),
			Got: CountFields(line), Want: len(f.cols)}
	}
	return nil
}

// valueError reports a bad value, unless the line also has the wrong number of fields: then the
// count is the root cause, and is reported.
func (f *Format) valueError(line string, kind ErrorKind, field Field, pos int, tok string) error {
	if n := CountFields(line); n != len(f.cols) {
		return &Error{Kind: KindFieldCount, Position: min(n, len(f.cols)) + 1, Got: n, Want: len(f.cols)}
	}
	return &Error{Kind: kind, Field: field, Position: pos, Value: clip(tok)}
}

// setUint stores the value of a kindUint field; the caller checked it against the column's max.
func (r *Record) setUint(field Field, v uint64) {
	switch field {
	case FieldVersion:
		r.Version = uint8(v)
	case FieldSrcPort:
		r.SrcPort = uint16(v)
	case FieldDstPort:
		r.DstPort = uint16(v)
	case FieldProtocol:
		r.Protocol = uint8(v)
	case FieldPackets:
		r.Packets = v
	case FieldBytes:
		r.Bytes = v
	case FieldStart:
		r.Start = int64(v)
	case FieldEnd:
		r.End = int64(v)
	case FieldTCPFlags:
		r.TCPFlags = uint8(v)
	case FieldTrafficPath:
		r.TrafficPath = uint8(v)
	}
}

// setAddr stores the value of a kindAddr field.
func (r *Record) setAddr(field Field, a netip.Addr) {
	switch field {
	case FieldSrcAddr:
		r.SrcAddr = a
	case FieldDstAddr:
		r.DstAddr = a
	case FieldPktSrcAddr:
		r.PktSrcAddr = a
	case FieldPktDstAddr:
		r.PktDstAddr = a
	}
}

// setText stores the value tok (not "-") of a string or enum field, or returns KindBadEnum.
func (r *Record) setText(field Field, tok string) ErrorKind {
	var bad ErrorKind
	switch field {
	case FieldAccountID:
		r.AccountID = tok
	case FieldInterfaceID:
		r.InterfaceID = tok
	case FieldAction:
		r.Action, bad = parseAction(tok)
	case FieldLogStatus:
		r.LogStatus, bad = parseLogStatus(tok)
	case FieldVPCID:
		r.VPCID = tok
	case FieldSubnetID:
		r.SubnetID = tok
	case FieldInstanceID:
		r.InstanceID = tok
	case FieldType:
		r.Type, bad = parseTrafficType(tok)
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
		r.FlowDirection, bad = parseFlowDirection(tok)
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
	return bad
}
