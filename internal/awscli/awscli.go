// Package awscli runs the AWS CLI in the emulators' cross-check tests. The CLI is built on
// botocore, a client of the AWS protocols written independently of aws-sdk-go-v2, so an
// emulator both clients read alike follows the protocol and not one SDK's habits. CI installs
// it (scripts/ci.d/00-deps.sh, Debian package awscli); the runs use throw-away credentials and
// none of the host's AWS configuration.
package awscli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Find returns the path of the aws CLI. Without one the test fails in CI (CI=true) and is
// skipped elsewhere.
func Find(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the aws CLI is not on PATH; CI installs it in scripts/ci.d/00-deps.sh (Debian package awscli)")
		}
		t.Skip("the aws CLI is not on PATH: install it (apt-get install -y awscli) to run the cross-check")
	}
	return bin
}

// Try runs `aws <args> --endpoint-url endpoint --output json` (args begin with the service and
// the operation) and returns its output, its error output and how it ended.
func Try(t testing.TB, bin, endpoint string, args ...string) (stdout []byte, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "--endpoint-url", endpoint, "--output", "json")...)
	home := t.TempDir()
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_PAGER=", "AWS_CONFIG_FILE=" + home + "/config", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/credentials",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.String(), err
}

// Run is Try for a call that must succeed: a failure fails the test with the CLI's error output.
func Run(t testing.TB, bin, endpoint string, args ...string) []byte {
	t.Helper()
	out, stderr, err := Try(t, bin, endpoint, args...)
	if err != nil {
		t.Fatalf("aws %v: %v\n%s", args, err, stderr)
	}
	return out
}
