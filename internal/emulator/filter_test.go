package emulator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

const testGroup = "/aws/vpc/flow-logs"

// putInterleaved fills nStreams streams with n events each whose timestamps interleave across
// streams and repeat (several events per millisecond), over two puts per stream so that ingestion
// times differ too. It returns the clock time after the puts.
func putInterleaved(t *testing.T, e *env, nStreams, n int) {
	t.Helper()
	base := e.clock.Now().Add(-10 * time.Minute).UnixMilli()
	for s := 0; s < nStreams; s++ {
		evs := make([]InputEvent, n)
		for i := range evs {
			evs[i] = InputEvent{Timestamp: base + int64(i/3), Message: fmt.Sprintf("eni-%02d record %d", s, i)}
		}
		half := n / 2
		e.mustPut(t, testGroup, fmt.Sprintf("eni-%02d-all", s), evs[:half])
		e.clock.Advance(time.Millisecond)
		e.mustPut(t, testGroup, fmt.Sprintf("eni-%02d-all", s), evs[half:])
	}
}

func eventIDs(evs []types.FilteredLogEvent) []string {
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = aws.ToString(ev.EventId)
	}
	return ids
}

func TestFilterPagingReturnsEveryEventOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		limit int32
		short float64
	}{
		{"limit 1", 1, 0},
		{"limit 7", 7, 0},
		{"limit 10000", 10000, 0},
		{"limit 7 short pages", 7, 0.5},
		{"limit 10000 short pages", 10000, 0.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{ShortPageProbability: tc.short, Seed: 7})
			putInterleaved(t, e, 5, 300)
			want := e.srv.GroundTruth(testGroup)
			if len(want) != 1500 {
				t.Fatalf("ground truth has %d events, want 1500", len(want))
			}
			got, pages := filterAll(t, e.client, &cloudwatchlogs.FilterLogEventsInput{
				LogGroupName: aws.String(testGroup), Limit: aws.Int32(tc.limit),
			})
			if len(got) != len(want) {
				t.Fatalf("got %d events in %d pages, want %d", len(got), pages, len(want))
			}
			for i := range want {
				g := got[i]
				w := want[i]
				if aws.ToString(g.EventId) != w.EventID || aws.ToInt64(g.Timestamp) != w.Timestamp ||
					aws.ToInt64(g.IngestionTime) != w.IngestionTime || aws.ToString(g.LogStreamName) != w.LogStreamName ||
					aws.ToString(g.Message) != w.Message {
					t.Fatalf("event %d = %+v, want %+v", i, g, w)
				}
			}
			ids := eventIDs(got)
			slices.Sort(ids)
			if len(slices.Compact(ids)) != len(got) {
				t.Fatal("duplicate eventIds")
			}
			st := e.srv.Stats()
			if tc.short > 0 && tc.limit < 100 && (st.EmptyPages == 0 || st.ShortPages == 0) {
				t.Errorf("short pages at 0.5: %d empty and %d short pages in %d", st.EmptyPages, st.ShortPages, st.Pages)
			}
			if tc.short == 0 && st.EmptyPages != 0 {
				t.Errorf("%d empty pages without short pages", st.EmptyPages)
			}
			if st.EventsReturned != int64(len(want)) || st.Pages != int64(pages) {
				t.Errorf("stats: %d events in %d pages, the client saw %d in %d", st.EventsReturned, st.Pages, len(want), pages)
			}
		})
	}
}

func TestFilterOrderAndEventShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	now := e.clock.Now().UnixMilli()
	// Stream b is put first with a later timestamp; a's older events arrive later.
	e.mustPut(t, testGroup, "b", []InputEvent{{now - 1000, "b1"}, {now - 500, "b2"}})
	e.clock.Advance(time.Second)
	e.mustPut(t, testGroup, "a", []InputEvent{{now - 2000, "a1"}, {now - 1000, "a2"}, {now - 1000, "a3"}})
	got, _ := filterAll(t, e.client, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup)})
	var msgs []string
	for _, ev := range got {
		msgs = append(msgs, aws.ToString(ev.Message))
	}
	// Same timestamp (now-1000): b1 was ingested earlier than a2 and a3; a2 before a3 by put order.
	want := []string{"a1", "b1", "a2", "a3", "b2"}
	if !slices.Equal(msgs, want) {
		t.Fatalf("order = %v, want %v", msgs, want)
	}
	for _, ev := range got {
		id := aws.ToString(ev.EventId)
		if len(id) != 56 || strings.Trim(id, "0123456789") != "" {
			t.Errorf("eventId %q: want 56 decimal digits", id)
		}
	}
}

