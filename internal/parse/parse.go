package parse

import "math/bits"

// isSpace reports whether c separates fields: the ASCII whitespace bytes (space, \t, \n, \v, \f,
// \r). AWS writes single spaces, but one documented example has a double space, and lines read
// from files may end in \r\n; treating every ASCII space as a separator makes all of these parse
// the same, and no field value can contain one.
//
// Most bytes are above ' ', so the first comparison settles them.
func isSpace(c byte) bool { return c <= ' ' && (c == ' ' || '\t' <= c && c <= '\r') }

// CountFields returns the number of fields in line: the runs of non-space bytes (see Parse for
// what counts as a space). It allocates nothing.
func CountFields(line string) int { return countFieldsUpTo(line, len(line)+1) }

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
// backing array of r.Opaque); a Record last filled by a default-format Parse is reset only in
// the fields of that format, which Parse writes again, so a Record reused across Parse calls
// must not be given values by hand in between (start from a fresh Record for that). Fields are separated by runs of ASCII whitespace; leading and
// trailing whitespace (including a trailing "\r\n") are ignored. A field written "-" is left out
// of r.Present and keeps its zero value; NODATA and SKIPDATA records parse without error and
// r.LogStatus says what they are. Opaque columns are copied to r.Opaque as written, "-" included.
//
// String fields of r (and r.Opaque) refer into line: they are valid as long as line is, and
// are overwritten by the next Parse into r. Parse allocates nothing unless it returns an error,
// which is always an *Error; r then holds only part of the line and must not be used. When a
// line has the wrong number of fields the error is of kind KindFieldCount, even if a value is
// also bad (a truncated line usually ends in half a value).
//
// A clean line of the default format goes through parseV2, the unrolled reader of its 14
// columns; every other line goes through the general loop, which names any problem.
func (f *Format) Parse(line string, r *Record) error {
	if f.v2 && parseV2(line, r) {
		return nil
	}
	return f.parse(line, r)
}

