package parse

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// malformedSeeds are bad default-format lines that seed FuzzParseLine beside the testdata
// records, one or more per error kind.
var malformedSeeds = []string{
	"",
	"2 123456789010 eni-1 172.31.16.139",
	"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK extra",
	"x 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
	"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 65536 6 20 4249 1418530010 1418530070 ACCEPT OK",
	"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 18446744073709551616 1418530010 1418530070 ACCEPT OK",
	"2 123456789010 eni-1 172.31.16.01 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
	"2 123456789010 eni-1 fe80::1%eth0 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
	"2 123456789010 eni-1 ::ffff:1.2.3.4 1.2.3.4.5 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
	"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 DROP OK",
	"\x00\xff \xc0\x80\t-\r\n",
}

// FuzzParseLine parses arbitrary lines in each testdata format. It must never panic; a good
// line must round-trip through Append, and the result must agree with a slow reference parser
// built from the standard library.
func FuzzParseLine(f *testing.F) {
	files := loadCorpus(f)
	for k, cf := range files {
		for _, line := range cf.lines {
			f.Add(uint8(k), line)
		}
	}
	def := 0
	for k, cf := range files {
		if cf.name == "default" {
			def = k
		}
	}
	for _, line := range malformedSeeds {
		f.Add(uint8(def), line)
	}
	f.Fuzz(func(t *testing.T, k uint8, line string) {
		format := files[int(k)%len(files)].format
		var got Record
		err := format.Parse(line, &got)
		want, wantErr := referenceParse(format, line)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if wantErr == nil || pe.Kind != wantErr.Kind || pe.Position != wantErr.Position || pe.Field != wantErr.Field {
				t.Fatalf("Parse error %v (kind %v, position %d), reference says %v", pe, pe.Kind, pe.Position, wantErr)
			}
			if len(pe.Value) > maxErrorValue+3 {
				t.Fatalf("error value of %d bytes", len(pe.Value))
			}
			return
		}
		if wantErr != nil {
			t.Fatalf("Parse accepted a line the reference rejects: %v", wantErr)
		}
		if diff := recordDiff(&got, want); diff != nil {
			t.Fatalf("fields %v differ from the reference\n got %+v\nwant %+v", diff, got, *want)
		}
		out := format.Append(nil, &got)
		var back Record
		if err := format.Parse(string(out), &back); err != nil {
			t.Fatalf("Append wrote %q, which does not parse: %v", out, err)
		}
		if diff := recordDiff(&got, &back); diff != nil {
			t.Fatalf("round trip through %q changes %v", out, diff)
		}
		if again := format.Append(nil, &back); string(again) != string(out) {
			t.Fatalf("Append is not stable: %q then %q", out, again)
		}
	})
}

