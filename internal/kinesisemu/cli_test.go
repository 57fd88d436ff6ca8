package kinesisemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/kinesisemu"
)

// The AWS CLI (botocore: an independent implementation of the JSON protocol, base64 blobs and
// epoch timestamps) must read back what was put, through iterators and a split.
func TestCrossCheckWithAWSCLI(t *testing.T) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the aws CLI is not on PATH; CI installs it (Debian package awscli)")
		}
		t.Skip("the aws CLI is not on PATH: install it (apt-get install -y awscli) to run the cross-check")
	}
	srv, err := kinesisemu.New(kinesisemu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	home := t.TempDir()
	aws := func(out any, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"kinesis", "--endpoint-url", hs.URL, "--output", "json"}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=SECRET",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1", "AWS_CONFIG_FILE=" + home + "/none", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/none"}
		b, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("aws %v: %v: %s", args, err, ee.Stderr)
			}
			t.Fatalf("aws %v: %v", args, err)
		}
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
