package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// clockBackoff makes the SDK's retry back-off advance the fake clock instead of sleeping, so a
// retried request finds its bucket refilled without the test waiting.
type clockBackoff struct {
	clock *fakeClock
	step  time.Duration
}

func (b clockBackoff) BackoffDelay(int, error) (time.Duration, error) {
	b.clock.Advance(b.step)
	return 0, nil
}

func throttleEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, Config{RateLimits: map[string]float64{OpFilterLogEvents: 1}})
	e.mustPut(t, testGroup, "s", seqEvents("x", e.clock.Now().UnixMilli()-1000, 1, 5))
	return e
}

func filterOnce(c *cloudwatchlogs.Client) error {
	_, err := c.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup)})
	return err
}

func TestThrottlingAsAWSSendsIt(t *testing.T) {
	t.Parallel()
	e := throttleEnv(t)
	if err := filterOnce(e.client); err != nil {
		t.Fatalf("first call: %v", err)
	}
	err := filterOnce(e.client)
	if apiCode(err) != CodeThrottling || !strings.Contains(err.Error(), "Rate exceeded") {
		t.Fatalf("second call in the same second: %v, want ThrottlingException: Rate exceeded", err)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
		t.Errorf("status: %v, want 400", err)
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) != aws.TrueTernary {
		t.Error("the SDK's retryer does not classify the answer as throttling")
	}

	// The raw answer: status, header and body exactly as AWS sends them.
	req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(`{"logGroupName":"`+testGroup+`"}`))
	req.Header.Set("X-Amz-Target", "Logs_20140328.FilterLogEvents")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ThrottlingException" ||
		string(body) != `{"__type":"ThrottlingException","message":"Rate exceeded"}` {
		t.Errorf("raw answer: %d %q %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
	}
	if st := e.srv.Stats().Ops[OpFilterLogEvents]; st.Calls != 3 || st.Throttled != 2 {
		t.Errorf("stats %+v, want 3 calls, 2 throttled", st)
	}
	e.clock.Advance(time.Second)
	if err := filterOnce(e.client); err != nil {
		t.Errorf("after a second the bucket has a token again: %v", err)
	}
}

func TestSDKRetriesThrottling(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		step        time.Duration // how far each back-off moves the clock
		wantErr     bool
		wantCalls   int64 // including the first, unthrottled call
		wantThrottl int64
	}{
		{"bucket refills during back-off", time.Second, false, 3, 1},
		{"clock frozen: every attempt throttled", 0, true, 4, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := throttleEnv(t)
			client := newClient(e.url, retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Backoff = clockBackoff{e.clock, tc.step}
			}))
			if err := filterOnce(client); err != nil {
				t.Fatal(err)
			}
			err := filterOnce(client)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr && (apiCode(err) != CodeThrottling || !strings.Contains(err.Error(), "exceeded maximum number of attempts, 3")) {
				t.Errorf("err = %v, want ThrottlingException after 3 attempts", err)
			}
			if st := e.srv.Stats().Ops[OpFilterLogEvents]; st.Calls != tc.wantCalls || st.Throttled != tc.wantThrottl {
				t.Errorf("stats %+v, want %d calls, %d throttled", st, tc.wantCalls, tc.wantThrottl)
			}
		})
	}
}

func TestDefaultRateLimits(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv, err := New(Config{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		op   op
		want float64
	}{{opFilterLogEvents, 5}, {opGetLogEvents, 10}, {opDescribeLogStreams, 25}, {opPutLogEvents, -1}, {opCreateLogStream, -1}}
	for _, tc := range cases {
		lim := srv.limiters[tc.op]
		switch {
		case tc.want < 0 && lim != nil:
			t.Errorf("%v: limited to %v/s, want unlimited", tc.op, lim.Limit())
		case tc.want > 0 && (lim == nil || float64(lim.Limit()) != tc.want || lim.Burst() != int(tc.want)):
			t.Errorf("%v: limiter %v, want %v/s burst %v", tc.op, lim, tc.want, tc.want)
		}
	}
}
