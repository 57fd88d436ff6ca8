package aggregate

import (
	"errors"
	"fmt"
	"time"
)

// Limits on configuration values. They keep the ring, the key tables and the sketches to sizes
// that fit comfortably in memory whatever a configuration file says.
const (
	// maxRingBuckets bounds the number of window buckets (largest window plus lateness over the
	// bucket width).
	maxRingBuckets = 100_000
	// maxKeys bounds MaxPorts and MaxInterfaces: more would defeat the point of a cap.
	maxKeys = 1 << 22
	// maxTopK bounds TopK and HeavyHitterCapacity.
	maxTopK = 10_000
	// MaxDistinctPorts is how many distinct rejected destination ports are kept exactly per source
	// and bucket; past it the set saturates and reports "at least MaxDistinctPorts".
	MaxDistinctPorts = 64
)

// Config sets the shape and the limits of an Aggregator. Start from DefaultConfig.
type Config struct {
	// BucketWidth is the resolution of the sliding windows: a whole number of seconds, since
	// record times are Unix seconds.
	BucketWidth time.Duration
	// Windows are the sliding windows reported in snapshots, each a multiple of BucketWidth.
	Windows []time.Duration
	// AllowedLateness is how far behind the newest event time the watermark trails. A window
	// covers [watermark-W, watermark), so records up to this much older than the newest record
	// seen still land in buckets that no window has reported yet.
	AllowedLateness time.Duration
	// MaxClockSkew bounds how far in the future (by the injected clock) a record's start may be
	// and still move the watermark. Later records are counted in the cumulative counters and as
	// Future, but not in the windows: one bogus timestamp must not push every window into the
	// future and make all other records late.
	MaxClockSkew time.Duration
	// MaxPorts caps the distinct (protocol, service port) keys; new keys past it fold into the
	// protocol's "other" key.
	MaxPorts int
	// MaxInterfaces caps the distinct interface ids; new ids past it fold into "other".
	MaxInterfaces int
	// MaxTGWAttachments caps the distinct transit gateway attachment ids; new ids past it fold
	// into "other". 0 means 500.
	MaxTGWAttachments int
	// TopK is how many top talkers and top rejected sources a window reports.
	TopK int
	// HeavyHitterCapacity sets the accuracy of each bucket's heavy-hitter sketches: every key
	// with more than 1/(HeavyHitterCapacity+1) of a bucket's total is monitored. A sketch holds
	// up to twice that many entries. 0 means 4*TopK. More entries make the top-K more accurate
	// on flat distributions.
	HeavyHitterCapacity int
	// ScanPortThreshold is the number of distinct rejected destination ports in a window from
	// which a source is reported as a scan candidate (at most MaxDistinctPorts).
	ScanPortThreshold int
	// ServicePorts are ports that always win service-port attribution (see the package doc).
	// Their TCP and UDP keys are created at start, so they never fold into "other".
	ServicePorts []uint16
	// EphemeralStart is the first port treated as a client (ephemeral) port by service-port
	// attribution. The default, 1024, treats every non-privileged port as possibly ephemeral;
	// Linux clients use 32768-60999 and Windows 49152-65535, so 32768 is a better value for
	// fleets of Linux clients that talk to services on high ports.
	EphemeralStart uint16
}

// DefaultConfig returns the defaults: 10s buckets; 1m, 5m and 15m windows; 2m allowed lateness
// (a record's start may trail the newest one of the same delivery by the 1-minute aggregation
// interval plus up to 60s of capture delay, see the package doc); 5m clock skew; 1000 ports;
// 2000 interfaces; top 20; scan candidates from 20 distinct rejected ports; ephemeral ports from
// 1024.
func DefaultConfig() Config {
	return Config{
		BucketWidth:       10 * time.Second,
		Windows:           []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute},
		AllowedLateness:   2 * time.Minute,
		MaxClockSkew:      5 * time.Minute,
		MaxPorts:          1000,
		MaxInterfaces:     2000,
		TopK:              20,
		ScanPortThreshold: 20,
		EphemeralStart:    1024,
	}
}

// ConfigError is one invalid Config field.
type ConfigError struct {
	Field  string // the Config field, e.g. "Windows[1]"
	Value  any    // the offending value
	Reason string // what is wrong and what would be right
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("aggregate config: %s = %v: %s", e.Field, e.Value, e.Reason)
}