func TestFilterPageCutAtOneMegabyte(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	msg := strings.Repeat("x", 1000) // 1026 bytes per event as AWS counts
	evs := make([]InputEvent, 2000)
	ts := e.clock.Now().Add(-time.Hour).UnixMilli()
	for i := range evs {
		evs[i] = InputEvent{Timestamp: ts + int64(i), Message: msg}
	}
	e.mustPut(t, testGroup, "s", evs[:1000])
	e.mustPut(t, testGroup, "s", evs[1000:])
	out, err := e.client.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup)})
	if err != nil {
		t.Fatal(err)
	}
	if want := (1 << 20) / 1026; len(out.Events) != want {
		t.Errorf("first page has %d events, want %d (1 MB / 1026 bytes)", len(out.Events), want)
	}
	if out.NextToken == nil {
		t.Fatal("no nextToken after a page cut by size")
	}
	all, _ := filterAll(t, e.client, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup)})
	if len(all) != 2000 {
		t.Errorf("all pages: %d events, want 2000", len(all))
	}
}

func TestFilterVisibilityDelay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{VisibilityDelay: 30 * time.Second})
	old := e.clock.Now().Add(-12 * time.Minute).UnixMilli() // flow logs arrive minutes late
	e.mustPut(t, testGroup, "s", seqEvents("late", old, 1, 10))
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup)}
	cases := []struct {
		advance time.Duration
		want    int
	}{{0, 0}, {29*time.Second + 999*time.Millisecond, 0}, {time.Millisecond, 10}}
	for _, tc := range cases {
		e.clock.Advance(tc.advance)
		got, _ := filterAll(t, e.client, in)
		if len(got) != tc.want {
			t.Errorf("after +%v: %d events visible, want %d", tc.advance, len(got), tc.want)
		}
	}
}

// An older event put between two pages is not part of the running iteration (its place is
// behind the token), while a newer one is; no event is returned twice.
func TestFilterTokenSurvivesOlderInserts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	base := e.clock.Now().Add(-time.Hour).UnixMilli()
	e.mustPut(t, testGroup, "a", seqEvents("a", base, 10, 20))
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), Limit: aws.Int32(5)}
	p1, err := e.client.FilterLogEvents(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	e.mustPut(t, testGroup, "a", []InputEvent{{base + 1, "older, same stream"}})
	e.mustPut(t, testGroup, "b", []InputEvent{{base + 2, "older, new stream"}, {base + 1000, "newer"}})
	in2 := *in
	in2.NextToken = p1.NextToken
	rest, _ := filterAll(t, e.client, &in2)
	msgs := map[string]int{}
	for _, ev := range append(p1.Events, rest...) {
		msgs[aws.ToString(ev.Message)]++
	}
	for m, n := range msgs {
		if n != 1 {
			t.Errorf("%q returned %d times", m, n)
		}
	}
	if msgs["older, same stream"]+msgs["older, new stream"] != 0 {
		t.Error("events older than the token's position were returned")
	}
	if msgs["newer"] != 1 || len(msgs) != 21 {
		t.Errorf("got %d distinct events (newer: %d), want the 20 + the newer one", len(msgs), msgs["newer"])
	}
}

