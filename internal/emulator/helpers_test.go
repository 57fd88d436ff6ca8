package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/flowd-dev/flowd/internal/awshttp"
)

// fakeClock is a settable clock for Config.Clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a server on an httptest listener with a fake clock and an SDK client without retries.
type env struct {
	srv    *Server
	clock  *fakeClock
	url    string
	client *cloudwatchlogs.Client
}

// newEnv starts a server. Unless cfg sets them, rate limits are off and the clock is fake.
func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	clock := newFakeClock()
	if cfg.Clock == nil {
		cfg.Clock = clock.Now
	}
	if cfg.RateLimits == nil {
		cfg.RateLimits = map[string]float64{}
		for _, op := range Operations() {
			cfg.RateLimits[op] = -1
		}
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &env{srv: srv, clock: clock, url: hs.URL, client: newClient(hs.URL, aws.NopRetryer{})}
}

func newClient(url string, retryer aws.Retryer) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:      retryer,
		HTTPClient:   awshttp.New(), // see its package doc: a net/http vs smithy-go race
	})
}

// mustPut creates group and stream if needed and puts events through the in-process helper.
func (e *env) mustPut(t testing.TB, group, stream string, events []InputEvent) {
	t.Helper()
	if err := e.srv.CreateLogGroup(group); err != nil && !errors.Is(err, ErrResourceAlreadyExists) {
		t.Fatalf("CreateLogGroup: %v", err)
	}
	if err := e.srv.CreateLogStream(group, stream); err != nil && !errors.Is(err, ErrResourceAlreadyExists) {
		t.Fatalf("CreateLogStream: %v", err)
	}
	for len(events) > 0 {
		n := min(len(events), maxPutEvents)
		if err := e.srv.PutLogEvents(group, stream, events[:n]); err != nil {
			t.Fatalf("PutLogEvents: %v", err)
		}
		events = events[n:]
	}
}

// seqEvents returns n events starting at ts0 spaced step ms apart, messages "<prefix> i".
func seqEvents(prefix string, ts0 int64, step int64, n int) []InputEvent {
	out := make([]InputEvent, n)
	for i := range out {
		out[i] = InputEvent{Timestamp: ts0 + int64(i)*step, Message: fmt.Sprintf("%s %d", prefix, i)}
	}
	return out
}

// filterAll pages FilterLogEvents to the end with the SDK paginator and returns the events and
// the number of pages.
func filterAll(t testing.TB, c *cloudwatchlogs.Client, in *cloudwatchlogs.FilterLogEventsInput) ([]types.FilteredLogEvent, int) {
	t.Helper()
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c, in, func(o *cloudwatchlogs.FilterLogEventsPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	var out []types.FilteredLogEvent
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("FilterLogEvents page %d: %v", pages+1, err)
		}
		pages++
		out = append(out, page.Events...)
		if pages > 1_000_000 {
			t.Fatal("paging does not end")
		}
	}
	return out, pages
}

// apiCode returns the AWS error code of err ("" if it is not an API error).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// noClientValidation removes the SDK's check of required members, so that a request missing
// one reaches the emulator, which must refuse it as AWS does.
func noClientValidation(o *cloudwatchlogs.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		_, err := st.Initialize.Remove("OperationInputValidation")
		return err
	})
}
