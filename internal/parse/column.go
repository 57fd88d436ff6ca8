package parse

// kind says how Parse reads a column's value; it is looked up once per format, so the per-record
// loop dispatches on a small table instead of on field names.
type kind uint8

const (
	kindText   kind = iota // a string field or an enum: find the end, then set by field
	kindUint               // a decimal number, converted while it is scanned
	kindAddr               // an IP address, IPv4 converted while it is scanned
	kindOpaque             // an unknown field: appended to Record.Opaque
)

// column is one entry of a Format's per-column table.
type column struct {
	field Field
	kind  kind
	max   uint64 // the largest value of a kindUint field
}

// columnFor returns the table entry for a field.
func columnFor(f Field) column {
	switch f {
	case FieldUnknown:
		return column{field: f, kind: kindOpaque}
	case FieldVersion, FieldProtocol, FieldTCPFlags, FieldTrafficPath:
		return column{field: f, kind: kindUint, max: 1<<8 - 1}
	case FieldSrcPort, FieldDstPort:
		return column{field: f, kind: kindUint, max: 1<<16 - 1}
	case FieldPackets, FieldBytes:
		return column{field: f, kind: kindUint, max: 1<<64 - 1}
	case FieldStart, FieldEnd:
		return column{field: f, kind: kindUint, max: 1<<63 - 1}
	case FieldSrcAddr, FieldDstAddr, FieldPktSrcAddr, FieldPktDstAddr:
		return column{field: f, kind: kindAddr}
	}
	return column{field: f, kind: kindText}
}