// parse is Parse for any line of any format. It reads the line once, dispatching on each
// column's field: numbers and IPv4 addresses are converted while they are scanned, other values
// are sliced out where they end.
//
// The common path makes no call for numbers: Go's calling convention keeps no register across a
// call, so each call would spill and reload the loop's state. Numbers of up to 15 digits (every
// port, count and timestamp AWS writes) are converted inline, sixteen bytes at a time; anything
// else, and lines too short to load sixteen bytes, goes to scanUint, which decides.
func (f *Format) parse(line string, r *Record) error {
	r.reset()
	n := len(line)
	i := 0
	var absent FieldSet // fields written "-"
	for col, field := range f.fields {
		// i is at the first byte of this field, or at leading or repeated spaces. One compare
		// settles the common case, a value starting above '-' (a digit, a letter): spaces, a
		// "-", the end of the line and odd bytes take the longer way.
		if i >= n || line[i] <= '-' {
			for i < n && isSpace(line[i]) {
				i++
			}
			if i >= n {
				r.Present = f.presentBefore(col, absent)
				return &Error{Kind: KindFieldCount, Position: col + 1, Got: col, Want: len(f.fields)}
			}
			if line[i] == '-' && (i+1 == n || isSpace(line[i+1])) {
				if field == FieldUnknown {
					r.Opaque = append(r.Opaque, line[i:i+1])
				}
				absent[field>>6&(fieldSetWords-1)] |= 1 << (field & 63)
				i += 2 // past the separator (or past the end: the next column sees i >= n)
				continue
			}
		}
		start := i
		var bad ErrorKind
		if limit := numberMax[field]; limit != 0 {
			var v uint64
			if i+16 <= n {
				k, d := digits8(load64(line, i))
				if k == 8 {
					k2, d2 := digits8(load64(line, i+8))
					d = d*pow10[k2&15] + d2
					k += k2
				}
				v, i = d, i+k
				// i < n: at most 15 digits were taken from a line with 16 bytes left.
				if k == 0 || k == 16 || !isSpace(line[i]) || v > limit {
					v, i, bad = scanUint(line, start, limit) // not a plain number that fits: decide
				}
			} else {
				v, i, bad = scanUint(line, i, limit)
			}
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
			case FieldEncryptionStatus:
				r.EncryptionStatus = EncryptionStatus(v)
			case FieldPacketsLostNoRoute:
				r.PacketsLostNoRoute = v
			case FieldPacketsLostBlackhole:
				r.PacketsLostBlackhole = v
			case FieldPacketsLostMTUExceeded:
				r.PacketsLostMTUExceeded = v
			case FieldPacketsLostTTLExpired:
				r.PacketsLostTTLExpired = v
			}
		} else {
			// One dispatch per column, on the field itself: each case scans its value to its end
			// and stores it. A value stored before an error is returned does not matter.
			switch field {
			case FieldUnknown:
				i = tokenEnd(line, i+1)
				r.Opaque = append(r.Opaque, line[start:i])
				i++
				continue
			case FieldSrcAddr:
				r.SrcAddr, i, bad = scanAddr(line, i)
			case FieldDstAddr:
				r.DstAddr, i, bad = scanAddr(line, i)
			case FieldPktSrcAddr:
				r.PktSrcAddr, i, bad = scanAddr(line, i)
			case FieldPktDstAddr:
				r.PktDstAddr, i, bad = scanAddr(line, i)
			case FieldAction:
				i = tokenEnd(line, i+1)
				r.Action, bad = parseAction(line[start:i])
			case FieldLogStatus:
				i = tokenEnd(line, i+1)
				r.LogStatus, bad = parseLogStatus(line[start:i])
			case FieldType:
				i = tokenEnd(line, i+1)
				r.Type, bad = parseTrafficType(line[start:i])
			case FieldFlowDirection:
				i = tokenEnd(line, i+1)
				r.FlowDirection, bad = parseFlowDirection(line[start:i])
			case FieldResourceType:
				i = tokenEnd(line, i+1)
				r.ResourceType, bad = parseResourceType(line[start:i])
			case FieldAccountID:
				i = tokenEnd(line, i+1)
				r.AccountID = line[start:i]
			case FieldInterfaceID:
				i = tokenEnd(line, i+1)
				r.InterfaceID = line[start:i]
			case FieldVPCID:
				i = tokenEnd(line, i+1)
				r.VPCID = line[start:i]
			case FieldSubnetID:
				i = tokenEnd(line, i+1)
				r.SubnetID = line[start:i]
			case FieldInstanceID:
				i = tokenEnd(line, i+1)
				r.InstanceID = line[start:i]
			case FieldRegion:
				i = tokenEnd(line, i+1)
				r.Region = line[start:i]
			case FieldAZID:
				i = tokenEnd(line, i+1)
				r.AZID = line[start:i]
			case FieldSublocationType:
				i = tokenEnd(line, i+1)
				r.SublocationType = line[start:i]
			case FieldSublocationID:
				i = tokenEnd(line, i+1)
				r.SublocationID = line[start:i]
			case FieldPktSrcAWSService:
				i = tokenEnd(line, i+1)
				r.PktSrcAWSService = line[start:i]
			case FieldPktDstAWSService:
				i = tokenEnd(line, i+1)
				r.PktDstAWSService = line[start:i]
			case FieldECSClusterARN:
				i = tokenEnd(line, i+1)
				r.ECSClusterARN = line[start:i]
			case FieldECSClusterName:
				i = tokenEnd(line, i+1)
				r.ECSClusterName = line[start:i]
			case FieldECSContainerInstanceARN:
				i = tokenEnd(line, i+1)
				r.ECSContainerInstanceARN = line[start:i]
			case FieldECSContainerInstanceID:
				i = tokenEnd(line, i+1)
				r.ECSContainerInstanceID = line[start:i]
			case FieldECSContainerID:
				i = tokenEnd(line, i+1)
				r.ECSContainerID = line[start:i]
			case FieldECSSecondContainerID:
				i = tokenEnd(line, i+1)
				r.ECSSecondContainerID = line[start:i]
			case FieldECSServiceName:
				i = tokenEnd(line, i+1)
				r.ECSServiceName = line[start:i]
			case FieldECSTaskDefinitionARN:
				i = tokenEnd(line, i+1)
				r.ECSTaskDefinitionARN = line[start:i]
			case FieldECSTaskARN:
				i = tokenEnd(line, i+1)
				r.ECSTaskARN = line[start:i]
			case FieldECSTaskID:
				i = tokenEnd(line, i+1)
				r.ECSTaskID = line[start:i]
			case FieldRejectReason:
				i = tokenEnd(line, i+1)
				r.RejectReason = line[start:i]
			case FieldResourceID:
				i = tokenEnd(line, i+1)
				r.ResourceID = line[start:i]
			case FieldInstanceTag:
				i = tokenEnd(line, i+1)
				r.InstanceTag = line[start:i]
			case FieldInstanceTag2:
				i = tokenEnd(line, i+1)
				r.InstanceTag2 = line[start:i]
			case FieldInterfaceTag:
				i = tokenEnd(line, i+1)
				r.InterfaceTag = line[start:i]
			case FieldInterfaceTag2:
				i = tokenEnd(line, i+1)
				r.InterfaceTag2 = line[start:i]
			case FieldASGTag:
				i = tokenEnd(line, i+1)
				r.ASGTag = line[start:i]
			case FieldASGTag2:
				i = tokenEnd(line, i+1)
				r.ASGTag2 = line[start:i]
			case FieldInterfaceType:
				i = tokenEnd(line, i+1)
				r.InterfaceType = line[start:i]
			case FieldNextHopInterfaceID:
				i = tokenEnd(line, i+1)
				r.NextHopInterfaceID = line[start:i]
			case FieldNextHopSubnetID:
				i = tokenEnd(line, i+1)
				r.NextHopSubnetID = line[start:i]
			case FieldNextHopAZID:
				i = tokenEnd(line, i+1)
				r.NextHopAZID = line[start:i]
			case FieldNextHopVPCID:
				i = tokenEnd(line, i+1)
				r.NextHopVPCID = line[start:i]
			case FieldNextHopInterfaceType:
				i = tokenEnd(line, i+1)
				r.NextHopInterfaceType = line[start:i]
			case FieldTGWID:
				i = tokenEnd(line, i+1)
				r.TGWID = line[start:i]
			case FieldTGWAttachmentID:
				i = tokenEnd(line, i+1)
				r.TGWAttachmentID = line[start:i]
			case FieldTGWSrcVPCAccountID:
				i = tokenEnd(line, i+1)
				r.TGWSrcVPCAccountID = line[start:i]
			case FieldTGWDstVPCAccountID:
				i = tokenEnd(line, i+1)
				r.TGWDstVPCAccountID = line[start:i]
			case FieldTGWSrcVPCID:
				i = tokenEnd(line, i+1)
				r.TGWSrcVPCID = line[start:i]
			case FieldTGWDstVPCID:
				i = tokenEnd(line, i+1)
				r.TGWDstVPCID = line[start:i]
			case FieldTGWSrcSubnetID:
				i = tokenEnd(line, i+1)
				r.TGWSrcSubnetID = line[start:i]
			case FieldTGWDstSubnetID:
				i = tokenEnd(line, i+1)
				r.TGWDstSubnetID = line[start:i]
			case FieldTGWSrcENI:
				i = tokenEnd(line, i+1)
				r.TGWSrcENI = line[start:i]
			case FieldTGWDstENI:
				i = tokenEnd(line, i+1)
				r.TGWDstENI = line[start:i]
			case FieldTGWSrcAZID:
				i = tokenEnd(line, i+1)
				r.TGWSrcAZID = line[start:i]
			case FieldTGWDstAZID:
				i = tokenEnd(line, i+1)
				r.TGWDstAZID = line[start:i]
			case FieldTGWPairAttachmentID:
				i = tokenEnd(line, i+1)
				r.TGWPairAttachmentID = line[start:i]
			}
		}
		if bad != 0 {
			r.Present = f.presentBefore(col, absent)
			return f.valueError(line, bad, field, col+1, line[start:tokenEnd(line, i)])
		}
		i++ // past the separator
	}
	r.Present = f.set.Minus(absent)
	for i < n && isSpace(line[i]) {
		i++
	}
	if i < n {
		return &Error{Kind: KindFieldCount, Position: len(f.fields) + 1, Value: clip(line[i:tokenEnd(line, i)]),
			Got: CountFields(line), Want: len(f.fields)}
	}
	return nil
}

