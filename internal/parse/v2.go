package parse

import "net/netip"

// v2Fields are the columns of DefaultFormat, in order.
var v2Fields = [...]Field{FieldVersion, FieldAccountID, FieldInterfaceID, FieldSrcAddr, FieldDstAddr,
	FieldSrcPort, FieldDstPort, FieldProtocol, FieldPackets, FieldBytes, FieldStart, FieldEnd,
	FieldAction, FieldLogStatus}

// isV2 reports whether fields are exactly DefaultFormat's.
func isV2(fields []Field) bool {
	if len(fields) != len(v2Fields) {
		return false
	}
	for i, f := range fields {
		if f != v2Fields[i] {
			return false
		}
	}
	return true
}

// v2Set is the Present set of a default-format record with every field written.
var v2Set = func() FieldSet {
	var s FieldSet
	for _, f := range v2Fields {
		s = s.With(f)
	}
	return s
}()

// parseV2 parses a line of DefaultFormat, most records that flowd reads, when it is clean: single
// spaces between fields, none at the ends, no "-" field, plain values. It reports false for
// anything else, with r in an unspecified state; Parse then reads the line the general way,
// which takes every line and finds and names any problem.
//
// It is the general loop unrolled for the 14 columns: no per-column dispatch, and across its
// calls only the line, the index and r stay live (Go keeps no register across a call, so the
// general loop spills and reloads its whole state at every call). Lines of other formats, and
// NODATA and SKIPDATA records (whose "-" fields it declines), take the general path.
func parseV2(line string, r *Record) bool {
	if len(line) < 48 {
		return false
	}
	// Only the 14 fields below are set here, so a Record this function filled last needs no
	// reset: it writes them all again. Resetting the whole Record (over a kilobyte, with every
	// field of versions 9 to 11 and of transit gateways) cost the default format a tenth of its
	// speed. A failure below leaves r to the general path, which resets it whole.
	if r.v2Only {
		r.Opaque = r.Opaque[:0]
	} else {
		r.reset()
	}
	var v uint64
	i, ok := 0, false
	if v, i, ok = v2Number(line, i, 1<<8-1); !ok {
		return false
	}
	r.Version = uint8(v)
	start := i
	if i, ok = v2Token(line, i); !ok {
		return false
	}
	r.AccountID = line[start : i-1]
	start = i
	if i, ok = v2Token(line, i); !ok {
		return false
	}
	r.InterfaceID = line[start : i-1]
	if r.SrcAddr, i, ok = v2Addr(line, i); !ok {
		return false
	}
	if r.DstAddr, i, ok = v2Addr(line, i); !ok {
		return false
	}
	if v, i, ok = v2Number(line, i, 1<<16-1); !ok {
		return false
	}
	r.SrcPort = uint16(v)
	if v, i, ok = v2Number(line, i, 1<<16-1); !ok {
		return false
	}
	r.DstPort = uint16(v)
	if v, i, ok = v2Number(line, i, 1<<8-1); !ok {
		return false
	}
	r.Protocol = uint8(v)
	if r.Packets, i, ok = v2Number(line, i, maxCount); !ok {
		return false
	}
	if r.Bytes, i, ok = v2Number(line, i, maxCount); !ok {
		return false
	}
	if v, i, ok = v2Number(line, i, 1<<63-1); !ok {
		return false
	}
	r.Start = int64(v)
	if v, i, ok = v2Number(line, i, 1<<63-1); !ok {
		return false
	}
	r.End = int64(v)
	start = i
	if i, ok = v2Token(line, i); !ok {
		return false
	}
	var bad ErrorKind
	if r.Action, bad = parseAction(line[start : i-1]); bad != 0 {
		return false
	}
	// The last field runs to the end of the line.
	if r.LogStatus, bad = parseLogStatus(line[i:]); bad != 0 {
		return false
	}
	r.Present = v2Set
	r.v2Only = true
	return true
}

// v2Number converts the number at line[i], which must be 1 to 15 digits followed by one space and
// a byte above '-' (the next value), and returns it with the index of that byte. The line has at
// least 16 bytes from i on.
func v2Number(line string, i int, limit uint64) (uint64, int, bool) {
	if i+16 > len(line) {
		return 0, 0, false
	}
	k, v := digits8(load64(line, i))
	if k == 8 {
		k2, v2 := digits8(load64(line, i+8))
		v = v*pow10[k2&15] + v2
		k += k2
	}
	i += k
	// i < len(line): at most 15 digits were taken from a line with 16 bytes left; k == 16 would
	// be a number of 16 digits or more, which scanUint checks for overflow.
	if k == 0 || k == 16 || i+1 >= len(line) || line[i] != ' ' || line[i+1] <= '-' || v > limit {
		return 0, 0, false
	}
	return v, i + 1, true
}

// v2Token finds the end of the value at line[i] and returns the index of the next value: the
// value must be followed by one space and a byte above '-'.
func v2Token(line string, i int) (int, bool) {
	end := tokenEnd(line, i)
	if end+1 >= len(line) || line[end] != ' ' || line[end+1] <= '-' {
		return 0, false
	}
	return end + 1, true
}

// v2Addr converts the address at line[i], which must be followed by one space and a byte above
// '-', and returns it with the index of that byte.
func v2Addr(line string, i int) (netip.Addr, int, bool) {
	a, end, bad := scanAddr(line, i)
	if bad != 0 || end+1 >= len(line) || line[end] != ' ' || line[end+1] <= '-' {
		return netip.Addr{}, 0, false
	}
	return a, end + 1, true
}
