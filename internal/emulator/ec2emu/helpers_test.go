package ec2emu

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	flowdhttp "github.com/flowd-dev/flowd/internal/awshttp"
	"github.com/flowd-dev/flowd/internal/simulate"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

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

// env is a server on an httptest listener with a fake clock, and an SDK client without retries.
type env struct {
	srv    *Server
	clock  *fakeClock
	url    string
	client *ec2.Client
}

// newEnv starts a server; unless cfg sets them, rate limits are off and the clock is fake.
func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	clock := newFakeClock()
	if cfg.Clock == nil {
		cfg.Clock = clock.Now
	}
	if cfg.RateLimits == nil {
		cfg.RateLimits = map[string]float64{}
		for _, a := range Actions() {
			cfg.RateLimits[a] = -1
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

func newClient(url string, retryer aws.Retryer) *ec2.Client {
	return ec2.New(ec2.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:      retryer,
		HTTPClient:   flowdhttp.New(),
	})
}

// testSim is a small simulator with IPv6 addresses.
func testSim(t testing.TB, n int) *simulate.Simulator {
	t.Helper()
	cfg := simulate.DefaultConfig()
	cfg.Start = time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	cfg.Interfaces = n
	sim, err := simulate.New(cfg)
	if err != nil {
		t.Fatalf("simulate.New: %v", err)
	}
	return sim
}

func (e *env) load(t testing.TB, inv Inventory) {
	t.Helper()
	if err := e.srv.Load(inv); err != nil {
		t.Fatalf("Load: %v", err)
	}
}

// apiCode returns the AWS error code of err ("" if none) and the HTTP status (0 if none).
func apiCode(err error) (string, int) {
	var ae smithy.APIError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	status := 0
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

func allInterfaces(t testing.TB, c *ec2.Client, in *ec2.DescribeNetworkInterfacesInput) ([]string, int) {
	t.Helper()
	p := ec2.NewDescribeNetworkInterfacesPaginator(c, in, func(o *ec2.DescribeNetworkInterfacesPaginatorOptions) { o.StopOnDuplicateToken = true })
	var ids []string
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("DescribeNetworkInterfaces page %d: %v", pages+1, err)
		}
		pages++
		for _, n := range page.NetworkInterfaces {
			ids = append(ids, aws.ToString(n.NetworkInterfaceId))
		}
		if pages > 100000 {
			t.Fatal("paging does not end")
		}
	}
	return ids, pages
}
