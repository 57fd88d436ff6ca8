package parse

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCompileSpellings checks that the three spellings of a format compile to the same columns.
func TestCompileSpellings(t *testing.T) {
	t.Parallel()
	wantNames := []string{"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
		"protocol", "packets", "bytes", "start", "end", "action", "log-status"}
	tests := []struct{ name, spec string }{
		{"api", DefaultFormat},
		{"terraform", "$${version} $${account-id} $${interface-id} $${srcaddr} $${dstaddr} $${srcport} $${dstport} $${protocol} $${packets} $${bytes} $${start} $${end} $${action} $${log-status}"},
		{"s3 header", "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"},
		{"parquet underscores", "version account_id interface_id srcaddr dstaddr srcport dstport protocol packets bytes start end action log_status"},
		{"mixed escapes and extra whitespace", "  ${version}\t$${account-id}  ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Compile(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.Names(), wantNames) {
				t.Errorf("Names() = %v", f.Names())
			}
			if f.String() != DefaultFormat {
				t.Errorf("String() = %q, want DefaultFormat", f.String())
			}
			if f.NumFields() != 14 || len(f.Opaque()) != 0 {
				t.Errorf("NumFields() = %d, Opaque() = %v", f.NumFields(), f.Opaque())
			}
			fields := f.Fields()
			for i := range fields {
				if fields[i] != FieldVersion+Field(i) {
					t.Errorf("column %d is %v", i+1, fields[i])
				}
			}
		})
	}
}

// TestCompileOpaque checks that unknown names become opaque columns, in order, with "_" read
// as "-", and that Has only answers for known fields.
func TestCompileOpaque(t *testing.T) {
	t.Parallel()
	f, err := Compile("${version} ${flow-id} ${srcaddr} ${future_field} ${next-hop-route} ${instance-tag-3}")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Opaque(), []string{"flow-id", "future-field", "next-hop-route", "instance-tag-3"}; !slices.Equal(got, want) {
		t.Errorf("Opaque() = %v, want %v", got, want)
	}
	if got, want := f.Fields(), []Field{FieldVersion, FieldUnknown, FieldSrcAddr, FieldUnknown, FieldUnknown, FieldUnknown}; !slices.Equal(got, want) {
		t.Errorf("Fields() = %v, want %v", got, want)
	}
	if !f.Has(FieldSrcAddr) || f.Has(FieldDstAddr) || f.Has(FieldUnknown) {
		t.Errorf("Has: srcaddr %v, dstaddr %v, unknown %v", f.Has(FieldSrcAddr), f.Has(FieldDstAddr), f.Has(FieldUnknown))
	}
	if want := "${version} ${flow-id} ${srcaddr} ${future-field} ${next-hop-route} ${instance-tag-3}"; f.String() != want {
		t.Errorf("String() = %q", f.String())
	}
	// The accessors hand out copies: changing them must not change the format.
	f.Names()[0] = "x"
	f.Fields()[0] = FieldEnd
	f.Opaque()[0] = "x"
	if f.Names()[0] != "version" || f.Fields()[0] != FieldVersion || f.Opaque()[0] != "flow-id" {
		t.Error("accessor results alias the format")
	}
}

