package inventory

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// API is the part of the EC2 client the inventory calls; *ec2.Client satisfies it. These five
// Describe actions are all the IAM permissions the inventory needs (docs/inventory.md).
type API interface {
	ec2.DescribeFlowLogsAPIClient
	ec2.DescribeNetworkInterfacesAPIClient
	ec2.DescribeSubnetsAPIClient
	ec2.DescribeVpcsAPIClient
	ec2.DescribeInstancesAPIClient
}

var _ API = (*ec2.Client)(nil)

// Clock is the inventory's time source (the same shape as ingest.Clock, so one clock serves
// both). Tests run in a testing/synctest bubble, where SystemClock is virtual.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After is time.After.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}

// Operation names an EC2 action in the statistics.
type Operation int

// The operations the inventory calls.
const (
	OpDescribeFlowLogs Operation = iota
	OpDescribeNetworkInterfaces
	OpDescribeSubnets
	OpDescribeVpcs
	OpDescribeInstances
	NumOperations
)

var opNames = [NumOperations]string{"DescribeFlowLogs", "DescribeNetworkInterfaces", "DescribeSubnets", "DescribeVpcs", "DescribeInstances"}

// String returns the EC2 action name (the metric label).
func (o Operation) String() string {
	if o >= 0 && o < NumOperations {
		return opNames[o]
	}
	return "unknown"
}

// Outcome classifies one API attempt.
type Outcome int

// The outcomes of an attempt.
const (
	OutcomeOK Outcome = iota
	OutcomeThrottled
	OutcomeUnauthorized
	OutcomeError
	NumOutcomes
)

var outcomeNames = [NumOutcomes]string{"ok", "throttled", "unauthorized", "error"}

// String returns the metric label: ok, throttled, unauthorized or error.
func (o Outcome) String() string {
	if o >= 0 && o < NumOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}
