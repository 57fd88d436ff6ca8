package emulator

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

func sdkEvents(evs []InputEvent) []types.InputLogEvent {
	out := make([]types.InputLogEvent, len(evs))
	for i, e := range evs {
		out[i] = types.InputLogEvent{Timestamp: aws.Int64(e.Timestamp), Message: aws.String(e.Message)}
	}
	return out
}

func TestPutLogEventsBatchRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.mustPut(t, testGroup, "s", nil)
	now := e.clock.Now().UnixMilli()
	big := strings.Repeat("m", 1000)
	cases := []struct {
		name   string
		events []InputEvent
		code   string
		msg    string
	}{
		{"empty", nil, CodeInvalidParameter, "greater than or equal to 1"},
		{"out of order", []InputEvent{{now, "b"}, {now - 1, "a"}}, CodeInvalidParameter, "chronological order"},
		{"span over 24 h", []InputEvent{{now - 25*3600*1000, "a"}, {now, "b"}}, CodeInvalidParameter, "24 hours"},
		{"10001 events", seqEvents("e", now, 0, 10001), CodeInvalidParameter, "less than or equal to 10000"},
		{"over 1 MiB", seqBig(now, big, 1100), CodeInvalidParameter, "Upload too large"},
		{"empty message", []InputEvent{{now, ""}}, CodeInvalidParameter, "message"},
		{"negative timestamp", []InputEvent{{-1, "x"}}, CodeInvalidParameter, "timestamp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
				LogGroupName: aws.String(testGroup), LogStreamName: aws.String("s"), LogEvents: sdkEvents(tc.events),
			})
			if apiCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %s containing %q", err, tc.code, tc.msg)
			}
		})
	}
	if n := e.srv.EventCount(testGroup); n != 0 {
		t.Errorf("%d events stored after refused batches", n)
	}
	// 1020 events of 1026 bytes: 1,046,520 bytes, just under the limit.
	if _, err := e.client.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String(testGroup), LogStreamName: aws.String("s"), LogEvents: sdkEvents(seqBig(now, big, 1020)),
	}); err != nil {
		t.Errorf("batch just under 1 MiB: %v", err)
	}
}

func seqBig(ts int64, msg string, n int) []InputEvent {
	out := make([]InputEvent, n)
	for i := range out {
		out[i] = InputEvent{Timestamp: ts, Message: msg}
	}
	return out
}

func TestPutLogEventsRejectsTooOldAndTooNew(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{Retention: 7 * 24 * time.Hour})
	e.mustPut(t, testGroup, "s", nil)
	now := e.clock.Now().UnixMilli()
	const day = 24 * 3600 * 1000
	evs := []InputEvent{
		{now - 15*day, "too old"}, {now - 15*day + 1, "too old 2"}, // more than 14 days (span < 24 h)
	}
	out, err := e.client.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String(testGroup), LogStreamName: aws.String("s"), LogEvents: sdkEvents(evs),
	})
	if err != nil {
		t.Fatal(err)
	}
	ri := out.RejectedLogEventsInfo
	if ri == nil || aws.ToInt32(ri.TooOldLogEventEndIndex) != 2 {
		t.Errorf("too old: rejected info %+v, want tooOldLogEventEndIndex 2", ri)
	}
	evs = []InputEvent{
		{now - 8*day, "expired"}, {now - 8*day + 10, "expired 2"}, {now - 8*day + 20, "expired 3"},
	}
	out, err = e.client.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String(testGroup), LogStreamName: aws.String("s"), LogEvents: sdkEvents(evs),
	})
	if err != nil {
		t.Fatal(err)
	}
	if ri := out.RejectedLogEventsInfo; ri == nil || aws.ToInt32(ri.ExpiredLogEventEndIndex) != 3 || ri.TooOldLogEventEndIndex != nil {
		t.Errorf("expired: rejected info %+v, want expiredLogEventEndIndex 3 only", ri)
	}
	evs = []InputEvent{{now - 1000, "ok"}, {now + 2*3600*1000, "edge ok"}, {now + 2*3600*1000 + 1, "too new"}}
	err = e.srv.PutLogEvents(testGroup, "s", evs)
	var rej *RejectedEventsError
	if !errors.As(err, &rej) || rej.Accepted != 2 || rej.Rejected.TooNewLogEventStartIndex == nil || *rej.Rejected.TooNewLogEventStartIndex != 2 {
		t.Fatalf("in-process put: %v, want 2 accepted and tooNewLogEventStartIndex 2", err)
	}
	if n := e.srv.EventCount(testGroup); n != 2 {
		t.Errorf("%d events stored, want 2", n)
	}
	if st := e.srv.Stats(); st.EventsRejected != 6 || st.EventsPut != 2 {
		t.Errorf("stats: %d put, %d rejected; want 2 and 6", st.EventsPut, st.EventsRejected)
	}
}

func TestCreateAndNotFoundErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ctx := context.Background()
	if _, err := e.client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(testGroup)}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"group exists", func() error {
			_, err := e.client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(testGroup)})
			return err
		}, CodeResourceAlreadyExists},
		{"bad group name", func() error {
			_, err := e.client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("bad name!")})
			return err
		}, CodeInvalidParameter},
		{"stream in missing group", func() error {
			_, err := e.client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String("s")})
			return err
		}, CodeResourceNotFound},
		{"bad stream name", func() error {
			_, err := e.client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(testGroup), LogStreamName: aws.String("a:b")})
			return err
		}, CodeInvalidParameter},
		{"put to missing stream", func() error {
			_, err := e.client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamName: aws.String("nope"),
				LogEvents: sdkEvents([]InputEvent{{e.clock.Now().UnixMilli(), "x"}})})
			return err
		}, CodeResourceNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if apiCode(err) != tc.code {
				t.Errorf("err = %v, want %s", err, tc.code)
			}
			var typed *types.ResourceNotFoundException
			if tc.code == CodeResourceNotFound && !errors.As(err, &typed) {
				t.Errorf("the SDK did not decode %T into *types.ResourceNotFoundException", err)
			}
		})
	}
	if err := e.srv.CreateLogGroup(testGroup); !errors.Is(err, ErrResourceAlreadyExists) {
		t.Errorf("in-process create of an existing group: %v, want ErrResourceAlreadyExists", err)
	}
}

// One event past 14 days beside fresh ones is rejected alone (and reported), not the whole
// batch: the 24-hour span applies only to the events in the accepted time range.
func TestPutLogEventsRejectsOnlyOutOfRangeEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.mustPut(t, testGroup, "s", nil)
	now := e.clock.Now().UnixMilli()
	const day, hour = 24 * 3600 * 1000, 3600 * 1000
	cases := []struct {
		name                   string
		events                 []InputEvent
		tooOldEnd, tooNewStart *int32 // want
		stored                 int
	}{
		{"old and fresh", []InputEvent{{now - 15*day, "old"}, {now, "fresh"}}, aws.Int32(1), nil, 1},
		{"old, fresh and new", []InputEvent{{now - 20*day, "old"}, {now - 19*day, "old 2"}, {now - hour, "fresh"}, {now + 3*hour, "new"}}, aws.Int32(2), aws.Int32(3), 1},
		{"only too new", []InputEvent{{now + 3*hour, "new"}}, nil, aws.Int32(0), 0},
	}
	total := 0
	for _, tc := range cases {
		out, err := e.client.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
			LogGroupName: aws.String(testGroup), LogStreamName: aws.String("s"), LogEvents: sdkEvents(tc.events),
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ri := out.RejectedLogEventsInfo
		if ri == nil || !equalPtr(ri.TooOldLogEventEndIndex, tc.tooOldEnd) || !equalPtr(ri.TooNewLogEventStartIndex, tc.tooNewStart) || ri.ExpiredLogEventEndIndex != nil {
			t.Errorf("%s: rejectedLogEventsInfo %+v, want tooOldLogEventEndIndex %v, tooNewLogEventStartIndex %v", tc.name, ri, tc.tooOldEnd, tc.tooNewStart)
		}
		total += tc.stored
		if n := e.srv.EventCount(testGroup); n != total {
			t.Errorf("%s: %d events stored, want %d", tc.name, n, total)
		}
	}
	// The span rule still holds among the events in range.
	_, err := e.client.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String(testGroup), LogStreamName: aws.String("s"),
		LogEvents: sdkEvents([]InputEvent{{now - 15*day, "old"}, {now - 2*day, "in range"}, {now, "fresh"}}),
	})
	if apiCode(err) != CodeInvalidParameter || !strings.Contains(err.Error(), "24 hours") {
		t.Errorf("span of 2 days among events in range: err = %v, want %s about 24 hours", err, CodeInvalidParameter)
	}
}

func equalPtr(a, b *int32) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// timestamp and message are required members of InputLogEvent. The SDK refuses a missing one
// before sending; with that client-side check removed, the request reaches the emulator, which
// refuses it as AWS does instead of storing an event of 1970.
func TestPutLogEventsRequiresTimestampAndMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.mustPut(t, testGroup, "s", nil)
	now := e.clock.Now().UnixMilli()
	in := func(ev types.InputLogEvent) *cloudwatchlogs.PutLogEventsInput {
		return &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamName: aws.String("s"),
			LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(now), Message: aws.String("ok")}, ev}}
	}
	var invalid smithy.InvalidParamsError
	if _, err := e.client.PutLogEvents(context.Background(), in(types.InputLogEvent{Message: aws.String("no timestamp")})); !errors.As(err, &invalid) {
		t.Fatalf("SDK with its validation: err = %v, want smithy.InvalidParamsError", err)
	}
	cases := []struct {
		name   string
		ev     types.InputLogEvent
		member string
	}{
		{"no timestamp", types.InputLogEvent{Message: aws.String("no timestamp")}, "logEvents.2.member.timestamp"},
		{"no message", types.InputLogEvent{Timestamp: aws.Int64(now)}, "logEvents.2.member.message"},
	}
	for _, tc := range cases {
		_, err := e.client.PutLogEvents(context.Background(), in(tc.ev), noClientValidation)
		want := "Value null at '" + tc.member + "' failed to satisfy constraint: Member must not be null"
		if apiCode(err) != CodeInvalidParameter || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %s containing %q", tc.name, err, CodeInvalidParameter, want)
		}
	}
	if n := e.srv.EventCount(testGroup); n != 0 {
		t.Errorf("%d events stored from refused batches", n)
	}
}
