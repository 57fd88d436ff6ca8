package parse

import (
	"testing"
)

// TestParseCorpus parses every record of testdata/formats, formats it back and parses that again.
func TestParseCorpus(t *testing.T) {
	t.Parallel()
	for _, cf := range loadCorpus(t) {
		t.Run(cf.name, func(t *testing.T) {
			t.Parallel()
			for i, line := range cf.lines {
				var r, back Record
				if err := cf.format.Parse(line, &r); err != nil {
					t.Fatalf("record %d: %v\n%s", i+1, err, line)
				}
				if got, want := len(r.Opaque), len(cf.format.Opaque()); got != want {
					t.Errorf("record %d: %d opaque values, want %d", i+1, got, want)
				}
				out := cf.format.Append(nil, &r)
				if err := cf.format.Parse(string(out), &back); err != nil {
					t.Fatalf("record %d: reparse %q: %v", i+1, out, err)
				}
				if diff := recordDiff(&r, &back); diff != nil {
					t.Errorf("record %d: round trip changes %v\n in: %s\nout: %s", i+1, diff, line, out)
				}
			}
		})
	}
}
