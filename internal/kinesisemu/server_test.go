package kinesisemu_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/flowd-dev/flowd/internal/awshttp"
	"github.com/flowd-dev/flowd/internal/emufault"
	"github.com/flowd-dev/flowd/internal/kinesisemu"
	"github.com/flowd-dev/flowd/internal/memnet"
)

func run(t *testing.T, cfg kinesisemu.Config, f func(t *testing.T, srv *kinesisemu.Server, c *kinesis.Client)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		srv, err := kinesisemu.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		l, stop := memnet.Serve(srv)
		defer stop()
		tr := l.Transport()
		defer tr.CloseIdleConnections()
		c := kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://kinesis.test"),
			Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
			HTTPClient:  awshttp.Wrap(&http.Client{Transport: tr}), Retryer: aws.NopRetryer{}})
		f(t, srv, c)
	})
}

var ctx = context.Background()

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprintf("not an API error: %v", err)
}

func iter(t *testing.T, c *kinesis.Client, shard string, typ types.ShardIteratorType, seq string, ts *time.Time) string {
	t.Helper()
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String("flow"), ShardId: &shard, ShardIteratorType: typ, Timestamp: ts}
	if seq != "" {
		in.StartingSequenceNumber = &seq
	}
	out, err := c.GetShardIterator(ctx, in)
	if err != nil {
		t.Fatalf("GetShardIterator %s %s: %v", shard, typ, err)
	}
	return *out.ShardIterator
}

// drain reads a shard to its current end (or its closed end), one call per second.
func drain(t *testing.T, c *kinesis.Client, it string) (recs []types.Record, last *kinesis.GetRecordsOutput) {
	t.Helper()
	for {
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: &it})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		time.Sleep(time.Second)
		recs = append(recs, out.Records...)
		if out.NextShardIterator == nil || len(out.Records) == 0 {
			return recs, out
		}
		it = *out.NextShardIterator
	}
}

func TestPutAndReadEveryShard(t *testing.T) {
	run(t, kinesisemu.Config{}, func(t *testing.T, _ *kinesisemu.Server, c *kinesis.Client) {
		if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("flow"), ShardCount: aws.Int32(2)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("flow"), ShardCount: aws.Int32(2)}); code(err) != "ResourceInUseException" {
			t.Fatalf("second CreateStream: %v", err)
		}
		var entries []types.PutRecordsRequestEntry
		for i := range 200 {
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("eni-%d", i)), Data: []byte(fmt.Sprintf("record %d", i))})
		}
		put, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("flow"), Records: entries})
		if err != nil || *put.FailedRecordCount != 0 {
			t.Fatalf("PutRecords: %v %v", err, put)
		}
		sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("flow")})
		if err != nil || *sum.StreamDescriptionSummary.OpenShardCount != 2 || sum.StreamDescriptionSummary.StreamStatus != types.StreamStatusActive {
			t.Fatalf("DescribeStreamSummary: %+v %v", sum, err)
		}
		ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("flow"), MaxResults: aws.Int32(1)})
		if err != nil || len(ls.Shards) != 1 || ls.NextToken == nil {
			t.Fatalf("ListShards page 1: %+v %v", ls, err)
		}
		ls2, err := c.ListShards(ctx, &kinesis.ListShardsInput{NextToken: ls.NextToken})
		if err != nil || len(ls2.Shards) != 1 || ls2.NextToken != nil || *ls2.Shards[0].ShardId == *ls.Shards[0].ShardId {
			t.Fatalf("ListShards page 2: %+v %v", ls2, err)
		}
		total := 0
		for _, sh := range append(ls.Shards, ls2.Shards...) {
			recs, last := drain(t, c, iter(t, c, *sh.ShardId, types.ShardIteratorTypeTrimHorizon, "", nil))
			for i := 1; i < len(recs); i++ {
				if *recs[i].SequenceNumber <= *recs[i-1].SequenceNumber {
					t.Fatalf("sequence numbers not increasing: %s then %s", *recs[i-1].SequenceNumber, *recs[i].SequenceNumber)
				}
			}
			if *last.MillisBehindLatest != 0 || last.NextShardIterator == nil {
				t.Fatalf("caught up: behind %d, next %v", *last.MillisBehindLatest, last.NextShardIterator)
			}
			if len(recs) < 50 {
				t.Fatalf("%s holds %d records; MD5 routing should spread 200 keys", *sh.ShardId, len(recs))
			}
			total += len(recs)
		}
		if total != 200 {
			t.Fatalf("read %d records, want 200", total)
		}
	})
}

