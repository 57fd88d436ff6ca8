package emulator

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

func TestGetLogEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{VisibilityDelay: time.Second})
	base := e.clock.Now().Add(-time.Hour).UnixMilli()
	e.mustPut(t, testGroup, "s", seqEvents("m", base, 10, 25))
	e.clock.Advance(time.Second)
	e.mustPut(t, testGroup, "s", []InputEvent{{base + 5, "not visible yet"}})
	ctx := context.Background()
	msgs := func(out *cloudwatchlogs.GetLogEventsOutput) []string {
		var m []string
		for _, ev := range out.Events {
			m = append(m, aws.ToString(ev.Message))
		}
		return m
	}
	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamName: aws.String("s"), Limit: aws.Int32(10), StartFromHead: aws.Bool(true)}

	// Forward from the head to the end: the same token comes back when nothing is left.
	var all []string
	for pages := 0; ; pages++ {
		out, err := e.client.GetLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, msgs(out)...)
		if in.NextToken != nil && aws.ToString(out.NextForwardToken) == aws.ToString(in.NextToken) {
			break
		}
		if pages > 10 {
			t.Fatal("forward paging does not end")
		}
		in.NextToken = out.NextForwardToken
	}
	if want := seqMessages("m", 25); !slices.Equal(all, want) {
		t.Errorf("forward: %v, want %v", all, want)
	}

	// The default (no token, startFromHead false) is the newest page; backward tokens go older.
	tail, err := e.client.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamName: aws.String("s"), Limit: aws.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	if want := seqMessages("m", 25)[15:]; !slices.Equal(msgs(tail), want) {
		t.Errorf("tail: %v, want %v", msgs(tail), want)
	}
	back, err := e.client.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamName: aws.String("s"), Limit: aws.Int32(10), NextToken: tail.NextBackwardToken})
	if err != nil {
		t.Fatal(err)
	}
	if want := seqMessages("m", 25)[5:15]; !slices.Equal(msgs(back), want) {
		t.Errorf("backward: %v, want %v", msgs(back), want)
	}
	if back.Events[0].IngestionTime == nil || back.Events[0].Timestamp == nil {
		t.Error("events lack timestamp or ingestionTime")
	}

	// Time range: start inclusive, end exclusive.
	rng, err := e.client.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamName: aws.String("s"),
		StartFromHead: aws.Bool(true), StartTime: aws.Int64(base + 20), EndTime: aws.Int64(base + 50)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"m 2", "m 3", "m 4"}; !slices.Equal(msgs(rng), want) {
		t.Errorf("range: %v, want %v", msgs(rng), want)
	}
	_, err = e.client.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamName: aws.String("other"), NextToken: tail.NextForwardToken})
	if apiCode(err) != CodeInvalidParameter {
		t.Errorf("a token of another stream: %v, want InvalidParameterException", err)
	}
}

func seqMessages(prefix string, n int) []string {
	out := make([]string, n)
	for i, e := range seqEvents(prefix, 0, 0, n) {
		out[i] = e.Message
	}
	return out
}
