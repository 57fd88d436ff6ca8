package emulator

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// Batches arriving out of time order are merged so the stream stays sorted by key.
func TestStreamInsertKeepsKeyOrder(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 50; trial++ {
		st := &stream{}
		var all []storedEvent
		seq := uint64(0)
		for b := 0; b < 20; b++ {
			n := rng.IntN(30)
			start := rng.Int64N(1000)
			batch := make([]storedEvent, n)
			ts := start
			for i := range batch {
				ts += rng.Int64N(3)
				seq++
				batch[i] = storedEvent{key: key{ts: ts, ingest: int64(b), seq: seq}, msg: fmt.Sprint(seq)}
			}
			st.insert(batch)
			all = append(all, batch...)
		}
		slices.SortFunc(all, func(a, b storedEvent) int {
			if a.key.less(b.key) {
				return -1
			}
			return 1
		})
		if !slices.Equal(st.events, all) {
			t.Fatalf("trial %d: stream not in key order after merges", trial)
		}
	}
}

func TestRetentionExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{Retention: time.Hour})
	start := e.clock.Now()
	// One event per minute for two hours of clock time, each put when it happens.
	for i := 0; i < 120; i++ {
		e.mustPut(t, testGroup, "s", []InputEvent{{e.clock.Now().UnixMilli(), fmt.Sprint("minute ", i)}})
		e.clock.Advance(time.Minute)
	}
	got, _ := filterAll(t, e.client, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup)})
	// Now = start + 120 min; the cutoff is start + 60 min, inclusive.
	if len(got) != 60 || aws.ToInt64(got[0].Timestamp) != start.Add(60*time.Minute).UnixMilli() {
		t.Errorf("%d events readable, first at %d; want 60 from minute 60", len(got), aws.ToInt64(got[0].Timestamp))
	}
	st := e.srv.Stats()
	if st.EventsExpired < 55 || st.EventsStored+st.EventsExpired != 120 {
		t.Errorf("stats: %d expired, %d stored; want about 60 expired and 120 in all", st.EventsExpired, st.EventsStored)
	}
	if n := len(e.srv.GroundTruth(testGroup)); int64(n) != st.EventsStored {
		t.Errorf("ground truth holds %d events, stats say %d stored", n, st.EventsStored)
	}
}

// Puts and reads in parallel, for the race detector; every read page must be in key order.
func TestConcurrentPutsAndReads(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{ShortPageProbability: 0.3})
	e.mustPut(t, testGroup, "s0", nil)
	var wg sync.WaitGroup
	base := e.clock.Now().Add(-time.Hour).UnixMilli()
	for w := 0; w < 4; w++ {
		name := fmt.Sprint("s", w)
		if w > 0 {
			e.mustPut(t, testGroup, name, nil)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < 20; b++ {
				if err := e.srv.PutLogEvents(testGroup, name, seqEvents(name, base+int64(b*7%13)*100, 1, 50)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				out, err := e.client.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), Limit: aws.Int32(500)})
				if err != nil {
					t.Error(err)
					return
				}
				for j := 1; j < len(out.Events); j++ {
					if aws.ToInt64(out.Events[j].Timestamp) < aws.ToInt64(out.Events[j-1].Timestamp) {
						t.Error("page out of timestamp order")
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if n := e.srv.EventCount(testGroup); n != 4*20*50 {
		t.Errorf("%d events stored, want 4000", n)
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"negative delay", Config{VisibilityDelay: -1}, "VisibilityDelay"},
		{"unknown op", Config{RateLimits: map[string]float64{"Nope": 1}}, "RateLimits[Nope]"},
		{"page too big", Config{MaxPageEvents: 10001}, "MaxPageEvents"},
		{"page bytes too small", Config{MaxPageBytes: 10}, "MaxPageBytes"},
		{"short probability 1", Config{ShortPageProbability: 1}, "ShortPageProbability"},
		{"negative retention", Config{Retention: -time.Second}, "Retention"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !containsField(err, tc.field) {
				t.Errorf("New: %v, want an error naming %s", err, tc.field)
			}
		})
	}
}

func containsField(err error, field string) bool {
	for _, e := range unwrapAll(err) {
		if ce := (*ConfigError)(nil); errors.As(e, &ce) && ce.Field == field {
			return true
		}
	}
	return false
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestStartServesOnARealPort(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(url, aws.NopRetryer{})
	if _, err := c.CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
		t.Errorf("create over %s: %v", url, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
	if _, err := c.CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("h")}); err == nil {
		t.Error("the server still answers after stop")
	}
}
