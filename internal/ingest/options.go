package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// GroupSpec names one log group to read (by name or ARN), optionally only the streams with a
// prefix (several specs with different prefixes split one huge group into several sources, which
// sharding can spread over replicas).
type GroupSpec struct {
	Name         string
	StreamPrefix string
	AWS          AWSSpec
}

// DiscoverySpec finds log groups by name prefix with DescribeLogGroups, re-run at
// Options.DiscoveryInterval: new groups start pollers, vanished ones stop.
type DiscoverySpec struct {
	Prefix       string
	StreamPrefix string
	AWS          AWSSpec
}

// Shard selects this replica's share of the sources: a source belongs to replica
// fnv32a(source name) % Count == Index. Count 0 or 1 means no sharding.
type Shard struct {
	Index, Count int
}

// owns reports whether the source name belongs to this shard.
func (s Shard) owns(name string) bool {
	if s.Count <= 1 {
		return true
	}
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	return int(h%uint32(s.Count)) == s.Index
}

// Options configure a Manager. The fields that are config keys (internal/config, documented in
// docs/configuration.md) have their defaults and user-facing validation there, and only there:
// config.Validate builds these Options once, and a Manager takes them as given. New still
// refuses values it cannot run with (an *OptionError), as a guard against a caller that skipped
// config; a user never sees those, config reports them by YAML key first. The last group of
// fields are internal tunables, not config keys; zero means the value given with each.
type Options struct {
	Groups    []GroupSpec
	Discovery []DiscoverySpec
	// DiscoveryInterval is how often DescribeLogGroups is re-run (ingest.discovery_interval).
	DiscoveryInterval time.Duration

	// PollInterval is the slice width and the idle poll period (ingest.poll_interval).
	PollInterval time.Duration
	// EarlyPasses are the lags after a slice's end at which it is read before its final pass
	// (ingest.early_passes); empty means none (cheapest: one read per event, but counts appear
	// only after MaxDelay+LateGrace).
	EarlyPasses []time.Duration
	// MaxDelay is the delivery delay within which every event is counted exactly once
	// (ingest.max_delay).
	MaxDelay time.Duration
	// LateGrace is added to MaxDelay for the final pass (ingest.late_grace); it covers clock
	// skew and events arriving a little later than MaxDelay (counted, and reported as late).
	LateGrace time.Duration

	// RequestsPerSecond is the shared FilterLogEvents/DescribeLogGroups budget per account and
	// Region (ingest.requests_per_second).
	RequestsPerSecond float64
	// MaxInFlight bounds concurrent API requests across all sources (ingest.max_in_flight).
	MaxInFlight int
	// RequestTimeout is the deadline of every API request (ingest.request_timeout): one that
	// takes longer is abandoned, counted in CallStats.Timeouts, logged and retried.
	RequestTimeout time.Duration

	// StartOffset is where a source without checkpoint starts, relative to now (≤ 0; 0 is now):
	// ingest.start_position.
	StartOffset time.Duration
	Shard       Shard

	// MaxDefer fills pages (ingest.max_defer): a due range is read once it is expected to hold
	// FillPages pages of PageLimit events, or once it has waited MaxDefer past its due time; 0
	// disables deferral. Deferral adds at most MaxDefer to the latency of counts and to the
	// dedup window; it cuts API calls several times at moderate event rates, where one slice
	// holds far less than a page.
	MaxDefer time.Duration

	// Internal tunables (not config keys).

	// Burst of the limiter (1).
	Burst int
	// BackoffBase and BackoffMax shape the jittered exponential back-off (200ms, 20s).
	BackoffBase, BackoffMax time.Duration
	// MaxAttempts per API call before the poller sees the error and retries later (8).
	MaxAttempts int
	// PageLimit is FilterLogEvents' limit (10000, the API's maximum).
	PageLimit int32
	// FillPages is the number of pages a deferred range waits for (3).
	FillPages int
	// MaxRangeSlices bounds the slices read by one pass iteration during a backlog, so positions
	// (and checkpoints) advance while catching up (20).
	MaxRangeSlices int
}

// resolved is Options after validation, in milliseconds where the scheduler needs it.
type resolved struct {
	Options
	width int64
	lags  []int64
}

