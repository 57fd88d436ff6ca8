package ec2emu

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Action names, as sent in the Action parameter. They are the keys of Config.RateLimits,
// Config.Denied and the action argument of SetFault and SetDenied.
const (
	ActionDescribeFlowLogs          = "DescribeFlowLogs"
	ActionDescribeNetworkInterfaces = "DescribeNetworkInterfaces"
	ActionDescribeSubnets           = "DescribeSubnets"
	ActionDescribeVpcs              = "DescribeVpcs"
	ActionDescribeInstances         = "DescribeInstances"
)

// Actions lists the actions the emulator serves.
func Actions() []string {
	return append([]string(nil), actionNames[:]...)
}

type action int

const (
	actDescribeFlowLogs action = iota
	actDescribeNetworkInterfaces
	actDescribeSubnets
	actDescribeVpcs
	actDescribeInstances
	numActions
)

var actionNames = [numActions]string{
	actDescribeFlowLogs:          ActionDescribeFlowLogs,
	actDescribeNetworkInterfaces: ActionDescribeNetworkInterfaces,
	actDescribeSubnets:           ActionDescribeSubnets,
	actDescribeVpcs:              ActionDescribeVpcs,
	actDescribeInstances:         ActionDescribeInstances,
}

func actionByName(name string) (action, bool) {
	for a, n := range actionNames {
		if n == name {
			return action(a), true
		}
	}
	return 0, false
}

// APIVersion is the only EC2 API version served (every current SDK sends it).
const APIVersion = "2016-11-15"

// Defaults applied by New to zero Config fields.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "123456789012"
	// DefaultRate and DefaultBurst are AWS's request token bucket for non-mutating actions
	// (refill 20 tokens/s, capacity 100), one bucket per action.
	DefaultRate  = 20
	DefaultBurst = 100
)

// Config configures a Server. The zero value is usable: real time, AWS's request rates, every
// action allowed, signed requests required.
type Config struct {
	// Clock gives the current time (nil: time.Now). Rate limits and token expiry read it.
	// FaultSlow delays use timers, which are virtual inside a testing/synctest bubble.
	Clock func() time.Time
	// Region and AccountID are where the resources live (defaults us-east-1, 123456789012):
	// owner ids, ARNs and the principal named in UnauthorizedOperation messages.
	Region, AccountID string
	// RateLimits maps an action to its refill rate in requests/s (missing or 0: DefaultRate;
	// negative: unlimited). Each action has its own bucket of capacity Burst.
	RateLimits map[string]float64
	// Burst is every bucket's capacity (0: DefaultBurst).
	Burst int
	// Denied lists actions that answer UnauthorizedOperation (SetDenied changes it later).
	Denied []string
	// AllowUnsigned accepts requests without an Authorization header (AWS answers AuthFailure).
	AllowUnsigned bool
	// ShowManaged lists managed interfaces even without IncludeManagedResources (the account
	// setting "managed resource visibility: visible").
	ShowManaged bool
	// ShortPageProbability is the chance, in [0, 1), that a paged answer (MaxResults given)
	// holds fewer items than asked while more remain, with a nextToken: EC2 does this when it
	// filters after reading a page, and a client must keep paging.
	ShortPageProbability float64
	// Seed makes the short pages, fault probabilities and token nonces reproducible.
	Seed int64
}

// ConfigError names a bad Config field.
type ConfigError struct {
	Field  string
	Value  any
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("ec2 emulator config: %s = %v: %s", e.Field, e.Value, e.Reason)
}

func (c Config) normalize() (Config, error) {
	var errs []error
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.AccountID == "" {
		c.AccountID = DefaultAccountID
	}
	if c.Burst == 0 {
		c.Burst = DefaultBurst
	}
	if c.Burst < 0 {
		errs = append(errs, &ConfigError{"Burst", c.Burst, "must be >= 0"})
	}
	for name, r := range c.RateLimits {
		if _, ok := actionByName(name); !ok {
			errs = append(errs, &ConfigError{"RateLimits[" + name + "]", r, "unknown action"})
		}
		if math.IsNaN(r) || math.IsInf(r, 0) {
			errs = append(errs, &ConfigError{"RateLimits[" + name + "]", r, "must be a finite number"})
		}
	}
	if !(c.ShortPageProbability >= 0 && c.ShortPageProbability < 1) {
		errs = append(errs, &ConfigError{"ShortPageProbability", c.ShortPageProbability, "must be in [0, 1)"})
	}
	for i, name := range c.Denied {
		if _, ok := actionByName(name); !ok {
			errs = append(errs, &ConfigError{fmt.Sprintf("Denied[%d]", i), name, "unknown action"})
		}
	}
	return c, errors.Join(errs...)
}
