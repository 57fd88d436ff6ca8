package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/sourcelabel"
)

func TestRoundTripAndDamage(t *testing.T) {
	t.Parallel()
	st := &State{
		Written: time.UnixMilli(1_700_000_000_000),
		Sources: []Source{{Name: "g#p", Width: 30000, Lags: []int64{300000, 1200000}, Positions: []int64{60000, 30000},
			Slices: []Slice{{Start: 30000, Hashes: []uint64{1, 2, 1 << 63}}}}, {Name: "stream", Data: []byte("lease horizon")}},
		Aggregate: &aggregate.State{},
		Records:   Records{OK: 7, Malformed: 2, ByKind: [NumKinds]uint64{1: 2}},
	}
	good, err := Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(good)
	if err != nil {
		t.Fatalf("round trip: %v", err)
	}
	if fmt.Sprint(got.Sources, got.Records, got.Written.UnixMilli()) != fmt.Sprint(st.Sources, st.Records, st.Written.UnixMilli()) || got.Aggregate == nil {
		t.Fatalf("round trip changed the checkpoint:\n got %+v\nwant %+v", got, st)
	}
	flip := slices.Clone(good)
	flip[len(flip)-3] ^= 0xff
	badVersion := slices.Clone(good)
	badVersion[11] = 9
	tests := []struct {
		name, reason string
		b            []byte
	}{
		{"empty", "bad magic", nil},
		{"not ours", "bad magic", []byte("hello, this is not a checkpoint at all")},
		{"truncated", "truncated", good[:len(good)-5]},
		{"bit flip", "checksum", flip},
		{"future version", "unsupported version", badVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Unmarshal(tt.b)
			var ce *Error
			if !errors.As(err, &ce) || !strings.Contains(ce.Reason, tt.reason) {
				t.Fatalf("got %v, want an Error about %q", err, tt.reason)
			}
		})
	}
}

func TestWriterReplacesAtomicallyAndCounts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cp")
	if _, err := Read(path); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing file: got %v, want ErrNotFound", err)
	}
	now := time.UnixMilli(1_700_000_000_000)
	w := NewWriter(path, func() time.Time { return now })
	for i := range 2 { // the second write replaces the first
		if err := w.Save(context.Background(), func(context.Context) (*State, error) {
			return &State{Records: Records{OK: uint64(i)}}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := Read(path)
	if err != nil || st.Records.OK != 1 || !st.Written.Equal(now) {
		t.Fatalf("read back %+v, %v", st, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	boom := errors.New("boom")
	if err := w.Save(context.Background(), func(context.Context) (*State, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("failed capture: got %v", err)
	}
	s := w.Stats()
	if s.Failures != 1 || !s.LastSuccess.Equal(now) || s.Bytes == 0 {
		t.Fatalf("stats %+v, want 1 failure, last success %v, bytes > 0", s, now)
	}
	if st, err := Read(path); err != nil || st.Records.OK != 1 {
		t.Fatalf("a failed capture changed the file: %+v, %v", st, err)
	}
}

func TestRemoveStale(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint")
	for _, name := range []string{".checkpoint.tmp-123", ".checkpoint.tmp-456", "checkpoint", ".other.tmp-1", "notes"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := RemoveStale(path)
	if err != nil || len(removed) != 2 {
		t.Fatalf("removed %v, %v; want the two .checkpoint.tmp-* files", removed, err)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, []string{".other.tmp-1", "checkpoint", "notes"}) {
		t.Fatalf("left %v", left)
	}
}

// TestLabeledRoundTrip checks that version 3 keeps the labelled aggregators' states apart.
func TestLabeledRoundTrip(t *testing.T) {
	t.Parallel()
	st := &State{Written: time.UnixMilli(1_700_000_000_000), Aggregate: &aggregate.State{},
		Labeled: []LabeledAggregate{
			{Labels: sourcelabel.Set{{Name: "env", Value: "prod"}}, State: &aggregate.State{}},
			{Labels: sourcelabel.Set{{Name: "env", Value: "test"}, {Name: "team", Value: "net"}}, State: &aggregate.State{}},
		}}
	b, err := Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Labeled) != 2 || got.Labeled[0].Labels.Key() != "env=prod" || got.Labeled[1].Labels.Key() != "env=test\x00team=net" ||
		got.Labeled[1].State == nil || got.Aggregate == nil {
		t.Fatalf("labelled aggregators %+v, want the two sets", got.Labeled)
	}
}

// TestReadVersion2 reads testdata/v2.checkpoint, written by the version 2 code (one aggregator,
// two accepted records of eni-0a1b2c3d): its state restores into the set without labels.
func TestReadVersion2(t *testing.T) {
	t.Parallel()
	st, err := Read(filepath.Join("testdata", "v2.checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Aggregate == nil || len(st.Labeled) != 0 || st.Records.OK != 2 || len(st.Sources) != 1 || st.Sources[0].Name != "/aws/vpc/flow-logs" {
		t.Fatalf("version 2 checkpoint read as %+v", st)
	}
	agg, err := aggregate.New(aggregate.DefaultConfig(), fixedClock(st.Written))
	if err != nil {
		t.Fatal(err)
	}
	if err := agg.Restore(st.Aggregate); err != nil {
		t.Fatal(err)
	}
	var flows uint64
	for _, c := range agg.Snapshot().Interfaces {
		flows += c.Counts.Flows
	}
	if flows != 2 {
		t.Fatalf("restored %d flows, want the 2 of the file", flows)
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }
