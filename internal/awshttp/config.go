package awshttp

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Role is an IAM role to assume (another account): its ARN, the external id its trust policy
// asks for, and the session name that shows in CloudTrail.
type Role struct {
	ARN, ExternalID, SessionName string
}

// LoadConfig loads the SDK's default configuration chain (environment, shared config, IRSA,
// ECS task role, instance role) plus opts, in region when it is not "", with role's
// credentials when role.ARN is set. whose names what sets the region, for the error when none
// is found ("the source's region"). Every AWS client of flowd starts here, then sets its own
// retryer, endpoint and Wrap'd HTTP client in its service options.
func LoadConfig(ctx context.Context, region string, role Role, whose string, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts = append([]func(*config.LoadOptions) error(nil), opts...)
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config (region %q): %w", region, err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("load AWS config: no region: set AWS_REGION or %s", whose)
	}
	if role.ARN != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), role.ARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = role.SessionName
			if role.ExternalID != "" {
				o.ExternalID = aws.String(role.ExternalID)
			}
		}))
	}
	return cfg, nil
}