// numberMax is, by field, the largest value of a numeric field, and 0 for the other fields. It
// has 256 entries so that indexing it with a Field needs no bounds check.
var numberMax = [256]uint64{
	FieldVersion:     1<<8 - 1,
	FieldSrcPort:     1<<16 - 1,
	FieldDstPort:     1<<16 - 1,
	FieldProtocol:    1<<8 - 1,
	FieldPackets:     maxCount,
	FieldBytes:       maxCount,
	FieldStart:       1<<63 - 1,
	FieldEnd:         1<<63 - 1,
	FieldTCPFlags:    1<<8 - 1,
	FieldTrafficPath: 1<<8 - 1,
	// AWS documents 0 to 3; a later value is kept, not rejected.
	FieldEncryptionStatus:       1<<8 - 1,
	FieldPacketsLostNoRoute:     maxCount,
	FieldPacketsLostBlackhole:   maxCount,
	FieldPacketsLostMTUExceeded: maxCount,
	FieldPacketsLostTTLExpired:  maxCount,
}

// maxCount is the largest packet or byte count: AWS's type for them (INT_64 in the Parquet
// schema, bigint in Athena) is signed, so a larger value is not one AWS writes. Keeping counts
// below 2^63 also lets a sum of two never wrap a uint64.
const maxCount = 1<<63 - 1

// presentBefore is the Present set of a parse that stopped at column col (an error).
func (f *Format) presentBefore(col int, absent FieldSet) FieldSet {
	var s FieldSet
	for _, field := range f.fields[:col] {
		if field != FieldUnknown {
			s = s.With(field)
		}
	}
	return s.Minus(absent)
}

// valueError reports a bad value, unless the line also has the wrong number of fields: then the
// count is the root cause, and is reported.
func (f *Format) valueError(line string, kind ErrorKind, field Field, pos int, tok string) error {
	if n := CountFields(line); n != len(f.fields) {
		return &Error{Kind: KindFieldCount, Position: min(n, len(f.fields)) + 1, Got: n, Want: len(f.fields)}
	}
	return &Error{Kind: kind, Field: field, Position: pos, Value: clip(tok)}
}
