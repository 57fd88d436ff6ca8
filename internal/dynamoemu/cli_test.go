package dynamoemu_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowd-dev/flowd/internal/awscli"
	"github.com/flowd-dev/flowd/internal/dynamoemu"
)

// The AWS CLI (botocore: its own JSON 1.0 serializer, error parser and X-Amz-Crc32 check) must
// see the same fencing as the SDK: a conditional update on the lease counter succeeds once.
func TestCrossCheckWithAWSCLI(t *testing.T) {
	bin := awscli.Find(t)
	srv, err := dynamoemu.New(dynamoemu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	// aws runs a dynamodb operation; it returns the CLI's error output if the call failed.
	aws := func(out any, args ...string) string {
		t.Helper()
		b, stderr, err := awscli.Try(t, bin, hs.URL, append([]string{"dynamodb"}, args...)...)
		if err != nil {
			return stderr
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("aws %v: %v in %s", args, err, b)
			}
		}
		return ""
	}
	if e := aws(nil, "create-table", "--table-name", "leases", "--attribute-definitions", "AttributeName=leaseKey,AttributeType=S",
		"--key-schema", "AttributeName=leaseKey,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST"); e != "" {
		t.Fatal(e)
	}
	if e := aws(nil, "put-item", "--table-name", "leases", "--item", `{"leaseKey":{"S":"shard-0"},"leaseCounter":{"N":"0"}}`,
		"--condition-expression", "attribute_not_exists(leaseKey)"); e != "" {
		t.Fatal(e)
	}
	update := func() string {
		return aws(nil, "update-item", "--table-name", "leases", "--key", `{"leaseKey":{"S":"shard-0"}}`,
			"--update-expression", "SET leaseCounter = leaseCounter + :one, leaseOwner = :o",
			"--condition-expression", "leaseCounter = :c", "--expression-attribute-values", `{":one":{"N":"1"},":c":{"N":"0"},":o":{"S":"cli"}}`)
	}
	if e := update(); e != "" {
		t.Fatalf("first fenced update: %s", e)
	}
	if e := update(); !strings.Contains(e, "ConditionalCheckFailedException") {
		t.Fatalf("second fenced update at the same counter: %q, want ConditionalCheckFailedException", e)
	}
	var got struct {
		Item map[string]map[string]string
	}
	if e := aws(&got, "get-item", "--table-name", "leases", "--key", `{"leaseKey":{"S":"shard-0"}}`, "--consistent-read"); e != "" {
		t.Fatal(e)
	}
	if got.Item["leaseCounter"]["N"] != "1" || got.Item["leaseOwner"]["S"] != "cli" {
		t.Fatalf("get-item: %+v", got.Item)
	}
}
