package emulator

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Operation names, as they appear after "Logs_20140328." in the X-Amz-Target header. They are the
// keys of Config.RateLimits and the op argument of SetFault.
const (
	OpCreateLogGroup     = "CreateLogGroup"
	OpCreateLogStream    = "CreateLogStream"
	OpPutLogEvents       = "PutLogEvents"
	OpDescribeLogGroups  = "DescribeLogGroups"
	OpDescribeLogStreams = "DescribeLogStreams"
	OpFilterLogEvents    = "FilterLogEvents"
	OpGetLogEvents       = "GetLogEvents"

	OpPutSubscriptionFilter       = "PutSubscriptionFilter"
	OpDescribeSubscriptionFilters = "DescribeSubscriptionFilters"
	OpDeleteSubscriptionFilter    = "DeleteSubscriptionFilter"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultMaxPageEvents is the most events one FilterLogEvents or GetLogEvents page holds (AWS: 10,000).
	DefaultMaxPageEvents = 10000
	// DefaultMaxPageBytes is the page size cap, counted as AWS counts it: message bytes + 26 per event.
	DefaultMaxPageBytes = 1 << 20
	// DefaultRegion and DefaultAccountID name the (fake) place the log groups live, for ARNs.
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "123456789012"
	// DefaultDeliveryInterval is how often RunSubscriptions delivers what became visible.
	DefaultDeliveryInterval = time.Second
)

// eventOverhead is the per-event byte count AWS adds to the message length when it sizes
// PutLogEvents batches and read pages.
const eventOverhead = 26

// defaultRates are the per-operation request rates (requests/s) used when Config.RateLimits does
// not name an operation; negative is unlimited. FilterLogEvents (5) and GetLogEvents (10) are
// AWS's account-wide quotas, DescribeLogStreams (25) is the rate in AWS's API model. The write
// operations are unlimited: AWS allows thousands of puts per second, and a simulator creating
// hundreds of streams under a frozen fake clock (whose buckets never refill) must not be throttled.
var defaultRates = [numOps]float64{
	opCreateLogGroup:     -1,
	opCreateLogStream:    -1,
	opPutLogEvents:       -1,
	opDescribeLogGroups:  25,
	opDescribeLogStreams: 25,
	opFilterLogEvents:    5,
	opGetLogEvents:       10,
	// AWS's subscription filter quotas are not modelled (set RateLimits to have some).
	opPutSubscriptionFilter:       -1,
	opDescribeSubscriptionFilters: -1,
	opDeleteSubscriptionFilter:    -1,
}

// Config configures a Server. The zero value is usable: real time, no visibility delay, AWS's
// quotas and page limits, no short pages, no retention expiry.
type Config struct {
	// Clock gives the current time; nil means time.Now. Ingestion times, visibility, retention,
	// rate limits and token expiry all read it, so a test can drive them with a fake clock.
	// Fault delays (FaultSlow) are real time.
	Clock func() time.Time
	// VisibilityDelay is how long after PutLogEvents an event becomes visible to reads: an event
	// is returned only when Clock() >= ingestionTime + VisibilityDelay (millisecond resolution).
	VisibilityDelay time.Duration
	// RateLimits maps an operation name (OpFilterLogEvents, ...) to its request rate in requests/s.
	// A missing or zero entry means the default (FilterLogEvents 5, GetLogEvents 10,
	// DescribeLogStreams and DescribeLogGroups 25, the write operations unlimited); a negative
	// one means unlimited. The burst is the rate rounded up (at least 1), like a bucket refilled each second.
	RateLimits map[string]float64
	// MaxPageEvents caps events per read page (0 = 10,000; at most 10,000). A request's limit
	// lowers it further.
	MaxPageEvents int
	// MaxPageBytes caps a read page's size, counted as message bytes + 26 per event (0 = 1 MB).
	MaxPageBytes int
	// ShortPageProbability is the chance, in [0, 1), that a FilterLogEvents page is cut short
	// (possibly empty) while still carrying a nextToken, as AWS may do.
	ShortPageProbability float64
	// Retention drops events whose timestamp is older than Clock()-Retention: reads no longer
	// return them, PutLogEvents rejects them (expiredLogEventEndIndex) and their memory is freed.
	// 0 keeps events forever (AWS's default retention).
	Retention time.Duration
	// Seed makes the random choices (short pages, fault probabilities, eventId suffixes)
	// reproducible.
	Seed int64
	// Region and AccountID are used in ARNs (defaults us-east-1 and 123456789012).
	// logGroupIdentifier ARNs must name them.
	Region    string
	AccountID string
	// AllowUnsigned accepts requests without an Authorization header. By default such a request
	// gets MissingAuthenticationTokenException, as AWS answers; any signature is accepted.
	AllowUnsigned bool

	// SubscriptionSink receives the records of subscription filters whose destination is a
	// Kinesis data stream of Region and AccountID (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME):
	// Put(NAME, partition key, data). nil means no stream exists: PutSubscriptionFilter then
	// fails as AWS does when it cannot deliver its test message. A *kinesisemu.Server fits.
	SubscriptionSink SubscriptionSink
	// SubscriptionDuplicateProbability is the chance, in [0, 1), that a delivered record is put
	// a second time (subscriptions deliver at least once; seeded by Seed).
	SubscriptionDuplicateProbability float64
	// DeliveryInterval is how often RunSubscriptions delivers (0 = 1s).
	DeliveryInterval time.Duration
}

