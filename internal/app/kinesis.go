package app

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/kinesis"
	"github.com/flowd-dev/flowd/internal/lease"
	"github.com/flowd-dev/flowd/internal/metrics"
)

// KinesisClientFactory builds the Kinesis and DynamoDB clients of a Kinesis source (the seam
// the demo and tests use; the default is kinesis.NewAWSClients with the SDK's standard chain).
type KinesisClientFactory func(ctx context.Context, s config.Source) (kinesis.API, lease.DynamoDB, error)

// defaultKinesisClients builds the clients from the source's region, role and endpoints.
func defaultKinesisClients(logger *zap.Logger) KinesisClientFactory {
	return func(ctx context.Context, s config.Source) (kinesis.API, lease.DynamoDB, error) {
		spec := kinesis.AWSSpec{Region: s.Region, RoleARN: s.RoleARN, ExternalID: s.ExternalID,
			KinesisEndpoint: s.Endpoint, DynamoDBEndpoint: s.Kinesis.DynamoDBEndpoint}
		return kinesis.NewAWSClients(ctx, spec, awsconfig.WithLogger(sdkLogger{log: logger.Named("aws")}))
	}
}

// newKinesisSource builds the source of one Kinesis stream behind the source boundary. The
// lease table is created if missing; with a checkpoint file, a batch's lease checkpoint waits
// for the checkpoint that holds its counts (kinesis.IngestSource).
func (a *App) newKinesisSource(ctx context.Context, cfg *config.Config, s config.Source) (ingest.Source, error) {
	kin, db, err := a.kinesisClients(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("kinesis source %q: %w", s.Kinesis.Stream, err)
	}
	table, err := lease.NewTable(db, s.Kinesis.LeaseTable)
	if err != nil {
		return nil, fmt.Errorf("kinesis source %q: %w", s.Kinesis.Stream, err)
	}
	if err := table.Ensure(ctx); err != nil {
		return nil, fmt.Errorf("kinesis source %q: lease table %q: %w", s.Kinesis.Stream, s.Kinesis.LeaseTable, err)
	}
	opts := cfg.KinesisOptions(s, a.processOwner())
	src, err := kinesis.New(opts, kin, table, a.clock, a.log)
	if err != nil {
		return nil, err
	}
	a.log.Info("kinesis source", zap.String("stream", s.Kinesis.Stream), zap.String("lease_table", s.Kinesis.LeaseTable), zap.String("owner", opts.Owner))
	return kinesis.NewIngestSource(src, cfg.Checkpoint.Path != ""), nil
}

// processOwner is the lease owner made for this process when kinesis.owner is empty (kept
// across reloads, so that a reload does not look like a new replica to the others).
func (a *App) processOwner() string {
	a.ownerOnce.Do(func() { a.owner = kinesis.DefaultOwner() })
	return a.owner
}

// streams are the Kinesis sources of src.
func streams(src ingest.Source) []*kinesis.IngestSource {
	var out []*kinesis.IngestSource
	for _, p := range ingest.Parts(src) {
		if k, ok := p.(*kinesis.IngestSource); ok {
			out = append(out, k)
		}
	}
	return out
}

// kinesisViews are the running Kinesis sources' statistics, for the metrics collector.
func (a *App) kinesisViews() []metrics.KinesisView {
	a.kinesisMu.Lock()
	defer a.kinesisMu.Unlock()
	var out []metrics.KinesisView
	for _, k := range streams(a.currentSource()) {
		out = append(out, metrics.KinesisView{Stream: k.Stream(), Stats: k.KinesisStats().AddCounters(a.kinesisRetired[k.Stream()])})
	}
	return out
}

// retireStreams keeps the counters of old's Kinesis sources, replaced by a reload, so that a
// stream read on by the new source continues its counters instead of resetting them. The
// caller holds kinesisMu.
func (a *App) retireStreams(old ingest.Source) {
	if a.kinesisRetired == nil {
		a.kinesisRetired = map[string]kinesis.Stats{}
	}
	for _, k := range streams(old) {
		a.kinesisRetired[k.Stream()] = a.kinesisRetired[k.Stream()].AddCounters(k.KinesisStats())
	}
}

// closeStreams gives up the batches of src's Kinesis sources that no written checkpoint
// holds (their shards read them again), so that they stop: after a final checkpoint that
// failed, or a source switch that did.
func closeStreams(src ingest.Source) {
	for _, k := range streams(src) {
		k.Close()
	}
}