// Validate reports every invalid field, joined with errors.Join; each is a *ConfigError.
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, value any, reason string) {
		errs = append(errs, &ConfigError{Field: field, Value: value, Reason: reason})
	}
	if c.BucketWidth < time.Second || c.BucketWidth%time.Second != 0 {
		bad("BucketWidth", c.BucketWidth, "must be a whole number of seconds, at least 1s")
	}
	if len(c.Windows) == 0 {
		bad("Windows", c.Windows, "must name at least one window")
	}
	var largest time.Duration
	for i, w := range c.Windows {
		field := fmt.Sprintf("Windows[%d]", i)
		switch {
		case w <= 0:
			bad(field, w, "must be positive")
		case c.BucketWidth > 0 && w%c.BucketWidth != 0:
			bad(field, w, fmt.Sprintf("must be a multiple of BucketWidth (%s)", c.BucketWidth))
		}
		for j := range i {
			if c.Windows[j] == w {
				bad(field, w, fmt.Sprintf("duplicates Windows[%d]", j))
			}
		}
		largest = max(largest, w)
	}
	if c.AllowedLateness < 0 {
		bad("AllowedLateness", c.AllowedLateness, "must be ≥ 0")
	}
	if c.MaxClockSkew < 0 {
		bad("MaxClockSkew", c.MaxClockSkew, "must be ≥ 0")
	}
	if c.BucketWidth >= time.Second && c.AllowedLateness >= 0 && largest > 0 {
		if n := ringLen(c.BucketWidth, largest, c.AllowedLateness); n > maxRingBuckets {
			bad("Windows", c.Windows, fmt.Sprintf("largest window plus AllowedLateness needs %d buckets of %s, more than %d: use wider buckets", n, c.BucketWidth, maxRingBuckets))
		}
	}
	if c.MaxPorts < 1 || c.MaxPorts > maxKeys {
		bad("MaxPorts", c.MaxPorts, fmt.Sprintf("must be between 1 and %d", maxKeys))
	} else if 2*len(c.ServicePorts) > c.MaxPorts {
		bad("MaxPorts", c.MaxPorts, fmt.Sprintf("must be at least twice len(ServicePorts) (%d): each service port takes a TCP and a UDP key", len(c.ServicePorts)))
	}
	if c.MaxTGWAttachments < 0 || c.MaxTGWAttachments > maxKeys {
		bad("MaxTGWAttachments", c.MaxTGWAttachments, fmt.Sprintf("must be between 0 (the default) and %d", maxKeys))
	}
	if c.MaxInterfaces < 1 || c.MaxInterfaces > maxKeys {
		bad("MaxInterfaces", c.MaxInterfaces, fmt.Sprintf("must be between 1 and %d", maxKeys))
	}
	if c.TopK < 1 || c.TopK > maxTopK {
		bad("TopK", c.TopK, fmt.Sprintf("must be between 1 and %d", maxTopK))
	}
	if c.HeavyHitterCapacity != 0 && (c.HeavyHitterCapacity < c.TopK || c.HeavyHitterCapacity > 4*maxTopK) {
		bad("HeavyHitterCapacity", c.HeavyHitterCapacity, fmt.Sprintf("must be 0 (4*TopK) or between TopK and %d", 4*maxTopK))
	}
	if c.ScanPortThreshold < 1 || c.ScanPortThreshold > MaxDistinctPorts {
		bad("ScanPortThreshold", c.ScanPortThreshold, fmt.Sprintf("must be between 1 and %d", MaxDistinctPorts))
	}
	for i, p := range c.ServicePorts {
		if p == 0 {
			bad(fmt.Sprintf("ServicePorts[%d]", i), p, "must be a port between 1 and 65535")
		}
	}
	if c.EphemeralStart == 0 {
		bad("EphemeralStart", c.EphemeralStart, "must be between 1 and 65535 (1024 by default, 32768 for Linux clients)")
	}
	return errors.Join(errs...)
}

// capacity is the per-bucket Space-Saving capacity.
func (c Config) capacity() int {
	if c.HeavyHitterCapacity > 0 {
		return c.HeavyHitterCapacity
	}
	return 4 * c.TopK
}

// ringLen is the number of buckets the ring needs: every bucket from the oldest one the largest
// window covers to the newest one a record can fall in (the watermark trails the newest start by
// the lateness).
func ringLen(width, largest, lateness time.Duration) int64 {
	w := int64(width / time.Second)
	return int64(largest/time.Second)/w + ceilDiv(int64(lateness/time.Second), w) + 1
}

// ceilDiv is a/b rounded up, for a ≥ 0 and b > 0.
func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// floorDiv is a/b rounded toward negative infinity, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