// ConfigError names a Config field and why its value is unusable.
type ConfigError struct {
	Field  string
	Value  any
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("emulator config: %s = %v: %s", e.Field, e.Value, e.Reason)
}

// normalize validates cfg and returns it with defaults applied.
func (cfg Config) normalize() (Config, error) {
	var errs []error
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.VisibilityDelay < 0 {
		errs = append(errs, &ConfigError{"VisibilityDelay", cfg.VisibilityDelay, "must be >= 0"})
	}
	for name, r := range cfg.RateLimits {
		if _, ok := opByName(name); !ok {
			errs = append(errs, &ConfigError{"RateLimits[" + name + "]", r, "unknown operation"})
		} else if math.IsNaN(r) || math.IsInf(r, 0) {
			errs = append(errs, &ConfigError{"RateLimits[" + name + "]", r, "must be a finite number"})
		}
	}
	switch {
	case cfg.MaxPageEvents == 0:
		cfg.MaxPageEvents = DefaultMaxPageEvents
	case cfg.MaxPageEvents < 0 || cfg.MaxPageEvents > DefaultMaxPageEvents:
		errs = append(errs, &ConfigError{"MaxPageEvents", cfg.MaxPageEvents, "must be in 1..10000 (0 = 10000)"})
	}
	switch {
	case cfg.MaxPageBytes == 0:
		cfg.MaxPageBytes = DefaultMaxPageBytes
	case cfg.MaxPageBytes < eventOverhead+1:
		errs = append(errs, &ConfigError{"MaxPageBytes", cfg.MaxPageBytes, "must be at least 27 (one 1-byte event)"})
	}
	if !(cfg.ShortPageProbability >= 0 && cfg.ShortPageProbability < 1) {
		errs = append(errs, &ConfigError{"ShortPageProbability", cfg.ShortPageProbability, "must be in [0, 1)"})
	}
	if cfg.Retention < 0 {
		errs = append(errs, &ConfigError{"Retention", cfg.Retention, "must be >= 0 (0 = keep forever)"})
	}
	if !(cfg.SubscriptionDuplicateProbability >= 0 && cfg.SubscriptionDuplicateProbability < 1) {
		errs = append(errs, &ConfigError{"SubscriptionDuplicateProbability", cfg.SubscriptionDuplicateProbability, "must be in [0, 1)"})
	}
	switch {
	case cfg.DeliveryInterval == 0:
		cfg.DeliveryInterval = DefaultDeliveryInterval
	case cfg.DeliveryInterval < 0:
		errs = append(errs, &ConfigError{"DeliveryInterval", cfg.DeliveryInterval, "must be > 0 (0 = 1s)"})
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.AccountID == "" {
		cfg.AccountID = DefaultAccountID
	}
	return cfg, errors.Join(errs...)
}
