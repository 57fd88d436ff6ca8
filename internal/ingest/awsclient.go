package ingest

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/flowd-dev/flowd/internal/awshttp"
)

// AWSClients builds real CloudWatch Logs clients with the SDK's default configuration chain
// (environment, shared config, IRSA web identity, ECS task role, instance role), one per AWSSpec,
// cached. AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_CLOUDWATCH_LOGS apply as usual.
type AWSClients struct {
	// LoadOptions are passed to config.LoadDefaultConfig (tests set static credentials here).
	LoadOptions []func(*config.LoadOptions) error

	mu    sync.Mutex
	cache map[AWSSpec]Client
}

var _ ClientFactory = (*AWSClients)(nil)

// NewAWSClients returns a factory using the default configuration chain plus opts.
func NewAWSClients(opts ...func(*config.LoadOptions) error) *AWSClients {
	return &AWSClients{LoadOptions: opts, cache: make(map[AWSSpec]Client)}
}

// Client returns the cached client for spec, building it on first use.
//
// The SDK's retryer is replaced by aws.NopRetryer: every retry goes through ingest's own gate,
// which waits on the shared per-account rate limiter before each attempt and backs off with
// jitter without limit of time. The SDK's standard retryer would retry outside our budget (a
// retry storm spends quota that other pollers and humans share) and, after sustained throttling,
// its retry token bucket empties and calls fail fast with "retry quota exceeded".
func (f *AWSClients) Client(ctx context.Context, spec AWSSpec) (Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cache == nil {
		f.cache = make(map[AWSSpec]Client)
	}
	if c, ok := f.cache[spec]; ok {
		return c, nil
	}
	cfg, err := awshttp.LoadConfig(ctx, spec.Region, awshttp.Role{ARN: spec.RoleARN, ExternalID: spec.ExternalID, SessionName: "flowd"}, "the source's region", f.LoadOptions...)
	if err != nil {
		return nil, err
	}
	c := cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
		o.Retryer = aws.NopRetryer{}
		o.HTTPClient = awshttp.Wrap(o.HTTPClient) // keeps what the loader set (AWS_CA_BUNDLE); see internal/awshttp
		if spec.Endpoint != "" {
			o.BaseEndpoint = aws.String(spec.Endpoint)
		}
	})
	f.cache[spec] = c
	return c, nil
}
