package kinesisemu_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/flowd-dev/flowd/internal/awscli"
	"github.com/flowd-dev/flowd/internal/kinesisemu"
)

// The AWS CLI (botocore: an independent implementation of the JSON protocol, base64 blobs and
// epoch timestamps) must read back what was put, through iterators and a split.
func TestCrossCheckWithAWSCLI(t *testing.T) {
	bin := awscli.Find(t)
	srv, err := kinesisemu.New(kinesisemu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	aws := func(out any, args ...string) {
		t.Helper()
		b := awscli.Run(t, bin, hs.URL, append([]string{"kinesis"}, args...)...)
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("aws %v: %v in %s", args, err, b)
			}
		}
	}
	aws(nil, "create-stream", "--stream-name", "flow", "--shard-count", "1")
	var put struct{ ShardId, SequenceNumber string }
	aws(&put, "put-record", "--stream-name", "flow", "--partition-key", "eni-1", "--data", "hello world") // CLI v1 encodes the text itself
	aws(nil, "split-shard", "--stream-name", "flow", "--shard-to-split", put.ShardId, "--new-starting-hash-key", "170141183460469231731687303715884105728")
	var shards struct {
		Shards []struct {
			ShardId, ParentShardId string
			SequenceNumberRange    struct{ StartingSequenceNumber, EndingSequenceNumber string }
		}
	}
	aws(&shards, "list-shards", "--stream-name", "flow")
	if len(shards.Shards) != 3 || shards.Shards[0].SequenceNumberRange.EndingSequenceNumber == "" || shards.Shards[1].ParentShardId != put.ShardId {
		t.Fatalf("list-shards after a split: %+v", shards)
	}
	var it struct{ ShardIterator string }
	aws(&it, "get-shard-iterator", "--stream-name", "flow", "--shard-id", put.ShardId, "--shard-iterator-type", "AT_SEQUENCE_NUMBER", "--starting-sequence-number", put.SequenceNumber)
	var recs struct {
		Records []struct {
			Data, SequenceNumber        string
			ApproximateArrivalTimestamp float64
		}
		NextShardIterator  *string
		MillisBehindLatest int64
		ChildShards        []struct{ ShardId string }
	}
	aws(&recs, "get-records", "--shard-iterator", it.ShardIterator)
	if len(recs.Records) != 1 || recs.Records[0].Data != "aGVsbG8gd29ybGQ=" || recs.Records[0].SequenceNumber != put.SequenceNumber || recs.Records[0].ApproximateArrivalTimestamp < 1e9 {
		t.Fatalf("get-records: %+v", recs)
	}
	if recs.NextShardIterator != nil || len(recs.ChildShards) != 2 {
		t.Fatalf("the closed parent read to its end: next %v, children %v", recs.NextShardIterator, recs.ChildShards)
	}
}
