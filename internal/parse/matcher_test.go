package parse

import (
	"strings"
	"testing"
)

// TestMatcher checks that a Matcher picks the format by field count and answers nil otherwise.
func TestMatcher(t *testing.T) {
	files := loadCorpus(t)
	def := corpusByName(t, files, "default")
	v3 := corpusByName(t, files, "v3-tcp-flags")
	v5 := corpusByName(t, files, "v5")
	m, err := NewMatcher(def.format, v3.format, v5.format)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		line string
		want *Format
	}{
		{"default", def.lines[0], def.format},
		{"default nodata", def.lines[2], def.format},
		{"v3 with double space", v3.lines[3], v3.format},
		{"v5", v5.lines[0], v5.format},
		{"empty", "", nil},
		{"too few", "2 123456789010", nil},
		{"between counts", strings.TrimSpace(strings.Repeat("x ", 20)), nil},
		{"more than any", strings.Repeat("x ", 1000), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Match(tt.line); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
	if got := m.Formats(); len(got) != 3 || got[0] != def.format || got[2] != v5.format {
		t.Errorf("Formats() = %v", got)
	}
	if allocs := testing.AllocsPerRun(10, func() { m.Match(def.lines[0]) }); allocs != 0 {
		t.Errorf("Match allocates %.1f times", allocs)
	}
}

// TestNewMatcherErrors checks the formats a Matcher cannot tell apart.
func TestNewMatcherErrors(t *testing.T) {
	t.Parallel()
	def := MustCompile(DefaultFormat)
	same := MustCompile("version account-id interface-id srcaddr dstaddr srcport dstport protocol bytes packets start end action log-status")
	tests := []struct {
		name     string
		formats  []*Format
		contains string
	}{
		{"none", nil, "no formats"},
		{"nil format", []*Format{def, nil}, "format 2 is nil"},
		{"equal counts", []*Format{def, same}, "both have 14 fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := NewMatcher(tt.formats...)
			if err == nil || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("NewMatcher = %v, %v; want error containing %q", m, err, tt.contains)
			}
		})
	}
}