func (o Options) resolve() (*resolved, error) {
	r := &resolved{Options: o}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&r.BackoffBase, 200*time.Millisecond)
	def(&r.BackoffMax, 20*time.Second)
	if r.Burst == 0 {
		r.Burst = 1
	}
	if r.MaxAttempts == 0 {
		r.MaxAttempts = 8
	}
	if r.PageLimit == 0 {
		r.PageLimit = 10000
	}
	if r.FillPages == 0 {
		r.FillPages = 3
	}
	if r.MaxRangeSlices == 0 {
		r.MaxRangeSlices = 20
	}
	final := r.MaxDelay + r.LateGrace

	var errs []error
	bad := func(field string, v any, reason string) {
		errs = append(errs, &OptionError{Field: field, Value: v, Reason: reason})
	}
	if r.PollInterval < time.Millisecond {
		bad("PollInterval", o.PollInterval, "must be at least 1ms")
	}
	if r.MaxDelay <= 0 {
		bad("MaxDelay", o.MaxDelay, "must be > 0")
	}
	if r.LateGrace < 0 {
		bad("LateGrace", o.LateGrace, "must be >= 0")
	}
	if !(r.RequestsPerSecond > 0) {
		bad("RequestsPerSecond", o.RequestsPerSecond, "must be > 0")
	}
	if r.Burst < 0 {
		bad("Burst", o.Burst, "must be >= 1")
	}
	if r.MaxInFlight < 1 {
		bad("MaxInFlight", o.MaxInFlight, "must be >= 1")
	}
	if r.RequestTimeout <= 0 {
		bad("RequestTimeout", o.RequestTimeout, "must be > 0")
	}
	if r.MaxAttempts < 0 {
		bad("MaxAttempts", o.MaxAttempts, "must be >= 1")
	}
	if r.PageLimit < 1 || r.PageLimit > 10000 {
		bad("PageLimit", o.PageLimit, "must be between 1 and 10000")
	}
	if r.FillPages < 0 {
		bad("FillPages", o.FillPages, "must be >= 1")
	}
	if r.MaxDefer < 0 {
		bad("MaxDefer", o.MaxDefer, "must be >= 0")
	}
	if r.MaxRangeSlices < 0 {
		bad("MaxRangeSlices", o.MaxRangeSlices, "must be >= 1")
	}
	if r.BackoffBase < 0 || r.BackoffMax < r.BackoffBase {
		bad("BackoffMax", o.BackoffMax, "must be >= BackoffBase >= 0")
	}
	if len(r.Discovery) > 0 && r.DiscoveryInterval <= 0 {
		bad("DiscoveryInterval", o.DiscoveryInterval, "must be > 0")
	}
	if r.StartOffset > 0 {
		bad("StartOffset", o.StartOffset, "must not be in the future (<= 0)")
	}
	for i, e := range r.EarlyPasses {
		switch {
		case e < 0:
			bad(fmt.Sprintf("EarlyPasses[%d]", i), e, "must be >= 0")
		case e >= final:
			bad(fmt.Sprintf("EarlyPasses[%d]", i), e, fmt.Sprintf("must be shorter than MaxDelay+LateGrace (%s)", final))
		case i > 0 && e <= r.EarlyPasses[i-1]:
			bad(fmt.Sprintf("EarlyPasses[%d]", i), e, "must be greater than the previous early pass")
		}
	}
	if r.Shard.Count < 0 || (r.Shard.Count > 0 && (r.Shard.Index < 0 || r.Shard.Index >= r.Shard.Count)) {
		bad("Shard", fmt.Sprintf("%d/%d", r.Shard.Index, r.Shard.Count), "index must be in [0, count)")
	}
	if len(r.Groups) == 0 && len(r.Discovery) == 0 {
		bad("Groups", len(r.Groups), "name at least one log group or a discovery prefix")
	}
	seen := map[string]bool{}
	for i, g := range r.Groups {
		if strings.TrimSpace(g.Name) == "" {
			bad(fmt.Sprintf("Groups[%d].Name", i), g.Name, "must not be empty")
			continue
		}
		n := sourceName(g.Name, g.StreamPrefix)
		if seen[n] {
			bad(fmt.Sprintf("Groups[%d]", i), n, "duplicate source")
		}
		seen[n] = true
	}
	for i, d := range r.Discovery {
		if d.Prefix == "" {
			bad(fmt.Sprintf("Discovery[%d].Prefix", i), d.Prefix, "must not be empty (it would read every group)")
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	r.width = r.PollInterval.Milliseconds()
	r.lags = make([]int64, 0, len(r.EarlyPasses)+1)
	for _, e := range r.EarlyPasses {
		r.lags = append(r.lags, e.Milliseconds())
	}
	r.lags = append(r.lags, final.Milliseconds())
	r.lags = slices.Compact(r.lags)
	return r, nil
}