// TestCompileErrors checks that each bad spec gets a *FormatError naming the token and its
// position.
func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		spec    string
		pos     int
		token   string
		problem string
	}{
		{"empty", "", 0, "", "empty format"},
		{"only spaces", " \t\n", 0, "", "empty format"},
		{"empty field", "${version} ${} ${srcaddr}", 2, "${}", "empty field name"},
		{"empty terraform field", "$${version} $${}", 2, "$${}", "empty field name"},
		{"duplicate", "${version} ${srcaddr} ${version}", 3, "${version}", "duplicate field"},
		{"duplicate across spellings", "account-id account_id", 2, "account_id", "duplicate field"},
		{"duplicate opaque", "${flow-id} ${flow-id}", 2, "${flow-id}", "duplicate field"},
		{"duplicate v11", "${resource-id} ${resource-id}", 2, "${resource-id}", "duplicate field"},
		{"stray word", "${version} and ${srcaddr}", 2, "and", "stray text"},
		{"stray comma", "${version}, ${srcaddr}", 1, "${version},", "stray text"},
		{"unterminated", "${version} ${srcaddr", 2, "${srcaddr", "stray text"},
		{"glued fields", "${version}${srcaddr}", 1, "${version}${srcaddr}", "stray text"},
		{"single dollar", "${version} $", 2, "$", "stray text"},
		{"braces without dollar", "${version} {srcaddr}", 2, "{srcaddr}", "stray text"},
		{"bad character in name", "${version} ${src.addr}", 2, "${src.addr}", "bad field name"},
		{"bad bare name", "version src:addr", 2, "src:addr", "bad field name"},
		{"too many fields", manyFields(maxColumns + 1), maxColumns + 1, "f512", "too many fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Compile(tt.spec)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Compile = %v, %v; want *FormatError", f, err)
			}
			if fe.Position != tt.pos || fe.Token != tt.token || fe.Problem != tt.problem {
				t.Errorf("got position %d token %q problem %q, want %d %q %q", fe.Position, fe.Token, fe.Problem, tt.pos, tt.token, tt.problem)
			}
			if !strings.Contains(fe.Error(), tt.problem) || (tt.pos > 0 && !strings.Contains(fe.Error(), tt.token)) {
				t.Errorf("message %q does not name the problem and token", fe.Error())
			}
		})
	}
}

// manyFields returns a bare spec of n distinct opaque names f0, f1, ...
func manyFields(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = "f" + strconv.Itoa(i)
	}
	return strings.Join(names, " ")
}

// TestFieldNames checks that every known field has a distinct name that FieldByName finds again.
func TestFieldNames(t *testing.T) {
	t.Parallel()
	known := Known()
	// 54 VPC flow log fields (versions 2 to 11) and 18 that only transit gateway flow logs have.
	if len(known) != 54+18 {
		t.Fatalf("%d known fields, want 72", len(known))
	}
	// Every field of the AWS references, VPC (versions 2 to 11) and transit gateway, is known.
	vpc := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status " +
		"vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id " +
		"pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path ecs-cluster-arn ecs-cluster-name " +
		"ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id ecs-service-name " +
		"ecs-task-definition-arn ecs-task-arn ecs-task-id reject-reason resource-id encryption-status instance-tag " +
		"instance-tag-2 interface-tag interface-tag-2 asg-tag asg-tag-2 interface-type next-hop-interface-id " +
		"next-hop-subnet-id next-hop-az-id next-hop-vpc-id next-hop-interface-type"
	for _, spec := range []string{vpc, TransitGatewayDefaultFormat} {
		f := MustCompile(spec)
		if len(f.Opaque()) != 0 {
			t.Errorf("fields %v of an AWS reference are not known", f.Opaque())
		}
	}
	if n := MustCompile(vpc).NumFields(); n != 54 {
		t.Errorf("%d VPC fields", n)
	}
	if n := MustCompile(TransitGatewayDefaultFormat).NumFields(); n != 36 {
		t.Errorf("%d transit gateway fields", n)
	}
	for _, f := range known {
		got, ok := FieldByName(f.String())
		if !ok || got != f {
			t.Errorf("FieldByName(%q) = %v, %v; want %d", f.String(), got, ok, f)
		}
		under := strings.ReplaceAll(f.String(), "-", "_")
		if got, ok := FieldByName(under); !ok || got != f {
			t.Errorf("FieldByName(%q) = %v, %v", under, got, ok)
		}
	}
	for _, name := range []string{"", "unknown", "Version", "instance-tag-3", "next-hop"} {
		if f, ok := FieldByName(name); ok {
			t.Errorf("FieldByName(%q) = %v, want not found", name, f)
		}
	}
	if s := Field(200).String(); s != "unknown" {
		t.Errorf("Field(200).String() = %q", s)
	}
}
