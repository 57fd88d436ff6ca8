package parse

import (
	"fmt"
	"strings"
)

// WarningKind says what a Warning is about.
type WarningKind uint8

// Warning kinds.
const (
	// WarnUnknownField: a column whose name flowd does not know. It is kept as an opaque column,
	// since AWS adds fields, but it is often a misspelling ("actoin"), so Suggestion names the
	// nearest known field when one is close.
	WarnUnknownField WarningKind = iota + 1
	// WarnCannotCount: the format lacks fields that counting needs (Missing lists them): for a
	// VPC flow log action, packets and bytes; for a transit gateway flow log packets and bytes.
	// Its records are read and then counted as uncounted, with a reason.
	WarnCannotCount
)

// String returns the kind's stable label.
func (k WarningKind) String() string {
	switch k {
	case WarnUnknownField:
		return "unknown_field"
	case WarnCannotCount:
		return "cannot_count"
	}
	return "unknown"
}

// Warning is something odd about a format that is not an error: the format compiles and its
// records parse, but they are probably not what the user meant.
type Warning struct {
	Kind       WarningKind
	Position   int     // 1-based column of an unknown field; 0 for the whole format
	Name       string  // the unknown field's name
	Suggestion string  // the nearest known field name, or "" if none is close
	Missing    []Field // fields counting needs and the format lacks
	TGW        bool    // the format is a transit gateway flow log's
}

// String describes the warning in one line.
func (w Warning) String() string {
	switch w.Kind {
	case WarnUnknownField:
		if w.Suggestion != "" {
			return fmt.Sprintf("field %d: unknown field %q (did you mean %q?); it is kept as an opaque column", w.Position, w.Name, w.Suggestion)
		}
		return fmt.Sprintf("field %d: unknown field %q; it is kept as an opaque column", w.Position, w.Name)
	case WarnCannotCount:
		names := make([]string, len(w.Missing))
		for i, f := range w.Missing {
			names[i] = "${" + f.String() + "}"
		}
		kind := "VPC flow log"
		if w.TGW {
			kind = "transit gateway flow log"
		}
		return fmt.Sprintf("no way to count flows: this %s format lacks %s, so its records are read but not counted", kind, strings.Join(names, ", "))
	}
	return "unknown warning"
}

// tgwOnly are the fields that only transit gateway flow logs have: a format with any of them is
// a transit gateway flow log's.
var tgwOnly = FieldSetOf(FieldResourceType, FieldTGWID, FieldTGWAttachmentID, FieldTGWSrcVPCAccountID,
	FieldTGWDstVPCAccountID, FieldTGWSrcVPCID, FieldTGWDstVPCID, FieldTGWSrcSubnetID, FieldTGWDstSubnetID,
	FieldTGWSrcENI, FieldTGWDstENI, FieldTGWSrcAZID, FieldTGWDstAZID, FieldTGWPairAttachmentID,
	FieldPacketsLostNoRoute, FieldPacketsLostBlackhole, FieldPacketsLostMTUExceeded, FieldPacketsLostTTLExpired)

// TransitGateway reports whether the format is a transit gateway flow log's: whether it has a
// field that only those have (resource-type, tgw-*, packets-lost-*).
func (f *Format) TransitGateway() bool { return f.set.Intersects(tgwOnly) }

// IsTransitGateway reports whether the record carries a field that only transit gateway flow
// logs have. Every record of the transit gateway default format does (resource-type and
// tgw-id are written even in NODATA records).
func (r *Record) IsTransitGateway() bool { return r.Present.Intersects(tgwOnly) }

// Warnings returns what is odd about the format, in column order, then the counting warning.
// It is computed once by Compile; the caller may modify the slice.
func (f *Format) Warnings() []Warning {
	var ws []Warning
	for i, field := range f.fields {
		if field != FieldUnknown {
			continue
		}
		ws = append(ws, Warning{Kind: WarnUnknownField, Position: i + 1, Name: f.names[i], Suggestion: nearestField(f.names[i])})
	}
	tgw := f.TransitGateway()
	need := []Field{FieldAction, FieldPackets, FieldBytes}
	if tgw {
		need = need[1:]
	}
	var missing []Field
	for _, n := range need {
		if !f.set.Has(n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		ws = append(ws, Warning{Kind: WarnCannotCount, Missing: missing, TGW: tgw})
	}
	return ws
}

// Lint compiles spec and returns its warnings (see Format.Warnings), or the compile error.
func Lint(spec string) ([]Warning, error) {
	f, err := Compile(spec)
	if err != nil {
		return nil, err
	}
	return f.Warnings(), nil
}

// nearestField returns the known field name closest to name by edit distance (insertions,
// deletions, substitutions and swaps of neighbours), if it is close enough to be a plausible
// misspelling: at most 2 edits, and fewer than half the name's length.
func nearestField(name string) string {
	best, bestD := "", 3
	for f := FieldUnknown + 1; f < numFields; f++ {
		d := editDistance(name, fieldNames[f])
		if d < bestD && 2*d < len(name) {
			best, bestD = fieldNames[f], d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b (Levenshtein with
// transpositions of adjacent bytes), in bytes. Names are short; this is not a hot path.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
