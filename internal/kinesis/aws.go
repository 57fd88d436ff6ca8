package kinesis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	kds "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/flowd-dev/flowd/internal/awshttp"
)

// AWSSpec says how to reach the stream and the lease table.
type AWSSpec struct {
	Region     string // "" = the SDK's (AWS_REGION, shared config)
	RoleARN    string // assumed for both clients when set
	ExternalID string
	// Endpoints override the SDK's (the emulators); AWS_ENDPOINT_URL_KINESIS and
	// AWS_ENDPOINT_URL_DYNAMODB work as usual too.
	KinesisEndpoint, DynamoDBEndpoint string
}

// NewAWSClients builds the Kinesis and DynamoDB clients with the SDK's default configuration
// chain plus opts. Both use aws.NopRetryer: the source backs off on its own (throttling is
// paced per shard, not retried blindly), and a lease write must never be retried by the SDK: a
// conditional write whose first attempt was applied but whose answer was lost would fail its
// retry on the counter it just moved and look like a lost lease. internal/lease reads such
// writes back instead.
func NewAWSClients(ctx context.Context, spec AWSSpec, opts ...func(*config.LoadOptions) error) (*kds.Client, *dynamodb.Client, error) {
	cfg, err := awshttp.LoadConfig(ctx, spec.Region, awshttp.Role{ARN: spec.RoleARN, ExternalID: spec.ExternalID, SessionName: "flowd"}, "the source's region", opts...)
	if err != nil {
		return nil, nil, err
	}
	k := kds.NewFromConfig(cfg, func(o *kds.Options) {
		o.Retryer = aws.NopRetryer{}
		o.HTTPClient = awshttp.Wrap(o.HTTPClient)
		if spec.KinesisEndpoint != "" {
			o.BaseEndpoint = aws.String(spec.KinesisEndpoint)
		}
	})
	d := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.Retryer = aws.NopRetryer{}
		o.HTTPClient = awshttp.Wrap(o.HTTPClient)
		if spec.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(spec.DynamoDBEndpoint)
		}
	})
	return k, d, nil
}

// DefaultOwner is a lease owner id unique to this process: the host name and a random suffix,
// so that a restarted replica never mistakes its predecessor's leases for its own.
func DefaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "flowd"
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return host + "-" + hex.EncodeToString(b[:])
}