func TestFilterTimeRangeAndStreams(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	base := e.clock.Now().Add(-time.Hour).UnixMilli()
	e.mustPut(t, testGroup, "eni-1-all", seqEvents("one", base, 1000, 10))
	e.mustPut(t, testGroup, "eni-2-all", seqEvents("two", base, 1000, 10))
	e.mustPut(t, testGroup, "other", seqEvents("three", base, 1000, 10))
	arn := "arn:aws:logs:us-east-1:123456789012:log-group:" + testGroup + ":*"
	cases := []struct {
		name string
		in   cloudwatchlogs.FilterLogEventsInput
		want int
	}{
		{"start inclusive, end exclusive", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), StartTime: aws.Int64(base + 2000), EndTime: aws.Int64(base + 5000)}, 9},
		{"empty range", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), StartTime: aws.Int64(base + 2000), EndTime: aws.Int64(base + 2000)}, 0},
		{"prefix", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamNamePrefix: aws.String("eni-")}, 20},
		{"names", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamNames: []string{"other", "eni-2-all"}}, 20},
		{"identifier ARN", cloudwatchlogs.FilterLogEventsInput{LogGroupIdentifier: aws.String(arn)}, 30},
		{"identifier name", cloudwatchlogs.FilterLogEventsInput{LogGroupIdentifier: aws.String(testGroup), LogStreamNames: []string{"other"}}, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := filterAll(t, e.client, &tc.in)
			if len(got) != tc.want {
				t.Errorf("%d events, want %d", len(got), tc.want)
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.mustPut(t, testGroup, "s", seqEvents("x", e.clock.Now().UnixMilli(), 1, 3))
	cases := []struct {
		name string
		in   cloudwatchlogs.FilterLogEventsInput
		code string
		msg  string
	}{
		{"no testGroup", cloudwatchlogs.FilterLogEventsInput{}, CodeInvalidParameter, "logGroupIdentifier"},
		{"name and identifier", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), LogGroupIdentifier: aws.String(testGroup)}, CodeInvalidParameter, "mutually exclusive"},
		{"names and prefix", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamNames: []string{"s"}, LogStreamNamePrefix: aws.String("s")}, CodeInvalidParameter, "logStreamNamePrefix"},
		{"101 names", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamNames: make101()}, CodeInvalidParameter, "between 1 and 100"},
		{"unknown group", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("nope")}, CodeResourceNotFound, "log group does not exist"},
		{"unknown stream", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamNames: []string{"nope"}}, CodeResourceNotFound, "log stream does not exist"},
		{"other account ARN", cloudwatchlogs.FilterLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:999999999999:log-group:" + testGroup)}, CodeResourceNotFound, "log group"},
		{"limit 0", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), Limit: aws.Int32(0)}, CodeInvalidParameter, "limit"},
		{"limit 10001", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), Limit: aws.Int32(10001)}, CodeInvalidParameter, "less than or equal to 10000"},
		{"end before start", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), StartTime: aws.Int64(10), EndTime: aws.Int64(5)}, CodeInvalidParameter, "endTime"},
		{"garbage token", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), NextToken: aws.String("bm90IGEgdG9rZW4")}, CodeInvalidParameter, "nextToken is invalid"},
		{"newest first", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), StartFromHead: aws.Bool(false)}, CodeInvalidParameter, "startFromHead"},
		{"json pattern", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), FilterPattern: aws.String(`{ $.x = 1 }`)}, CodeInvalidParameter, "JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.FilterLogEvents(context.Background(), &tc.in)
			if apiCode(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %s containing %q", err, tc.code, tc.msg)
			}
		})
	}
}

func make101() []string {
	out := make([]string, 101)
	for i := range out {
		out[i] = fmt.Sprint("s", i)
	}
	return out
}

// A token is bound to the request it came from: reusing it with other parameters fails loudly.
func TestFilterTokenBoundToQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.mustPut(t, testGroup, "s", seqEvents("x", e.clock.Now().UnixMilli()-1000, 1, 10))
	p1, err := e.client.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), Limit: aws.Int32(2)})
	if err != nil || p1.NextToken == nil {
		t.Fatalf("first page: %v, token %v", err, p1.NextToken)
	}
	_, err = e.client.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), FilterPattern: aws.String("x"), NextToken: p1.NextToken})
	if apiCode(err) != CodeInvalidParameter {
		t.Errorf("token reused with another pattern: %v, want InvalidParameterException", err)
	}
	e.clock.Advance(24*time.Hour + time.Second)
	_, err = e.client.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), Limit: aws.Int32(2), NextToken: p1.NextToken})
	if apiCode(err) != CodeInvalidParameter || !strings.Contains(err.Error(), "expired") {
		t.Errorf("token after 24 h: %v, want InvalidParameterException (expired)", err)
	}
}
