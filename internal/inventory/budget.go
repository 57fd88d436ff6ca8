package inventory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"
)

// Limiters hands out one rate.Limiter per key (account or role, Region, endpoint), so that
// every inventory calling EC2 in one account and Region shares one budget. The EC2 request
// bucket is per account and Region and shared with every other tool, so flowd asks little.
type Limiters struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// For returns the limiter of key, creating it with rps and burst on first use (later calls
// keep the first settings).
func (l *Limiters) For(key string, rps float64, burst int) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*rate.Limiter{}
	}
	if lim, ok := l.m[key]; ok {
		return lim
	}
	lim := rate.NewLimiter(rate.Limit(rps), max(1, burst))
	l.m[key] = lim
	return lim
}

// ErrUnauthorized marks a call refused for want of permission (UnauthorizedOperation): not
// retried, reported once, and the inventory carries on without that part.
var ErrUnauthorized = errors.New("not authorized")

// unauthorizedCodes are the codes of a missing permission or a refused identity.
var unauthorizedCodes = map[string]bool{"UnauthorizedOperation": true, "AccessDenied": true, "AccessDeniedException": true, "AuthFailure": true}

var throttleCodes = map[string]bool{"RequestLimitExceeded": true, "Throttling": true, "ThrottlingException": true}

type errClass int

const (
	classOK errClass = iota
	classCanceled
	classThrottled
	classUnauthorized
	classTransient
	classPermanent
)

func classify(ctx context.Context, err error) errClass {
	if err == nil {
		return classOK
	}
	if ctx.Err() != nil {
		return classCanceled
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch code := ae.ErrorCode(); {
		case throttleCodes[code]:
			return classThrottled
		case unauthorizedCodes[code]:
			return classUnauthorized
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		if s := re.HTTPStatusCode(); s >= 500 || s == 200 { // 200: the body broke off
			return classTransient
		}
		return classPermanent
	}
	// No HTTP status: a transport failure (connection refused or reset, timeout), worth a retry.
	return classTransient
}

// backoff is jittered exponential back-off ("equal jitter": between half and all of
// min(max, base*2^(n-1))).
type backoff struct {
	base, max   time.Duration
	maxAttempts int
}

func (b backoff) delay(n int, r *rand.Rand) time.Duration {
	d := b.base
	for i := 1; i < n && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + time.Duration(r.Int64N(int64(d-half)+1))
}

// gate runs every EC2 call through the shared limiter, retries throttling and transient
// failures with back-off, and counts attempts. The SDK's retryer must be off (aws.NopRetryer)
// so that every attempt spends from the shared budget.
type gate struct {
	lim     *rate.Limiter
	clock   Clock
	backoff backoff

	rngMu sync.Mutex
	rng   *rand.Rand

	calls   [NumOperations][NumOutcomes]atomic.Uint64
	retries [NumOperations]atomic.Uint64
}

func (g *gate) do(ctx context.Context, op Operation, call func() error) error {
	for attempt := 1; ; attempt++ {
		if err := g.wait(ctx); err != nil {
			return err
		}
		err := call()
		class := classify(ctx, err)
		switch class {
		case classOK:
			g.calls[op][OutcomeOK].Add(1)
			return nil
		case classCanceled:
			return err
		case classThrottled:
			g.calls[op][OutcomeThrottled].Add(1)
		case classUnauthorized:
			g.calls[op][OutcomeUnauthorized].Add(1)
			return fmt.Errorf("%s: %w: %w", op, ErrUnauthorized, err)
		default:
			g.calls[op][OutcomeError].Add(1)
		}
		if class == classPermanent {
			return fmt.Errorf("%s: %w", op, err)
		}
		if g.backoff.maxAttempts > 0 && attempt >= g.backoff.maxAttempts {
			return fmt.Errorf("%s: giving up after %d attempts: %w", op, attempt, err)
		}
		g.retries[op].Add(1)
		g.rngMu.Lock()
		d := g.backoff.delay(attempt, g.rng)
		g.rngMu.Unlock()
		if err := sleep(ctx, g.clock, d); err != nil {
			return err
		}
	}
}

// wait takes a token from the shared limiter, sleeping on the injected clock.
func (g *gate) wait(ctx context.Context) error {
	if g.lim == nil {
		return ctx.Err()
	}
	now := g.clock.Now()
	r := g.lim.ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("rate limiter: burst below 1")
	}
	if err := sleep(ctx, g.clock, r.DelayFrom(now)); err != nil {
		r.CancelAt(g.clock.Now())
		return err
	}
	return nil
}
