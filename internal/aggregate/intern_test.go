package aggregate

import (
	"strings"
	"testing"
)

func TestIfaceTableTellsNearIDsApart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		base string
	}{
		{name: "1 byte", base: "a"},
		{name: "7 bytes", base: "eni-abc"},
		{name: "8 bytes", base: "eni-abcd"},
		{name: "15 bytes", base: "eni-0123456789a"},
		{name: "16 bytes", base: "eni-0123456789ab"},
		{name: "eni id, 21 bytes", base: "eni-0123456789abcdef0"},
		{name: "24 bytes", base: "eni-0123456789abcdef0123"},
		{name: "25 bytes", base: "eni-0123456789abcdef01234"},
		{name: "long", base: "vpce-svc-0123456789abcdef0123456789abcdef"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tab := newIfaceTable(10_000)
			// The base id, and ids differing from it in one byte at each position, or in length.
			ids := []string{tc.base, tc.base + "x", tc.base[:len(tc.base)-1]}
			for i := range len(tc.base) {
				b := []byte(tc.base)
				b[i] ^= 1
				ids = append(ids, string(b))
			}
			want := map[string]int32{}
			for _, id := range ids {
				if _, dup := want[id]; dup || id == "" { // "" is no interface (tested below)
					continue
				}
				want[id] = tab.lookup(id)
			}
			seen := map[int32]string{}
			for id, idx := range want {
				if other, ok := seen[idx]; ok {
					t.Errorf("%q and %q share index %d", id, other, idx)
				}
				seen[idx] = id
				// Found again, from a copy (not the interned string), with and without the cache.
				if got := tab.lookup(strings.Clone(id)); got != idx {
					t.Errorf("lookup(%q) = %d, then %d", id, idx, got)
				}
				if tab.ids[idx] != id {
					t.Errorf("ids[%d] = %q, want %q", idx, tab.ids[idx], id)
				}
			}
		})
	}
}

func TestIfaceTableGrowsAndFolds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		limit, n  int
		wantFolds uint64
	}{
		{name: "under the cap", limit: 5000, n: 3000},
		{name: "over the cap", limit: 1000, n: 3000, wantFolds: 2000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tab := newIfaceTable(tc.limit)
			id := func(i int) string { return "eni-" + strings.Repeat("0", 12) + string(rune('a'+i%26)) + itoa(i) }
			for i := range tc.n {
				tab.lookup(id(i))
			}
			for i := range tc.n {
				got := tab.lookup(id(i))
				switch {
				case i < tc.limit && (got < ifaceFirst || tab.ids[got] != id(i)):
					t.Fatalf("id %d: index %d (%q)", i, got, tab.ids[got])
				case i >= tc.limit && got != ifaceOther:
					t.Fatalf("id %d past the cap: index %d, want other", i, got)
				}
			}
			if tab.used != min(tc.n, tc.limit) || 2*tab.used > len(tab.slots) {
				t.Errorf("%d ids in %d slots, want %d at load ≤ 1/2", tab.used, len(tab.slots), min(tc.n, tc.limit))
			}
			if tab.fold.records != 2*tc.wantFolds {
				t.Errorf("%d folded records, want %d", tab.fold.records, 2*tc.wantFolds)
			}
			for _, none := range []string{"", NoInterface} {
				if got := tab.lookup(none); got != ifaceNone {
					t.Errorf("lookup(%q) = %d, want ifaceNone", none, got)
				}
			}
		})
	}
}
