package dynamoemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/dynamoemu"
)

// The AWS CLI (botocore: its own JSON 1.0 serializer, error parser and X-Amz-Crc32 check) must
// see the same fencing as the SDK: a conditional update on the lease counter succeeds once.
func TestCrossCheckWithAWSCLI(t *testing.T) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the aws CLI is not on PATH; CI installs it (Debian package awscli)")
		}
		t.Skip("the aws CLI is not on PATH: install it (apt-get install -y awscli) to run the cross-check")
	}
	srv, err := dynamoemu.New(dynamoemu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	home := t.TempDir()
	aws := func(out any, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"dynamodb", "--endpoint-url", hs.URL, "--output", "json"}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=SECRET",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1", "AWS_CONFIG_FILE=" + home + "/none", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/none"}
		b, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return string(ee.Stderr)
			}
			t.Fatalf("aws %v: %v", args, err)
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
