package ingest

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// Client is the narrow CloudWatch Logs API that ingest uses. *cloudwatchlogs.Client satisfies it;
// tests pass a scripted stub or a real client pointed at the emulator.
type Client interface {
	cloudwatchlogs.FilterLogEventsAPIClient
	cloudwatchlogs.DescribeLogGroupsAPIClient
}

// AWSSpec says how to reach one account and Region. Empty fields fall back to the SDK's standard
// configuration (AWS_REGION, AWS_ENDPOINT_URL[_CLOUDWATCH_LOGS], the default credential chain).
type AWSSpec struct {
	Region     string
	RoleARN    string // assumed through STS when set (cross-account)
	ExternalID string // passed to AssumeRole when set
	Endpoint   string // explicit endpoint URL, e.g. the emulator's
}

// quotaKey identifies the FilterLogEvents quota an AWSSpec draws on: one per account (role) and
// Region (and endpoint, so that an emulator never shares a budget with AWS).
func (a AWSSpec) quotaKey() string {
	return a.Region + "\x00" + a.RoleARN + "\x00" + a.Endpoint
}

// ClientFactory returns a Client for an AWSSpec. Implementations may cache clients.
type ClientFactory interface {
	Client(ctx context.Context, spec AWSSpec) (Client, error)
}

// ClientFactoryFunc adapts a function to ClientFactory.
type ClientFactoryFunc func(ctx context.Context, spec AWSSpec) (Client, error)

// Client calls f.
func (f ClientFactoryFunc) Client(ctx context.Context, spec AWSSpec) (Client, error) {
	return f(ctx, spec)
}
