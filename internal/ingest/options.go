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

// Options configure a Manager. Zero values take the documented defaults.
type Options struct {
	Groups    []GroupSpec
	Discovery []DiscoverySpec
	// DiscoveryInterval is how often DescribeLogGroups is re-run (default 5m).
	DiscoveryInterval time.Duration

	// PollInterval is the slice width and the idle poll period (default 30s).
	PollInterval time.Duration
	// EarlyPasses are the lags after a slice's end at which it is read before its final pass.
	// nil means the default, [5m] (or a quarter of the final lag if that is shorter); a non-nil
	// empty slice means none (cheapest: one read per event, but counts appear only after
	// MaxDelay+LateGrace).
	EarlyPasses []time.Duration
	// MaxDelay is the delivery delay within which every event is counted exactly once (default 15m).
	MaxDelay time.Duration
	// LateGrace is added to MaxDelay for the final pass (default 5m); it covers clock skew and
	// events arriving a little later than MaxDelay (counted, and reported as late).
	LateGrace time.Duration

	// RequestsPerSecond is the shared FilterLogEvents/DescribeLogGroups budget per account and
	// Region (default 5, the AWS quota; lower it when others share the account).
	RequestsPerSecond float64
	// Burst of the limiter (default 1).
	Burst int
	// MaxInFlight bounds concurrent API requests across all sources (default 4).
	MaxInFlight int
	// BackoffBase and BackoffMax shape the jittered exponential back-off (defaults 200ms, 20s).
	BackoffBase, BackoffMax time.Duration
	// MaxAttempts per API call before the poller sees the error and retries later (default 8).
	MaxAttempts int

	// StartPosition is where a source without checkpoint starts: "now" (default) or a negative
	// duration such as "-1h".
	StartPosition string
	Shard         Shard

	// PageLimit is FilterLogEvents' limit (default and maximum 10000).
	PageLimit int32
	// FillPages and MaxDefer fill pages: a due range is read once it is expected to hold
	// FillPages pages of PageLimit events, or once it has waited MaxDefer past its due time
	// (defaults 3 and 2m; MaxDefer < 0 disables deferral). Deferral adds at most MaxDefer to the
	// latency of counts and to the dedup window; it cuts API calls several times at moderate
	// event rates, where one slice holds far less than a page.
	FillPages int
	MaxDefer  time.Duration
	// MaxRangeSlices bounds the slices read by one pass iteration during a backlog, so positions
	// (and checkpoints) advance while catching up (default 20).
	MaxRangeSlices int
}

// resolved is Options after defaults and validation, in milliseconds where the scheduler needs it.
type resolved struct {
	Options
	width    int64
	lags     []int64
	startOff time.Duration
}

// DefaultEarlyPass is the default lag of the early pass.
const DefaultEarlyPass = 5 * time.Minute

func (o Options) resolve() (*resolved, error) {
	r := &resolved{Options: o}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&r.PollInterval, 30*time.Second)
	def(&r.MaxDelay, 15*time.Minute)
	def(&r.LateGrace, 5*time.Minute)
	def(&r.DiscoveryInterval, 5*time.Minute)
	def(&r.BackoffBase, 200*time.Millisecond)
	def(&r.BackoffMax, 20*time.Second)
	if r.RequestsPerSecond == 0 {
		r.RequestsPerSecond = 5
	}
	if r.Burst == 0 {
		r.Burst = 1
	}
	if r.MaxInFlight == 0 {
		r.MaxInFlight = 4
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
	def(&r.MaxDefer, 2*time.Minute)
	if r.MaxRangeSlices == 0 {
		r.MaxRangeSlices = 20
	}
	if r.StartPosition == "" {
		r.StartPosition = "now"
	}
	final := r.MaxDelay + r.LateGrace
	if r.EarlyPasses == nil {
		e := DefaultEarlyPass
		if e >= final {
			e = final / 4
		}
		r.EarlyPasses = []time.Duration{e}
	}

	var errs []error
	bad := func(field string, v any, reason string) {
		errs = append(errs, &OptionError{Field: field, Value: v, Reason: reason})
	}
	if r.PollInterval < time.Millisecond {
		bad("PollInterval", o.PollInterval, "must be at least 1ms")
	}
	if r.MaxDelay < 0 {
		bad("MaxDelay", o.MaxDelay, "must be >= 0")
	}
	if r.LateGrace < 0 {
		bad("LateGrace", o.LateGrace, "must be >= 0")
	}
	if r.RequestsPerSecond < 0 {
		bad("RequestsPerSecond", o.RequestsPerSecond, "must be > 0")
	}
	if r.Burst < 0 {
		bad("Burst", o.Burst, "must be >= 1")
	}
	if r.MaxInFlight < 0 {
		bad("MaxInFlight", o.MaxInFlight, "must be >= 1")
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
	if r.MaxRangeSlices < 0 {
		bad("MaxRangeSlices", o.MaxRangeSlices, "must be >= 1")
	}
	if r.BackoffBase < 0 || r.BackoffMax < r.BackoffBase {
		bad("BackoffMax", o.BackoffMax, "must be >= BackoffBase >= 0")
	}
	if r.DiscoveryInterval < 0 {
		bad("DiscoveryInterval", o.DiscoveryInterval, "must be > 0")
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
	off, err := parseStartPosition(r.StartPosition)
	if err != nil {
		bad("StartPosition", o.StartPosition, err.Error())
	}
	r.startOff = off
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

// parseStartPosition accepts "now" or a negative duration ("-1h", "-90m").
func parseStartPosition(s string) (time.Duration, error) {
	if s == "now" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`must be "now" or a negative duration like "-1h"`)
	}
	if d > 0 {
		return 0, fmt.Errorf(`must not be in the future; use "now" or a negative duration like "-1h"`)
	}
	return d, nil
}
