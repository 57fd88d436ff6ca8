package ec2emu

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	flowdhttp "github.com/flowd-dev/flowd/internal/awshttp"
)

// Inside a synctest bubble the SDK talks HTTP to the emulator over in-memory connections, so
// a slow answer and the client's timeout play out in virtual time, and the bucket refills on
// the bubble's clock.
func TestInMemoryVirtualTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, err := New(Config{RateLimits: map[string]float64{ActionDescribeVpcs: 1}, Burst: 1})
		if err != nil {
			t.Fatal(err)
		}
		hc, url, closeFn := srv.InMemory()
		defer closeFn()
		c := ec2.New(ec2.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(url), Retryer: aws.NopRetryer{},
			Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
			HTTPClient:  flowdhttp.Wrap(hc),
		})
		ctx := context.Background()
		if _, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err == nil {
			t.Fatal("second call within the second: not throttled")
		}
		time.Sleep(time.Second) // virtual
		if _, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
			t.Fatalf("after a virtual second: %v", err)
		}

		if err := srv.SetFault(ActionDescribeSubnets, Fault{Kind: FaultSlow, Delay: time.Hour, Count: 2}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}); err != nil {
			t.Fatalf("slow answer: %v", err)
		}
		if d := time.Since(start); d != time.Hour {
			t.Errorf("the slow answer took %v of virtual time, want exactly 1h", d)
		}
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err = c.DescribeSubnets(tctx, &ec2.DescribeSubnetsInput{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a 10s timeout against a 1h answer: %v", err)
		}
	})
}
