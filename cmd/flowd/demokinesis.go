package main

import (
	"context"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/app"
	"github.com/flowd-dev/flowd/internal/awshttp"
	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/dynamoemu"
	"github.com/flowd-dev/flowd/internal/emulator"
	flowdkinesis "github.com/flowd-dev/flowd/internal/kinesis"
	"github.com/flowd-dev/flowd/internal/kinesisemu"
	"github.com/flowd-dev/flowd/internal/lease"
)

// The demo's sources: flowd polls the CloudWatch Logs emulator (FilterLogEvents), or reads a
// Kinesis data stream that subscription filters on the demo's log groups write into.
const (
	demoSourceCloudWatch = "cloudwatch"
	demoSourceKinesis    = "kinesis"
)

const (
	demoStream     = "flowd-demo"
	demoShards     = 2
	demoLeaseTable = "flowd-demo-leases"
	// demoSplitShard is split while the backfill goes into the stream, so the demo shows (and
	// its test checks) a reshard: parents read to their end before their children.
	demoSplitShard = "shardId-000000000000"
	// demoDuplicates is the share of subscription records CloudWatch Logs (the emulator) puts
	// twice: at-least-once delivery, which flowd drops by log event id.
	demoDuplicates = 0.05
	// demoSubscriptionRole is the role CloudWatch Logs would assume to write into the stream
	// (the emulator checks its shape only).
	demoSubscriptionRole = "arn:aws:iam::" + emulator.DefaultAccountID + ":role/flowd-demo-subscription"
)

// demoKinesisConfig is the flowd config of the demo with --demo.source=kinesis: one Kinesis
// source for both demo groups, each with its format, a lease table flowd creates in the
// DynamoDB emulator, and leases shorter than the default, so the children of the split shard
// are taken within seconds. The inventory names the interfaces (names: true; there is no
// discovery without polling).
const demoKinesisConfig = `sources:
  - kinesis_stream: %[1]s
    region: %[2]s
    endpoint: %[3]s
    dynamodb_endpoint: %[4]s
    lease_table: %[5]s
    log_groups:
      %[6]s: "%[7]s"
      %[8]s: "%[9]s"
kinesis:
  lease_duration: 6s
  initial_position: trim_horizon
checkpoint:
  path: %[10]s
  interval: 2s
aggregate:
  dimensions: [vpc_id, subnet_id]
inventory:
  names: true
  refresh_interval: 30s
  requests_per_second: 20
  ip_ranges_file: %[11]s
`

// demoKinesis is the Kinesis side of the demo: the Kinesis and DynamoDB emulators on their
// ports, the stream, and the subscription sink that splits a shard on the way.
type demoKinesis struct {
	kin               *kinesisemu.Server
	kinURL, dynamoURL string
	sink              *splittingSink
	stops             []func(context.Context) error
}

// startKinesis starts the Kinesis emulator (with the demo's 2-shard stream) and the DynamoDB
// emulator. The emulators' clocks are the wall clock, as the CloudWatch Logs emulator's.
func (c *demoCommand) startKinesis(log *zap.Logger) (*demoKinesis, error) {
	kin, err := kinesisemu.New(kinesisemu.Config{Region: demoRegion})
	if err != nil {
		return nil, fmt.Errorf("kinesis emulator: %w", err)
	}
	if err := kin.CreateStream(demoStream, demoShards); err != nil {
		return nil, fmt.Errorf("kinesis emulator: %w", err)
	}
	db, err := dynamoemu.New(dynamoemu.Config{Region: demoRegion})
	if err != nil {
		return nil, fmt.Errorf("dynamodb emulator: %w", err)
	}
	d := &demoKinesis{kin: kin}
	if d.kinURL, err = d.serve(kin, *c.kinesisAddr); err != nil {
		d.stop(context.Background())
		return nil, fmt.Errorf("kinesis emulator (choose another address with --demo.kinesis-address): %w", err)
	}
	if d.dynamoURL, err = d.serve(db, *c.dynamoAddr); err != nil {
		d.stop(context.Background())
		return nil, fmt.Errorf("dynamodb emulator (choose another address with --demo.dynamodb-address): %w", err)
	}
	split, err := splitAtMiddle(kinesis.New(kinesis.Options{Region: demoRegion, BaseEndpoint: aws.String(d.kinURL),
		Credentials: demoCredentials, Retryer: aws.NopRetryer{}, HTTPClient: awshttp.New()}))
	if err != nil {
		d.stop(context.Background())
		return nil, err
	}
	// A third of the backfill's records: CloudWatch Logs puts one record per log stream per
	// delivery, and the backfill arrives in the first deliveries.
	d.sink = &splittingSink{next: kin, after: int64(max(1, *c.interfaces/3)), split: split, log: log}
	return d, nil
}

