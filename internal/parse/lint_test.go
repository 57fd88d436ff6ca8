package parse

import (
	"slices"
	"strings"
	"testing"
)

// TestWarnings checks the warnings of formats with misspelled fields and formats that cannot
// count flows.
func TestWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec string
		want []string // Warning.String of each warning, in order
	}{
		{"default", DefaultFormat, nil},
		{"tgw default", TransitGatewayDefaultFormat, nil},
		{"misspelled action", strings.Replace(DefaultFormat, "${action}", "${actoin}", 1), []string{
			`field 13: unknown field "actoin" (did you mean "action"?); it is kept as an opaque column`,
			`no way to count flows: this VPC flow log format lacks ${action}, so its records are read but not counted`,
		}},
		{"misspelled v11 field", DefaultFormat + " ${next-hop-vpcid}", []string{
			`field 15: unknown field "next-hop-vpcid" (did you mean "next-hop-vpc-id"?); it is kept as an opaque column`,
		}},
		{"unknown, nothing close", DefaultFormat + " ${flow-id}", []string{
			`field 15: unknown field "flow-id"; it is kept as an opaque column`,
		}},
		{"no counts", "${version} ${srcaddr} ${dstaddr}", []string{
			`no way to count flows: this VPC flow log format lacks ${action}, ${packets}, ${bytes}, so its records are read but not counted`,
		}},
		{"tgw without bytes", "${tgw-attachment-id} ${packets} ${packets-lost-blackhole}", []string{
			`no way to count flows: this transit gateway flow log format lacks ${bytes}, so its records are read but not counted`,
		}},
		{"misspelled tgw field", "${tgw-attachement-id} ${packets} ${bytes} ${action}", []string{
			`field 1: unknown field "tgw-attachement-id" (did you mean "tgw-attachment-id"?); it is kept as an opaque column`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ws, err := Lint(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range ws {
				got = append(got, w.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("warnings\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	if _, err := Lint(""); err == nil {
		t.Error("Lint of an empty spec: no error")
	}
}

// TestWarningFields checks the typed fields of the warnings, which callers branch on.
func TestWarningFields(t *testing.T) {
	t.Parallel()
	ws := MustCompile("${version} ${packts} ${bytes}").Warnings()
	if len(ws) != 2 {
		t.Fatalf("warnings %v", ws)
	}
	if w := ws[0]; w.Kind != WarnUnknownField || w.Position != 2 || w.Name != "packts" || w.Suggestion != "packets" {
		t.Errorf("unknown field warning %+v", w)
	}
	if w := ws[1]; w.Kind != WarnCannotCount || !slices.Equal(w.Missing, []Field{FieldAction, FieldPackets}) || w.TGW {
		t.Errorf("cannot count warning %+v", w)
	}
	if WarnUnknownField.String() != "unknown_field" || WarnCannotCount.String() != "cannot_count" {
		t.Error("kind labels changed")
	}
}

// TestEditDistance checks the distance behind the suggestions.
func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"action", "action", 0}, {"actoin", "action", 1}, {"acton", "action", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestTransitGatewayKind checks which formats and records are a transit gateway's.
func TestTransitGatewayKind(t *testing.T) {
	t.Parallel()
	if MustCompile(DefaultFormat).TransitGateway() || !MustCompile(TransitGatewayDefaultFormat).TransitGateway() {
		t.Error("Format.TransitGateway")
	}
	var r Record
	if r.IsTransitGateway() {
		t.Error("empty record is a transit gateway's")
	}
	r.Present = r.Present.With(FieldTGWAttachmentID)
	if !r.IsTransitGateway() {
		t.Error("record with tgw-attachment-id is not a transit gateway's")
	}
}

// TestFieldSet checks the two-word set, at the word boundary and past the known fields.
func TestFieldSet(t *testing.T) {
	t.Parallel()
	var s FieldSet
	for _, f := range []Field{FieldVersion, FieldNextHopInterfaceType, FieldResourceType, FieldPacketsLostTTLExpired} {
		s = s.With(f)
	}
	if !s.Has(FieldResourceType) || !s.Has(FieldPacketsLostTTLExpired) || s.Has(FieldAction) {
		t.Errorf("set %v", s.Fields())
	}
	if s.With(Field(200)) != s || s.Has(Field(200)) || FieldSetOf(Field(200)) != (FieldSet{}) {
		t.Error("a Field outside the known ones changes or aliases the set")
	}
	if got := s.Without(FieldResourceType).Fields(); !slices.Equal(got, []Field{FieldVersion, FieldNextHopInterfaceType, FieldPacketsLostTTLExpired}) {
		t.Errorf("Without: %v", got)
	}
	if !s.Intersects(FieldSetOf(FieldVersion)) || s.Intersects(FieldSetOf(FieldAction)) || s.Minus(s) != (FieldSet{}) || s.Union(FieldSet{}) != s {
		t.Error("set algebra")
	}
	if MustCompile(DefaultFormat).Has(Field(200)) {
		t.Error("Format.Has of an unknown Field")
	}
}
