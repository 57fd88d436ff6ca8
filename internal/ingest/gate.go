package ingest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// backoff is a jittered exponential back-off policy.
type backoff struct {
	base, max   time.Duration
	maxAttempts int // attempts per call before giving up to the caller; 0 = unlimited
}

// delay returns the wait before retry number n (1-based): "equal jitter", between half and all of
// min(max, base*2^(n-1)), so that retries from many pollers spread out but never hammer.
func (b backoff) delay(n int) time.Duration {
	d := b.base
	for i := 1; i < n && d < b.max; i++ {
		d *= 2
	}
	if d > b.max {
		d = b.max
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// quota is what all pollers of one account and Region share: the rate limiter. The semaphore
// bounding in-flight requests is shared by the whole Manager.
type quota struct {
	limiter *rate.Limiter
}

// gate decorates a Client with the shared rate limiter, the in-flight bound, retries with
// jittered exponential back-off for throttling and transient failures, and call statistics. The
// SDK's own retryer is disabled (see newAWSClient) so that every attempt, retries included, waits
// on the shared limiter: the SDK's retry token bucket would otherwise make a poller fail fast after
// sustained throttling, and its retries would not count against our budget.
type gate struct {
	next    Client
	quota   *quota
	sem     chan struct{}
	clock   Clock
	backoff backoff
	stats   *callCounters
	// timeout is the deadline of each attempt (Options.RequestTimeout): a call that hangs is
	// abandoned, counted, logged and retried, so one slow answer cannot stall a source.
	timeout time.Duration
	log     *zap.Logger
}

var _ Client = (*gate)(nil)

// FilterLogEvents calls the wrapped client through the gate.
func (g *gate) FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	var out *cloudwatchlogs.FilterLogEventsOutput
	err := g.do(ctx, OpFilterLogEvents, func(ctx context.Context) error {
		var err error
		out, err = g.next.FilterLogEvents(ctx, in, optFns...)
		return err
	})
	return out, err
}

// DescribeLogGroups calls the wrapped client through the gate.
func (g *gate) DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	var out *cloudwatchlogs.DescribeLogGroupsOutput
	err := g.do(ctx, OpDescribeLogGroups, func(ctx context.Context) error {
		var err error
		out, err = g.next.DescribeLogGroups(ctx, in, optFns...)
		return err
	})
	return out, err
}

// do runs call until it succeeds, fails for good, or the attempts are used up.
func (g *gate) do(ctx context.Context, op Operation, call func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err, timedOut := g.attempt(ctx, call)
		class := classify(ctx, err)
		g.stats.recordLast(class, timedOut)
		if timedOut {
			class = classTransient
			g.stats.timeouts[op].Add(1)
			if g.log != nil {
				g.log.Warn("CloudWatch Logs call exceeded its deadline, abandoned and retried (counted in flowd_ingest_api_timeouts_total)",
					zap.Stringer("operation", op), zap.Duration("timeout", g.timeout), zap.Int("attempt", attempt))
			}
		}
		switch class {
		case classOK:
			g.stats.calls[op][OutcomeOK].Add(1)
			return nil
		case classCanceled:
			return err
		case classThrottled:
			g.stats.calls[op][OutcomeThrottled].Add(1)
		default:
			g.stats.calls[op][OutcomeError].Add(1)
		}
		if class != classThrottled && class != classTransient {
			return err
		}
		if g.backoff.maxAttempts > 0 && attempt >= g.backoff.maxAttempts {
			return fmt.Errorf("%s: giving up after %d attempts: %w", op, attempt, err)
		}
		g.stats.retries[op].Add(1)
		if err := sleep(ctx, g.clock, g.backoff.delay(attempt)); err != nil {
			return err
		}
	}
}

// attempt waits for an in-flight slot and a limiter token, then calls once within the deadline;
// timedOut says the deadline (not ctx) ended the call.
func (g *gate) attempt(ctx context.Context, call func(context.Context) error) (err error, timedOut bool) {
	if g.sem != nil {
		select {
		case g.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err(), false
		}
		defer func() { <-g.sem }()
	}
	if err := g.wait(ctx); err != nil {
		return err, false
	}
	if g.timeout <= 0 {
		return call(ctx), false
	}
	actx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	err = call(actx)
	return err, err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded)
}

// wait takes one token from the shared limiter, on the injected clock.
func (g *gate) wait(ctx context.Context) error {
	if g.quota == nil || g.quota.limiter == nil {
		return ctx.Err()
	}
	now := g.clock.Now()
	r := g.quota.limiter.ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("rate limiter: burst too small")
	}
	d := r.DelayFrom(now)
	if err := sleep(ctx, g.clock, d); err != nil {
		r.CancelAt(g.clock.Now())
		return err
	}
	return nil
}
