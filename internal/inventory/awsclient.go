package inventory

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/flowd-dev/flowd/internal/awshttp"
)

// ClientSpec says where an inventory's EC2 client points: a Region, optionally a role to
// assume (another account) and an endpoint (the emulator).
type ClientSpec struct {
	Region, RoleARN, ExternalID, Endpoint string
}

// LimiterKey is the key of the shared budget of spec in Limiters: EC2 throttles per account
// and Region, and a role names an account.
func (spec ClientSpec) LimiterKey() string {
	return spec.RoleARN + "|" + spec.Region + "|" + spec.Endpoint
}

// NewAWSClient builds an EC2 client with the SDK's default configuration chain (environment,
// shared config, IRSA, ECS task role, instance role; AWS_ENDPOINT_URL_EC2 applies), the role of
// spec if any, the SDK's retryer off (every attempt goes through the inventory's limiter) and
// flowd's HTTP client (internal/awshttp).
func NewAWSClient(ctx context.Context, spec ClientSpec, opts ...func(*config.LoadOptions) error) (*ec2.Client, error) {
	cfg, err := awshttp.LoadConfig(ctx, spec.Region, awshttp.Role{ARN: spec.RoleARN, ExternalID: spec.ExternalID, SessionName: "flowd-inventory"}, "the discovery rule's region", opts...)
	if err != nil {
		return nil, err
	}
	return ec2.NewFromConfig(cfg, func(o *ec2.Options) {
		o.Retryer = aws.NopRetryer{}
		o.HTTPClient = awshttp.Wrap(o.HTTPClient)
		if spec.Endpoint != "" {
			o.BaseEndpoint = aws.String(spec.Endpoint)
		}
	}), nil
}