func TestIteratorTypesAndExpiry(t *testing.T) {
	run(t, kinesisemu.Config{}, func(t *testing.T, srv *kinesisemu.Server, c *kinesis.Client) {
		if err := srv.CreateStream("flow", 1); err != nil {
			t.Fatal(err)
		}
		var seqs []string
		for i := range 5 {
			_, sq, err := srv.Put("flow", "k", []byte{byte(i)})
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, sq)
			time.Sleep(time.Minute)
		}
		sh := "shardId-000000000000"
		first := func(it string) []byte {
			out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: &it, Limit: aws.Int32(1)})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			if len(out.Records) == 0 {
				return nil
			}
			return out.Records[0].Data
		}
		if got := first(iter(t, c, sh, types.ShardIteratorTypeAtSequenceNumber, seqs[2], nil)); !bytes.Equal(got, []byte{2}) {
			t.Errorf("AT_SEQUENCE_NUMBER: %v", got)
		}
		if got := first(iter(t, c, sh, types.ShardIteratorTypeAfterSequenceNumber, seqs[2], nil)); !bytes.Equal(got, []byte{3}) {
			t.Errorf("AFTER_SEQUENCE_NUMBER: %v", got)
		}
		ts := time.Now().Add(-150 * time.Second) // between the 3rd and 4th put... 4th was put 2m before the last sleep ended
		if got := first(iter(t, c, sh, types.ShardIteratorTypeAtTimestamp, "", &ts)); !bytes.Equal(got, []byte{3}) {
			t.Errorf("AT_TIMESTAMP: %v", got)
		}
		latest := iter(t, c, sh, types.ShardIteratorTypeLatest, "", nil)
		if got := first(latest); got != nil {
			t.Errorf("LATEST before a put: %v", got)
		}
		if _, _, err := srv.Put("flow", "k", []byte{9}); err != nil {
			t.Fatal(err)
		}
		if got := first(latest); !bytes.Equal(got, []byte{9}) {
			t.Errorf("LATEST after a put: %v", got)
		}
		// MillisBehindLatest while records remain: the age of the last record returned.
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(iter(t, c, sh, types.ShardIteratorTypeTrimHorizon, "", nil)), Limit: aws.Int32(1)})
		if err != nil || *out.MillisBehindLatest < int64(5*time.Minute/time.Millisecond) {
			t.Fatalf("behind = %v (%v), want at least 5 minutes", out.MillisBehindLatest, err)
		}
		time.Sleep(5*time.Minute + time.Second)
		if _, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: out.NextShardIterator}); code(err) != "ExpiredIteratorException" {
			t.Fatalf("iterator after 5m: %v", err)
		}
		var expired *types.ExpiredIteratorException
		if _, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: out.NextShardIterator}); !errors.As(err, &expired) {
			t.Fatalf("typed ExpiredIteratorException: %v", err)
		}
		bad := *out.NextShardIterator
		bad = bad[:len(bad)-2] + "AA"
		if _, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: &bad}); code(err) != "InvalidArgumentException" {
			t.Fatalf("garbled iterator: %v", err)
		}
		if _, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("flow"), ShardId: &sh,
			ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String("12")}); code(err) != "InvalidArgumentException" {
			t.Fatalf("bad sequence number: %v", err)
		}
	})
}

func TestReadLimits(t *testing.T) {
	run(t, kinesisemu.Config{}, func(t *testing.T, srv *kinesisemu.Server, c *kinesis.Client) {
		if err := srv.CreateStream("flow", 1); err != nil {
			t.Fatal(err)
		}
		sh := "shardId-000000000000"
		it := iter(t, c, sh, types.ShardIteratorTypeTrimHorizon, "", nil)
		var pte *types.ProvisionedThroughputExceededException
		for i := range 6 {
			_, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: &it})
			if (i < 5) != (err == nil) || (i == 5 && !errors.As(err, &pte)) {
				t.Fatalf("call %d in one second: %v", i+1, err)
			}
		}
		time.Sleep(time.Second)
		// 6 MB in the shard: one read returns them all, then the shard refuses reads until the
		// 2 MB/s budget has paid the debt back (about 2 s beyond the first).
		for range 6 {
			if _, _, err := srv.Put("flow", "k", bytes.Repeat([]byte{'x'}, 1<<20-1)); err != nil {
				t.Fatal(err)
			}
		}
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: &it})
		if err != nil || len(out.Records) != 6 {
			t.Fatalf("big read: %d records, %v", len(out.Records), err)
		}
		time.Sleep(time.Second)
		if _, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: out.NextShardIterator}); !errors.As(err, &pte) {
			t.Fatalf("read 1 s after 6 MB: %v, want ProvisionedThroughputExceededException", err)
		}
		time.Sleep(2 * time.Second)
		if _, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: out.NextShardIterator}); err != nil {
			t.Fatalf("read 3 s after 6 MB: %v", err)
		}
		if srv.Throttled(kinesisemu.OpGetRecords) != 2 {
			t.Fatalf("throttled = %d, want 2", srv.Throttled(kinesisemu.OpGetRecords))
		}
		// Writes: 1 MiB/s per shard.
		_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("flow"), PartitionKey: aws.String("k"), Data: bytes.Repeat([]byte{'y'}, 1<<20-1)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("flow"), PartitionKey: aws.String("k"), Data: []byte("z")}); !errors.As(err, &pte) {
			t.Fatalf("second MiB in a second: %v", err)
		}
	})
}

