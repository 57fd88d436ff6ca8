package simulate

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/flowd-dev/flowd/internal/emulator"
)

const testGroup = "/aws/vpc/flow-logs"

// emulatorEnv is a CloudWatch Logs emulator on an httptest listener, its clock fixed at now,
// and a real SDK client pointed at it.
func emulatorEnv(t *testing.T, now time.Time) (*emulator.Server, *cloudwatchlogs.Client) {
	t.Helper()
	srv, err := emulator.New(emulator.Config{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(hs.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	return srv, client
}

type storedEvent struct {
	stream string
	ts     int64
	msg    string
}

func storedEvents(srv *emulator.Server) []storedEvent {
	var out []storedEvent
	for _, e := range srv.GroundTruth(testGroup) {
		out = append(out, storedEvent{e.LogStreamName, e.Timestamp, e.Message})
	}
	return out
}

func sortStored(es []storedEvent) {
	slices.SortFunc(es, func(a, b storedEvent) int {
		if c := strings.Compare(a.stream, b.stream); c != 0 {
			return c
		}
		if a.ts != b.ts {
			return int(a.ts - b.ts)
		}
		return strings.Compare(a.msg, b.msg)
	})
}

func putCalls(srv *emulator.Server) int64 { return srv.Stats().Ops[emulator.OpPutLogEvents].Calls }

func TestCloudWatchSinkDeliversSimulation(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Scenario = ScenarioDemo
	end := testStart.Add(40 * time.Minute)
	srv, client := emulatorEnv(t, end)
	sink, err := NewCloudWatchSink(client, testGroup)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, cfg)
	ctx := context.Background()
	var want []storedEvent
	for at := testStart; !at.After(end); at = at.Add(time.Minute) {
		for _, d := range s.Advance(at) {
			if err := sink.Put(ctx, d.Stream, d.Events); err != nil {
				t.Fatalf("Put: %v", err)
			}
			for _, e := range d.Events {
				want = append(want, storedEvent{d.Stream, e.Timestamp, e.Message})
			}
		}
	}
	got := storedEvents(srv)
	if uint64(len(got)) != s.Delivered().Events || len(got) == 0 {
		t.Fatalf("emulator holds %d events, simulator delivered %d", len(got), s.Delivered().Events)
	}
	sortStored(got)
	sortStored(want)
	if !slices.Equal(got, want) {
		t.Fatal("the events stored in the emulator differ from the delivered ones")
	}
	// One stream per interface that delivered, each created once.
	if n := srv.Stats().Ops[emulator.OpCreateLogStream].Calls; n != int64(len(s.Delivered().ByStream)) {
		t.Fatalf("%d CreateLogStream calls for %d streams", n, len(s.Delivered().ByStream))
	}
}

func TestCloudWatchSinkBatching(t *testing.T) {
	t.Parallel()
	now := testStart.Add(48 * time.Hour)
	t0 := testStart.UnixMilli()
	events := func(n, size int, step int64) []Event {
		out := make([]Event, n)
		msg := strings.Repeat("x", size)
		for i := range out {
			out[i] = Event{Timestamp: t0 + int64(i)*step, Message: msg}
		}
		return out
	}
	cases := []struct {
		name   string
		events []Event
		calls  int64
	}{
		{"one small batch", events(10, 100, 1), 1},
		{"count limit: 25,000 events", events(25000, 10, 1), 3},
		// 1,048,576 / (1000+26) = 1021 events per call.
		{"byte limit: 3,000 events of 1,000 bytes", events(3000, 1000, 1), 3},
		{"24 hour span limit", []Event{{t0, "a"}, {t0 + 23*3600*1000, "b"}, {t0 + 25*3600*1000, "c"}}, 2},
		{"out of order is sorted", []Event{{t0 + 5, "late"}, {t0, "early"}, {t0 + 2, "middle"}}, 1},
		{"empty", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, client := emulatorEnv(t, now)
			sink, err := NewCloudWatchSink(client, testGroup)
			if err != nil {
				t.Fatal(err)
			}
			orig := slices.Clone(tc.events)
			if err := sink.Put(context.Background(), "eni-0123456789abcdef0-all", tc.events); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if got := putCalls(srv); got != tc.calls {
				t.Errorf("%d PutLogEvents calls, want %d", got, tc.calls)
			}
			if !slices.Equal(orig, tc.events) {
				t.Error("Put modified the caller's events")
			}
			got := storedEvents(srv)
			if len(got) != len(tc.events) {
				t.Fatalf("stored %d events, want %d", len(got), len(tc.events))
			}
			sorted := slices.Clone(tc.events)
			slices.SortStableFunc(sorted, byTimestamp)
			for i, e := range got {
				if e.ts != sorted[i].Timestamp || e.msg != sorted[i].Message {
					t.Fatalf("event %d stored as %+v, want %+v", i, e, sorted[i])
				}
			}
		})
	}
}

func TestCloudWatchSinkExistingAndErrors(t *testing.T) {
	t.Parallel()
	now := testStart.Add(time.Hour)
	ctx := context.Background()
	t.Run("group and stream already exist", func(t *testing.T) {
		t.Parallel()
		srv, client := emulatorEnv(t, now)
		if err := srv.CreateLogGroup(testGroup); err != nil {
			t.Fatal(err)
		}
		if err := srv.CreateLogStream(testGroup, "s-all"); err != nil {
			t.Fatal(err)
		}
		sink, _ := NewCloudWatchSink(client, testGroup)
		for range 2 {
			if err := sink.Put(ctx, "s-all", []Event{{testStart.UnixMilli(), "m"}}); err != nil {
				t.Fatalf("Put: %v", err)
			}
		}
		if n := srv.EventCount(testGroup); n != 2 {
			t.Fatalf("%d events stored, want 2", n)
		}
	})
	t.Run("too old events are a RejectedError", func(t *testing.T) {
		t.Parallel()
		_, client := emulatorEnv(t, now)
		sink, _ := NewCloudWatchSink(client, testGroup)
		err := sink.Put(ctx, "s-all", []Event{{1000, "ancient"}, {testStart.UnixMilli(), "fine"}})
		var rej *RejectedError
		if !errors.As(err, &rej) || rej.Stream != "s-all" || rej.Info.TooOldLogEventEndIndex == nil {
			t.Fatalf("err = %v, want a *RejectedError with a too-old index", err)
		}
	})
	t.Run("bad arguments", func(t *testing.T) {
		t.Parallel()
		_, client := emulatorEnv(t, now)
		if _, err := NewCloudWatchSink(nil, testGroup); err == nil {
			t.Error("nil client accepted")
		}
		if _, err := NewCloudWatchSink(client, ""); err == nil {
			t.Error("empty group accepted")
		}
		sink, _ := NewCloudWatchSink(client, testGroup)
		if err := sink.Put(ctx, "", []Event{{1, "m"}}); err == nil {
			t.Error("empty stream accepted")
		}
	})
}
