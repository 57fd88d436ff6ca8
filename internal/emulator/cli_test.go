package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// The AWS CLI (botocore: an independent implementation of the protocol, the signing and the
// paginator) must see exactly the events GroundTruth lists, through short and empty pages.
func TestCrossCheckWithAWSCLI(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the aws CLI is not on PATH; CI installs it in scripts/ci.d/00-deps.sh (Debian package awscli)")
		}
		t.Skip("the aws CLI is not on PATH: install it (apt-get install -y awscli) to run the cross-check")
	}
	e := newEnv(t, Config{ShortPageProbability: 0.5, Seed: 11, VisibilityDelay: time.Minute})
	base := e.clock.Now().Add(-20 * time.Minute).UnixMilli()
	tricky := []string{`quote " and backslash \`, "tab\tand newline\n", "unicode: élan ✓ 日本", "<html> & ampersand"}
	for s := 0; s < 4; s++ {
		evs := seqEvents(fmt.Sprintf("eni-%d REJECT", s), base+int64(s), 997, 60)
		evs = append(evs, InputEvent{Timestamp: evs[len(evs)-1].Timestamp, Message: tricky[s]})
		e.mustPut(t, testGroup, fmt.Sprintf("eni-%d-all", s), evs)
	}
	e.clock.Advance(time.Minute)
	e.mustPut(t, testGroup, "eni-0-all", []InputEvent{{base, "put last: not visible yet"}})
	var want []Event
	for _, ev := range e.srv.GroundTruth(testGroup) {
		if ev.Message != "put last: not visible yet" {
			want = append(want, ev)
		}
	}

	cases := []struct {
		name string
		args []string
		want []Event
	}{
		{"whole group, page size 7", []string{"--page-size", "7"}, want},
		{"prefix and pattern", []string{"--log-stream-name-prefix", "eni-1", "--filter-pattern", "REJECT"}, filterEvents(want, func(ev Event) bool {
			return ev.LogStreamName == "eni-1-all" && ev.Message != tricky[1]
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			args := append([]string{"logs", "filter-log-events", "--endpoint-url", e.url, "--log-group-name", testGroup, "--output", "json"}, tc.args...)
			cmd := exec.CommandContext(ctx, bin, args...)
			home := t.TempDir()
			cmd.Env = []string{
				"PATH=" + os.Getenv("PATH"), "HOME=" + home,
				"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
				"AWS_PAGER=", "AWS_CONFIG_FILE=" + home + "/config", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/credentials",
				"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("aws %v: %v\n%s", args, err, stderr.String())
			}
			var out struct {
				Events []struct {
					LogStreamName string `json:"logStreamName"`
					Timestamp     int64  `json:"timestamp"`
					Message       string `json:"message"`
					IngestionTime int64  `json:"ingestionTime"`
					EventID       string `json:"eventId"`
				} `json:"events"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
				t.Fatalf("decode CLI output: %v\n%s", err, stdout.String())
			}
			if len(out.Events) != len(tc.want) {
				t.Fatalf("the CLI saw %d events, ground truth has %d", len(out.Events), len(tc.want))
			}
			for i, w := range tc.want {
				g := out.Events[i]
				if g.EventID != w.EventID || g.Timestamp != w.Timestamp || g.IngestionTime != w.IngestionTime ||
					g.LogStreamName != w.LogStreamName || g.Message != w.Message {
					t.Fatalf("event %d: CLI %+v, ground truth %+v", i, g, w)
				}
			}
		})
	}
	// 244 events in pages of at most 7 (some cut short): the CLI had to follow many tokens.
	if st := e.srv.Stats(); st.Pages < 244/7 || st.EmptyPages == 0 || st.Ops[OpFilterLogEvents].Errors != 0 {
		t.Errorf("stats %+v: want over 34 pages, some empty, no errors", st)
	}
}

func filterEvents(evs []Event, keep func(Event) bool) []Event {
	var out []Event
	for _, ev := range evs {
		if keep(ev) {
			out = append(out, ev)
		}
	}
	return out
}