func TestSplitAndMerge(t *testing.T) {
	run(t, kinesisemu.Config{}, func(t *testing.T, srv *kinesisemu.Server, c *kinesis.Client) {
		if err := srv.CreateStream("flow", 1); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if _, _, err := srv.Put("flow", fmt.Sprint(i), []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		p := "shardId-000000000000"
		if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("flow"), ShardToSplit: &p,
			NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("flow"), ShardToSplit: &p,
			NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); code(err) != "ResourceInUseException" {
			t.Fatalf("split of a closed shard: %v", err)
		}
		for i := range 10 {
			if _, _, err := srv.Put("flow", fmt.Sprint(i), []byte{byte(10 + i)}); err != nil {
				t.Fatal(err)
			}
		}
		recs, last := drain(t, c, iter(t, c, p, types.ShardIteratorTypeTrimHorizon, "", nil))
		if len(recs) != 10 || last.NextShardIterator != nil || len(last.ChildShards) != 2 {
			t.Fatalf("parent: %d records, next %v, children %d", len(recs), last.NextShardIterator, len(last.ChildShards))
		}
		ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("flow")})
		if err != nil || len(ls.Shards) != 3 {
			t.Fatalf("ListShards: %v %v", ls, err)
		}
		if ls.Shards[0].SequenceNumberRange.EndingSequenceNumber == nil || *ls.Shards[1].ParentShardId != p || *ls.Shards[2].ParentShardId != p {
			t.Fatalf("after split: %+v", ls.Shards)
		}
		if *ls.Shards[0].SequenceNumberRange.EndingSequenceNumber >= *ls.Shards[1].SequenceNumberRange.StartingSequenceNumber {
			t.Fatalf("children start before the parent ends")
		}
		n := 0
		for _, ch := range ls.Shards[1:] {
			r, _ := drain(t, c, iter(t, c, *ch.ShardId, types.ShardIteratorTypeTrimHorizon, "", nil))
			n += len(r)
		}
		if n != 10 {
			t.Fatalf("children hold %d records, want 10", n)
		}
		a, b := *ls.Shards[1].ShardId, *ls.Shards[2].ShardId
		if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("flow"), ShardToMerge: &p, AdjacentShardToMerge: &a}); code(err) != "ResourceInUseException" {
			t.Fatalf("merge with a closed shard: %v", err)
		}
		if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("flow"), ShardToMerge: &a, AdjacentShardToMerge: &b}); err != nil {
			t.Fatal(err)
		}
		ls, _ = c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("flow")})
		m := ls.Shards[3]
		if *m.ParentShardId != a || *m.AdjacentParentShardId != b || *m.HashKeyRange.StartingHashKey != "0" || *m.HashKeyRange.EndingHashKey != "340282366920938463463374607431768211455" {
			t.Fatalf("merged shard: %+v", m)
		}
	})
}

func TestFaults(t *testing.T) {
	run(t, kinesisemu.Config{}, func(t *testing.T, srv *kinesisemu.Server, c *kinesis.Client) {
		if err := srv.CreateStream("flow", 1); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			kind emufault.Kind
			want string
		}{{emufault.Throttle, "ProvisionedThroughputExceededException"}, {emufault.InternalError, "InternalFailure"}, {emufault.Unavailable, "ServiceUnavailable"}} {
			if err := srv.SetFault(kinesisemu.OpListShards, emufault.Fault{Kind: tc.kind, Count: 1}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("flow")}); code(err) != tc.want {
				t.Errorf("%v: %v", tc.kind, err)
			}
		}
		if err := srv.SetFault(kinesisemu.OpListShards, emufault.Fault{Kind: emufault.Disconnect, Count: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("flow")}); err == nil {
			t.Fatal("disconnect: no error")
		}
		if err := srv.SetFault(kinesisemu.OpListShards, emufault.Fault{Kind: emufault.Slow, Count: 1, Delay: 30 * time.Second}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("flow")}); err != nil || time.Since(start) != 30*time.Second {
			t.Fatalf("slow: %v after %v", err, time.Since(start))
		}
		if _, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("nope")}); code(err) != "ResourceNotFoundException" {
			t.Fatalf("missing stream: %v", err)
		}
	})
}