// goNames maps each known field to its Record member, for the reference parser.
var goNames = map[Field]string{
	FieldVersion: "Version", FieldAccountID: "AccountID", FieldInterfaceID: "InterfaceID", FieldSrcAddr: "SrcAddr",
	FieldDstAddr: "DstAddr", FieldSrcPort: "SrcPort", FieldDstPort: "DstPort", FieldProtocol: "Protocol",
	FieldPackets: "Packets", FieldBytes: "Bytes", FieldStart: "Start", FieldEnd: "End", FieldAction: "Action",
	FieldLogStatus: "LogStatus", FieldVPCID: "VPCID", FieldSubnetID: "SubnetID", FieldInstanceID: "InstanceID",
	FieldTCPFlags: "TCPFlags", FieldType: "Type", FieldPktSrcAddr: "PktSrcAddr", FieldPktDstAddr: "PktDstAddr",
	FieldRegion: "Region", FieldAZID: "AZID", FieldSublocationType: "SublocationType",
	FieldSublocationID: "SublocationID", FieldPktSrcAWSService: "PktSrcAWSService",
	FieldPktDstAWSService: "PktDstAWSService", FieldFlowDirection: "FlowDirection", FieldTrafficPath: "TrafficPath",
	FieldECSClusterARN: "ECSClusterARN", FieldECSClusterName: "ECSClusterName",
	FieldECSContainerInstanceARN: "ECSContainerInstanceARN", FieldECSContainerInstanceID: "ECSContainerInstanceID",
	FieldECSContainerID: "ECSContainerID", FieldECSSecondContainerID: "ECSSecondContainerID",
	FieldECSServiceName: "ECSServiceName", FieldECSTaskDefinitionARN: "ECSTaskDefinitionARN",
	FieldECSTaskARN: "ECSTaskARN", FieldECSTaskID: "ECSTaskID", FieldRejectReason: "RejectReason",
	FieldResourceID: "ResourceID", FieldEncryptionStatus: "EncryptionStatus", FieldInstanceTag: "InstanceTag",
	FieldInstanceTag2: "InstanceTag2", FieldInterfaceTag: "InterfaceTag", FieldInterfaceTag2: "InterfaceTag2",
	FieldASGTag: "ASGTag", FieldASGTag2: "ASGTag2", FieldInterfaceType: "InterfaceType",
	FieldNextHopInterfaceID: "NextHopInterfaceID", FieldNextHopSubnetID: "NextHopSubnetID",
	FieldNextHopAZID: "NextHopAZID", FieldNextHopVPCID: "NextHopVPCID", FieldNextHopInterfaceType: "NextHopInterfaceType",
	FieldResourceType: "ResourceType", FieldTGWID: "TGWID", FieldTGWAttachmentID: "TGWAttachmentID",
	FieldTGWSrcVPCAccountID: "TGWSrcVPCAccountID", FieldTGWDstVPCAccountID: "TGWDstVPCAccountID",
	FieldTGWSrcVPCID: "TGWSrcVPCID", FieldTGWDstVPCID: "TGWDstVPCID", FieldTGWSrcSubnetID: "TGWSrcSubnetID",
	FieldTGWDstSubnetID: "TGWDstSubnetID", FieldTGWSrcENI: "TGWSrcENI", FieldTGWDstENI: "TGWDstENI",
	FieldTGWSrcAZID: "TGWSrcAZID", FieldTGWDstAZID: "TGWDstAZID", FieldTGWPairAttachmentID: "TGWPairAttachmentID",
	FieldPacketsLostNoRoute: "PacketsLostNoRoute", FieldPacketsLostBlackhole: "PacketsLostBlackhole",
	FieldPacketsLostMTUExceeded: "PacketsLostMTUExceeded", FieldPacketsLostTTLExpired: "PacketsLostTTLExpired",
}

// signedCounts are the uint64 members whose AWS type is a signed 64-bit integer: the reference
// accepts them up to 2^63-1, not to their Go type's limit.
var signedCounts = map[Field]bool{
	FieldPackets: true, FieldBytes: true, FieldPacketsLostNoRoute: true, FieldPacketsLostBlackhole: true,
	FieldPacketsLostMTUExceeded: true, FieldPacketsLostTTLExpired: true,
}

