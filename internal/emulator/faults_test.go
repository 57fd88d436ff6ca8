package emulator

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fault  Fault
		status int    // expected HTTP status, 0 if no answer
		code   string // expected error code, "" for a transport error
	}{
		{"internal error", Fault{Kind: FaultInternalError, Count: 1}, 500, CodeServiceUnavailable},
		{"unavailable", Fault{Kind: FaultUnavailable, Count: 1}, 503, CodeServiceUnavailableFront},
		{"throttle", Fault{Kind: FaultThrottle, Count: 1}, 400, CodeThrottling},
		{"disconnect", Fault{Kind: FaultDisconnect, Count: 1}, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{})
			e.mustPut(t, testGroup, "s", seqEvents("x", e.clock.Now().UnixMilli()-1000, 1, 5))
			if err := e.srv.SetFault(OpFilterLogEvents, tc.fault); err != nil {
				t.Fatal(err)
			}
			err := filterOnce(e.client)
			if err == nil {
				t.Fatal("faulted call succeeded")
			}
			if apiCode(err) != tc.code {
				t.Errorf("err = %v, want code %q", err, tc.code)
			}
			var re *smithyhttp.ResponseError
			if tc.status != 0 && (!errors.As(err, &re) || re.HTTPStatusCode() != tc.status) {
				t.Errorf("err = %v, want HTTP %d", err, tc.status)
			}
			if err := filterOnce(e.client); err != nil {
				t.Errorf("the call after a Count 1 fault: %v", err)
			}
			if st := e.srv.Stats().Ops[OpFilterLogEvents]; st.Faulted != 1 || st.Calls != 2 {
				t.Errorf("stats %+v, want 2 calls, 1 faulted", st)
			}
		})
	}
}

// The SDK's standard retryer retries 5xx answers and dropped connections and then succeeds.
func TestSDKRetriesFaults(t *testing.T) {
	t.Parallel()
	for _, kind := range []FaultKind{FaultInternalError, FaultUnavailable, FaultThrottle} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{})
			e.mustPut(t, testGroup, "s", seqEvents("x", e.clock.Now().UnixMilli()-1000, 1, 5))
			client := newClient(e.url, retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Backoff = clockBackoff{e.clock, 0}
			}))
			if err := e.srv.SetFault(OpFilterLogEvents, Fault{Kind: kind, Count: 2}); err != nil {
				t.Fatal(err)
			}
			if err := filterOnce(client); err != nil {
				t.Fatalf("with 3 attempts against 2 faults: %v", err)
			}
			if st := e.srv.Stats().Ops[OpFilterLogEvents]; st.Calls != 3 || st.Faulted != 2 {
				t.Errorf("stats %+v, want 3 calls, 2 faulted", st)
			}
		})
	}
}

func TestSlowFault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.mustPut(t, testGroup, "s", seqEvents("x", e.clock.Now().UnixMilli()-1000, 1, 5))
	if err := e.srv.SetFault(OpFilterLogEvents, Fault{Kind: FaultSlow, Delay: time.Minute}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := e.client.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow answer against a 100 ms deadline: %v, want context.DeadlineExceeded", err)
	}
	if err := e.srv.SetFault(OpFilterLogEvents, Fault{Kind: FaultSlow, Delay: 5 * time.Millisecond, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if err := filterOnce(e.client); err != nil {
		t.Errorf("a slow answer is still a good answer: %v", err)
	}
}

func TestTokenFaults(t *testing.T) {
	t.Parallel()
	for _, kind := range []FaultKind{FaultInvalidToken, FaultExpiredToken} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{})
			e.mustPut(t, testGroup, "s", seqEvents("x", e.clock.Now().UnixMilli()-1000, 1, 5))
			if err := e.srv.SetFault(OpFilterLogEvents, Fault{Kind: kind, Count: 1}); err != nil {
				t.Fatal(err)
			}
			in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup), Limit: aws.Int32(2)}
			p1, err := e.client.FilterLogEvents(context.Background(), in)
			if err != nil {
				t.Fatalf("a first page (no token) does not draw a token fault: %v", err)
			}
			in.NextToken = p1.NextToken
			_, err = e.client.FilterLogEvents(context.Background(), in)
			want := map[FaultKind]string{FaultInvalidToken: "invalid", FaultExpiredToken: "expired"}[kind]
			if apiCode(err) != CodeInvalidParameter || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want InvalidParameterException (%s)", err, want)
			}
			if _, err := e.client.FilterLogEvents(context.Background(), in); err != nil {
				t.Errorf("the same token after the fault: %v", err)
			}
			if st := e.srv.Stats().Ops[OpFilterLogEvents]; st.Faulted != 1 {
				t.Errorf("stats %+v, want 1 faulted", st)
			}
		})
	}
}

func TestFaultProbabilityAndValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{Seed: 3})
	e.mustPut(t, testGroup, "s", seqEvents("x", e.clock.Now().UnixMilli()-1000, 1, 5))
	if err := e.srv.SetFault(OpFilterLogEvents, Fault{Kind: FaultInternalError, Probability: 0.5}); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for i := 0; i < 200; i++ {
		if filterOnce(e.client) != nil {
			failed++
		}
	}
	if failed < 60 || failed > 140 {
		t.Errorf("%d of 200 calls failed at probability 0.5", failed)
	}
	e.srv.ClearFaults()
	if err := filterOnce(e.client); err != nil {
		t.Errorf("after ClearFaults: %v", err)
	}
	bad := []struct {
		op string
		f  Fault
	}{
		{"NoSuchOp", Fault{Kind: FaultThrottle}},
		{OpFilterLogEvents, Fault{}},
		{OpFilterLogEvents, Fault{Kind: FaultSlow}},
		{OpFilterLogEvents, Fault{Kind: FaultThrottle, Probability: 2}},
		{OpFilterLogEvents, Fault{Kind: FaultThrottle, Count: -1}},
	}
	for _, b := range bad {
		if err := e.srv.SetFault(b.op, b.f); err == nil {
			t.Errorf("SetFault(%q, %+v) accepted", b.op, b.f)
		}
	}
}
