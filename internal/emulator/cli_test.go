package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/awscli"
)

// The AWS CLI (botocore: an independent implementation of the protocol, the signing and the
// paginator) must see exactly the events GroundTruth lists, through short and empty pages.
func TestCrossCheckWithAWSCLI(t *testing.T) {
	t.Parallel()
	bin := awscli.Find(t)
	e := newEnv(t, Config{ShortPageProbability: 0.5, Seed: 11, VisibilityDelay: time.Minute})
	base := e.clock.Now().Add(-20 * time.Minute).UnixMilli()
	tricky := []string{`quote " and backslash \`, "tab\tand newline\n", "unicode: élan ✓ 日本", "<html> & ampersand"}
	for s := 0; s < 4; s++ {
		evs := seqEvents(fmt.Sprintf("eni-%d REJECT", s), base+int64(s), 997, 60)
		evs = append(evs, InputEvent{Timestamp: evs[len(evs)-1].Timestamp, Message: tricky[s]})
		e.mustPut(t, testGroup, fmt.Sprintf("eni-%d-all", s), evs)
	}
	e.clock.Advance(time.Minute)
	e.mustPut(t, testGroup, "eni-0-all", []InputEvent{{base, "put last: not visible yet"}})
	var want []Event
	for _, ev := range e.srv.GroundTruth(testGroup) {
		if ev.Message != "put last: not visible yet" {
			want = append(want, ev)
		}
	}

	cases := []struct {
		name string
		args []string
		want []Event
	}{
		{"whole group, page size 7", []string{"--page-size", "7"}, want},
		{"prefix and pattern", []string{"--log-stream-name-prefix", "eni-1", "--filter-pattern", "REJECT"}, filterEvents(want, func(ev Event) bool {
			return ev.LogStreamName == "eni-1-all" && ev.Message != tricky[1]
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"logs", "filter-log-events", "--log-group-name", testGroup}, tc.args...)
			stdout := awscli.Run(t, bin, e.url, args...)
			var out struct {
				Events []struct {
					LogStreamName string `json:"logStreamName"`
					Timestamp     int64  `json:"timestamp"`
					Message       string `json:"message"`
					IngestionTime int64  `json:"ingestionTime"`
					EventID       string `json:"eventId"`
				} `json:"events"`
			}
			if err := json.Unmarshal(stdout, &out); err != nil {
				t.Fatalf("decode CLI output: %v\n%s", err, stdout)
			}
			if len(out.Events) != len(tc.want) {
				t.Fatalf("the CLI saw %d events, ground truth has %d", len(out.Events), len(tc.want))
			}
			for i, w := range tc.want {
				g := out.Events[i]
				if g.EventID != w.EventID || g.Timestamp != w.Timestamp || g.IngestionTime != w.IngestionTime ||
					g.LogStreamName != w.LogStreamName || g.Message != w.Message {
					t.Fatalf("event %d: CLI %+v, ground truth %+v", i, g, w)
				}
			}
		})
	}
	// 244 events in pages of at most 7 (some cut short): the CLI had to follow many tokens.
	if st := e.srv.Stats(); st.Pages < 244/7 || st.EmptyPages == 0 || st.Ops[OpFilterLogEvents].Errors != 0 {
		t.Errorf("stats %+v: want over 34 pages, some empty, no errors", st)
	}
}

func filterEvents(evs []Event, keep func(Event) bool) []Event {
	var out []Event
	for _, ev := range evs {
		if keep(ev) {
			out = append(out, ev)
		}
	}
	return out
}

// The CLI reads rejectedLogEventsInfo, logGroupArn and logGroupClass where botocore's model
// puts them, and sends logGroupNamePattern as the emulator reads it.
func TestCrossCheckPutAndDescribeWithAWSCLI(t *testing.T) {
	t.Parallel()
	bin := awscli.Find(t)
	e := newEnv(t, Config{})
	e.mustPut(t, testGroup, "s", nil)
	if err := e.srv.CreateLogGroup("/aws/other"); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now().UnixMilli()
	events := fmt.Sprintf(`[{"timestamp":%d,"message":"old"},{"timestamp":%d,"message":"fresh"}]`, now-15*24*3600*1000, now)
	var put struct {
		RejectedLogEventsInfo map[string]int `json:"rejectedLogEventsInfo"`
	}
	out := awscli.Run(t, bin, e.url, "logs", "put-log-events", "--log-group-name", testGroup, "--log-stream-name", "s", "--log-events", events)
	if err := json.Unmarshal(out, &put); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if len(put.RejectedLogEventsInfo) != 1 || put.RejectedLogEventsInfo["tooOldLogEventEndIndex"] != 1 {
		t.Errorf("rejectedLogEventsInfo %v, want only tooOldLogEventEndIndex 1", put.RejectedLogEventsInfo)
	}
	if n := e.srv.EventCount(testGroup); n != 1 {
		t.Errorf("%d events stored, want the fresh one", n)
	}
	var desc struct {
		LogGroups []map[string]any `json:"logGroups"`
	}
	out = awscli.Run(t, bin, e.url, "logs", "describe-log-groups", "--log-group-name-pattern", "other")
	if err := json.Unmarshal(out, &desc); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if len(desc.LogGroups) != 1 || desc.LogGroups[0]["logGroupName"] != "/aws/other" {
		t.Errorf("pattern other: %v, want /aws/other alone", desc.LogGroups)
	}
	out = awscli.Run(t, bin, e.url, "logs", "describe-log-groups", "--log-group-name-prefix", testGroup)
	desc.LogGroups = nil
	if err := json.Unmarshal(out, &desc); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if len(desc.LogGroups) != 1 {
		t.Fatalf("prefix %s: %v, want one group", testGroup, desc.LogGroups)
	}
	// An older CLI (Debian's) drops members its model predates; where it knows them, they must be right.
	want := map[string]string{"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:" + testGroup, "logGroupClass": "STANDARD"}
	for member, v := range want {
		got, ok := desc.LogGroups[0][member]
		switch {
		case !ok:
			t.Logf("this aws CLI's model has no %s; the SDK test checks it", member)
		case got != v:
			t.Errorf("%s = %v, want %q", member, got, v)
		}
	}
}

// botocore sends PutSubscriptionFilter, DescribeSubscriptionFilters and
// DeleteSubscriptionFilter as the emulator reads them, and reads its answers and errors.
func TestCrossCheckSubscriptionFiltersWithAWSCLI(t *testing.T) {
	t.Parallel()
	bin := awscli.Find(t)
	sink := &recordingSink{}
	e := newEnv(t, Config{SubscriptionSink: sink})
	e.mustPut(t, testGroup, "eni-1-all", nil)
	awscli.Run(t, bin, e.url, "logs", "put-subscription-filter", "--log-group-name", testGroup, "--filter-name", "to-kinesis",
		"--filter-pattern", "[version, account, eni, src, dst, srcport, dstport, proto, packets, bytes, start, end, action = REJECT, status]",
		"--destination-arn", testStreamARN, "--role-arn", testRoleARN, "--distribution", "Random")
	var desc struct {
		SubscriptionFilters []map[string]any `json:"subscriptionFilters"`
	}
	out := awscli.Run(t, bin, e.url, "logs", "describe-subscription-filters", "--log-group-name", testGroup)
	if err := json.Unmarshal(out, &desc); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if len(desc.SubscriptionFilters) != 1 {
		t.Fatalf("filters %v, want one", desc.SubscriptionFilters)
	}
	f := desc.SubscriptionFilters[0]
	for member, want := range map[string]any{"filterName": "to-kinesis", "logGroupName": testGroup, "destinationArn": testStreamARN,
		"roleArn": testRoleARN, "distribution": "Random", "creationTime": float64(e.clock.Now().UnixMilli())} {
		if f[member] != want {
			t.Errorf("%s = %v, want %v", member, f[member], want)
		}
	}
	now := e.clock.Now().UnixMilli()
	e.mustPut(t, testGroup, "eni-1-all", []InputEvent{
		{now, "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 22 6 1 40 1 2 REJECT OK"},
		{now, "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 1 40 1 2 ACCEPT OK"},
	})
	e.srv.DeliverSubscriptions(context.Background())
	if _, msgs := dataRecords(t, sink); len(msgs) != 1 || len(msgs[0].LogEvents) != 1 || !strings.Contains(msgs[0].LogEvents[0].Message, "REJECT") {
		t.Errorf("delivered %+v, want the REJECT event alone", msgs)
	}

	_, stderr, err := awscli.Try(t, bin, e.url, "logs", "delete-subscription-filter", "--log-group-name", "/none", "--filter-name", "to-kinesis")
	if err == nil {
		t.Fatal("delete-subscription-filter on a missing group succeeded, want a failure")
	}
	if !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Errorf("delete in a missing group: stderr %q, want ResourceNotFoundException", stderr)
	}
	awscli.Run(t, bin, e.url, "logs", "delete-subscription-filter", "--log-group-name", testGroup, "--filter-name", "to-kinesis")
	desc.SubscriptionFilters = nil
	out = awscli.Run(t, bin, e.url, "logs", "describe-subscription-filters", "--log-group-name", testGroup)
	if err := json.Unmarshal(out, &desc); err != nil || len(desc.SubscriptionFilters) != 0 {
		t.Errorf("after delete: %s (%v), want no filters", out, err)
	}
}