// referenceParse is a slow, obviously-correct parser used as the fuzz oracle: split with
// strings.FieldsFunc, convert with strconv and netip according to the Go type of the Record
// member (so the range of a number is its member's), apply the rules of Parse's documentation.
func referenceParse(f *Format, line string) (*Record, *Error) {
	toks := strings.FieldsFunc(line, func(c rune) bool { return strings.ContainsRune(" \t\n\v\f\r", c) })
	if len(toks) != f.NumFields() {
		return nil, &Error{Kind: KindFieldCount, Position: min(len(toks), f.NumFields()) + 1, Got: len(toks), Want: f.NumFields()}
	}
	r := &Record{}
	for i, field := range f.Fields() {
		tok := toks[i]
		if field == FieldUnknown {
			r.Opaque = append(r.Opaque, tok)
			continue
		}
		if tok == "-" {
			continue
		}
		bad := func(kind ErrorKind) *Error { return &Error{Kind: kind, Field: field, Position: i + 1} }
		member := reflect.ValueOf(r).Elem().FieldByName(goNames[field])
		switch v := member.Addr().Interface().(type) {
		case *netip.Addr:
			a, err := netip.ParseAddr(tok)
			if err != nil || a.Zone() != "" {
				return nil, bad(KindBadAddress)
			}
			*v = a
		case *string:
			*v = tok
		case *Action, *LogStatus, *FlowDirection, *TrafficType, *ResourceType:
			if !referenceEnum(member, tok) {
				return nil, bad(KindBadEnum)
			}
		default:
			if strings.TrimLeft(tok, "0123456789") != "" {
				return nil, bad(KindBadNumber)
			}
			n, err := strconv.ParseUint(tok, 10, 64)
			if err != nil {
				return nil, bad(KindOutOfRange)
			}
			switch {
			case signedCounts[field] && n > 1<<63-1:
				return nil, bad(KindOutOfRange)
			case member.Kind() == reflect.Int64:
				if n > 1<<63-1 {
					return nil, bad(KindOutOfRange)
				}
				member.SetInt(int64(n))
			default:
				if member.OverflowUint(n) {
					return nil, bad(KindOutOfRange)
				}
				member.SetUint(n)
			}
		}
		r.Present = r.Present.With(field)
	}
	return r, nil
}

// referenceEnum sets an enum member to the value whose String is tok, trying every value of its
// type but the zero one ("-").
func referenceEnum(member reflect.Value, tok string) bool {
	for v := 1; v < 256; v++ {
		c := reflect.New(member.Type()).Elem()
		c.SetUint(uint64(v))
		if c.Interface().(fmt.Stringer).String() == tok {
			member.Set(c)
			return true
		}
	}
	return false
}

// FuzzCompile compiles arbitrary format strings. It must never panic; an accepted spec must have
// one column per whitespace-separated token, and its canonical String must compile to the same
// columns.
func FuzzCompile(f *testing.F) {
	for _, cf := range loadCorpus(f) {
		f.Add(cf.spec)
	}
	for _, spec := range []string{"", "${}", "$${}", "${a} ${a}", "${a}${b}", "a b_c", "${a", "$", "${a} b", "$${version} ${srcaddr}"} {
		f.Add(spec)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		format, err := Compile(spec)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		if n := len(strings.Fields(spec)); format.NumFields() != n {
			t.Fatalf("%d columns for %d tokens", format.NumFields(), n)
		}
		// Warnings name real opaque columns, and suggest only known names.
		unknown := 0
		for _, w := range format.Warnings() {
			switch w.Kind {
			case WarnUnknownField:
				unknown++
				if w.Position < 1 || w.Position > format.NumFields() || format.Fields()[w.Position-1] != FieldUnknown || format.Names()[w.Position-1] != w.Name {
					t.Fatalf("warning %+v does not name an opaque column", w)
				}
				if _, ok := FieldByName(w.Suggestion); w.Suggestion != "" && !ok {
					t.Fatalf("suggestion %q is not a known field", w.Suggestion)
				}
			case WarnCannotCount:
				for _, m := range w.Missing {
					if format.Has(m) {
						t.Fatalf("warning says %v is missing from %q", m, format)
					}
				}
			}
		}
		if unknown != len(format.Opaque()) {
			t.Fatalf("%d unknown-field warnings for %d opaque columns", unknown, len(format.Opaque()))
		}
		again, err := Compile(format.String())
		if err != nil {
			t.Fatalf("canonical form %q does not compile: %v", format.String(), err)
		}
		if again.String() != format.String() || len(again.Opaque()) != len(format.Opaque()) {
			t.Fatalf("canonical form changes: %q then %q", format.String(), again.String())
		}
	})
}
