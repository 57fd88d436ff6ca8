package kinesis_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	kds "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/flowd-dev/flowd/internal/dynamoemu"
	"github.com/flowd-dev/flowd/internal/kinesis"
	"github.com/flowd-dev/flowd/internal/kinesisemu"
	"github.com/flowd-dev/flowd/internal/lease"
)

func TestNewAWSClientsReachTheEndpoints(t *testing.T) {
	t.Parallel()
	kin, _ := kinesisemu.New(kinesisemu.Config{})
	if err := kin.CreateStream("flow-logs", 3); err != nil {
		t.Fatal(err)
	}
	dyn, _ := dynamoemu.New(dynamoemu.Config{})
	ks, ds := httptest.NewServer(kin), httptest.NewServer(dyn)
	defer ks.Close()
	defer ds.Close()
	ctx := context.Background()
	k, d, err := kinesis.NewAWSClients(ctx, kinesis.AWSSpec{Region: "eu-west-1", KinesisEndpoint: ks.URL, DynamoDBEndpoint: ds.URL},
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")))
	if err != nil {
		t.Fatal(err)
	}
	out, err := k.ListShards(ctx, &kds.ListShardsInput{StreamName: aws.String("flow-logs")})
	if err != nil || len(out.Shards) != 3 {
		t.Fatalf("ListShards: %v %v", out, err)
	}
	tab, _ := lease.NewTable(d, "flowd-leases")
	if err := tab.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if o1, o2 := kinesis.DefaultOwner(), kinesis.DefaultOwner(); o1 == o2 || !strings.Contains(o1, "-") {
		t.Fatalf("owners %q and %q", o1, o2)
	}
}