func (d *demoKinesis) serve(h http.Handler, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	d.stops = append(d.stops, emulator.Serve(h, ln))
	return "http://" + ln.Addr().String(), nil
}

func (d *demoKinesis) stop(ctx context.Context) {
	for _, stop := range d.stops {
		_ = stop(ctx)
	}
}

// splitAtMiddle returns a function splitting demoSplitShard in two halves of its hash range.
func splitAtMiddle(kc *kinesis.Client) (func() error, error) {
	shards, err := kc.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: aws.String(demoStream)})
	if err != nil {
		return nil, fmt.Errorf("kinesis emulator: %w", err)
	}
	var at string
	for _, sh := range shards.Shards {
		if aws.ToString(sh.ShardId) != demoSplitShard {
			continue
		}
		lo, ok1 := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.StartingHashKey), 10)
		hi, ok2 := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.EndingHashKey), 10)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("kinesis emulator: shard %s has hash keys %v", demoSplitShard, sh.HashKeyRange)
		}
		at = new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1).String()
	}
	if at == "" {
		return nil, fmt.Errorf("kinesis emulator: stream %s has no shard %s", demoStream, demoSplitShard)
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(demoStream),
			ShardToSplit: aws.String(demoSplitShard), NewStartingHashKey: aws.String(at)})
		return err
	}, nil
}

// splittingSink is the CloudWatch Logs emulator's subscription sink: the Kinesis emulator,
// with demoSplitShard split once `after` data records are in the stream. Puts come one at a
// time from the emulator's delivery rounds (and its test messages), so every record after the
// split goes to the children.
type splittingSink struct {
	next      emulator.SubscriptionSink
	records   func() int64 // data records delivered so far; set before the first filter exists
	after     int64
	split     func() error
	log       *zap.Logger
	triggered atomic.Bool
	done      atomic.Bool
}

func (s *splittingSink) Put(stream, pk string, data []byte) (string, string, error) {
	if s.records != nil && s.records() >= s.after && s.triggered.CompareAndSwap(false, true) {
		if err := s.split(); err != nil {
			s.log.Error("demo: split shard failed", zap.String("shard", demoSplitShard), zap.Error(err))
		} else {
			s.done.Store(true)
			s.log.Info("demo: split shard", zap.String("stream", demoStream), zap.String("shard", demoSplitShard), zap.Int64("after_records", s.after))
		}
	}
	return s.next.Put(stream, pk, data)
}

// subscribe puts a subscription filter (all events) on each group into the demo stream,
// through the SDK as a user would.
func subscribe(ctx context.Context, logs *cloudwatchlogs.Client, groups ...string) error {
	dest := "arn:aws:kinesis:" + demoRegion + ":" + emulator.DefaultAccountID + ":stream/" + demoStream
	for _, g := range groups {
		if _, err := logs.PutSubscriptionFilter(ctx, &cloudwatchlogs.PutSubscriptionFilterInput{
			LogGroupName: aws.String(g), FilterName: aws.String("flowd-demo"), FilterPattern: aws.String(""),
			DestinationArn: aws.String(dest), RoleArn: aws.String(demoSubscriptionRole),
		}); err != nil {
			return fmt.Errorf("subscription filter on %s: %w", g, err)
		}
	}
	return nil
}

// demoCredentials are the throw-away credentials every demo client signs with.
var demoCredentials = credentials.NewStaticCredentialsProvider("demo", "demo", "")

// kinesisClients builds the Kinesis source's clients with the demo's credentials.
func kinesisClients() app.KinesisClientFactory {
	return func(ctx context.Context, s config.Source) (flowdkinesis.API, lease.DynamoDB, error) {
		spec := flowdkinesis.AWSSpec{Region: demoRegion, KinesisEndpoint: s.Endpoint, DynamoDBEndpoint: s.Kinesis.DynamoDBEndpoint}
		return flowdkinesis.NewAWSClients(ctx, spec, awsconfig.WithCredentialsProvider(demoCredentials))
	}
}
