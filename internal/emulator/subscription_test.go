package emulator

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkhttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/flowd-dev/flowd/internal/subscription"
)

const (
	testStreamARN = "arn:aws:kinesis:us-east-1:123456789012:stream/flow"
	testRoleARN   = "arn:aws:iam::123456789012:role/cwl-to-kinesis"
)

// sinkRecord is one Put a recordingSink took.
type sinkRecord struct {
	stream, pk string
	data       []byte
}

// recordingSink keeps every record put into it; fail, if set, decides whether a Put fails.
type recordingSink struct {
	mu      sync.Mutex
	records []sinkRecord
	fail    func(n int) bool // n: the Put's number, from 0, failed ones included
	calls   int
}

var errSinkThrottled = errors.New("ProvisionedThroughputExceededException: Rate exceeded for shard")

func (s *recordingSink) Put(stream, pk string, data []byte) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.calls
	s.calls++
	if s.fail != nil && s.fail(n) {
		return "", "", errSinkThrottled
	}
	s.records = append(s.records, sinkRecord{stream, pk, data})
	return "shardId-000000000000", "1", nil
}

func (s *recordingSink) taken() []sinkRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkRecord(nil), s.records...)
}

// decodeAll decodes records, copying what the decoder's buffers hold.
func decodeAll(t testing.TB, recs []sinkRecord) []subscription.Message {
	t.Helper()
	var d subscription.Decoder
	var out []subscription.Message
	for i, r := range recs {
		var m subscription.Message
		if err := d.Decode(r.data, &m); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		// The decoder's strings point into its buffers: clone what outlives the next Decode.
		c := subscription.Message{MessageType: strings.Clone(m.MessageType), Owner: strings.Clone(m.Owner),
			LogGroup: strings.Clone(m.LogGroup), LogStream: strings.Clone(m.LogStream)}
		for _, f := range m.SubscriptionFilters {
			c.SubscriptionFilters = append(c.SubscriptionFilters, strings.Clone(f))
		}
		for _, ev := range m.LogEvents {
			c.LogEvents = append(c.LogEvents, subscription.LogEvent{ID: strings.Clone(ev.ID), Timestamp: ev.Timestamp, Message: strings.Clone(ev.Message)})
		}
		out = append(out, c)
	}
	return out
}

func putFilter(name, pattern, dest string) *cloudwatchlogs.PutSubscriptionFilterInput {
	return &cloudwatchlogs.PutSubscriptionFilterInput{LogGroupName: aws.String(testGroup), FilterName: aws.String(name),
		FilterPattern: aws.String(pattern), DestinationArn: aws.String(dest), RoleArn: aws.String(testRoleARN)}
}

func describeFilters(t *testing.T, c *cloudwatchlogs.Client, in *cloudwatchlogs.DescribeSubscriptionFiltersInput) []types.SubscriptionFilter {
	t.Helper()
	var out []types.SubscriptionFilter
	p := cloudwatchlogs.NewDescribeSubscriptionFiltersPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("DescribeSubscriptionFilters: %v", err)
		}
		out = append(out, page.SubscriptionFilters...)
	}
	return out
}

// The life of subscription filters through the SDK: create (with its test message), describe,
// update, the quota of two per group, delete.
func TestSubscriptionFilterLifecycle(t *testing.T) {
	t.Parallel()
	sink := &recordingSink{}
	e := newEnv(t, Config{SubscriptionSink: sink})
	e.mustPut(t, testGroup, "eni-1-all", nil)
	ctx := context.Background()
	created := e.clock.Now().UnixMilli()

	if _, err := e.client.PutSubscriptionFilter(ctx, putFilter("to-flow", "", testStreamARN)); err != nil {
		t.Fatalf("PutSubscriptionFilter: %v", err)
	}
	recs := sink.taken()
	if len(recs) != 1 || recs[0].stream != "flow" {
		t.Fatalf("records after creating a filter: %+v, want one control message into flow", recs)
	}
	msgs := decodeAll(t, recs)
	if !msgs[0].Control() || msgs[0].Owner != "CloudwatchLogs" || len(msgs[0].LogEvents) != 1 ||
		msgs[0].LogEvents[0].Message != controlMessage || msgs[0].LogEvents[0].Timestamp != created {
		t.Errorf("control message %+v", msgs[0])
	}

	got := describeFilters(t, e.client, &cloudwatchlogs.DescribeSubscriptionFiltersInput{LogGroupName: aws.String(testGroup)})
	if len(got) != 1 {
		t.Fatalf("filters %+v, want one", got)
	}
	f := got[0]
	if aws.ToString(f.FilterName) != "to-flow" || aws.ToString(f.LogGroupName) != testGroup || aws.ToString(f.FilterPattern) != "" ||
		aws.ToString(f.DestinationArn) != testStreamARN || aws.ToString(f.RoleArn) != testRoleARN ||
		f.Distribution != types.DistributionByLogStream || aws.ToInt64(f.CreationTime) != created {
		t.Errorf("described %+v", f)
	}

	// Same name: an update, no new test message (same destination), the creation time kept.
	e.clock.Advance(1000)
	up := putFilter("to-flow", "REJECT", testStreamARN)
	up.Distribution = types.DistributionRandom
	if _, err := e.client.PutSubscriptionFilter(ctx, up); err != nil {
		t.Fatalf("update: %v", err)
	}
	if _, err := e.client.PutSubscriptionFilter(ctx, putFilter("another", "ACCEPT", "arn:aws:kinesis:us-east-1:123456789012:stream/other")); err != nil {
		t.Fatalf("second filter: %v", err)
	}
	if recs := sink.taken(); len(recs) != 2 || recs[1].stream != "other" {
		t.Errorf("records %+v, want the two control messages (flow, other)", recs)
	}
	_, err := e.client.PutSubscriptionFilter(ctx, putFilter("third", "", testStreamARN))
	if apiCode(err) != CodeLimitExceeded || !strings.Contains(err.Error(), "Resource limit exceeded.") {
		t.Errorf("third filter: err = %v, want LimitExceededException", err)
	}
	if st := e.srv.Stats(); st.Subscriptions.ControlMessages != 2 || st.Ops[OpPutSubscriptionFilter].Errors != 1 {
		t.Errorf("stats %+v, want 2 control messages and 1 refused put", st)
	}

	got = describeFilters(t, e.client, &cloudwatchlogs.DescribeSubscriptionFiltersInput{LogGroupName: aws.String(testGroup), Limit: aws.Int32(1)})
	if len(got) != 2 || aws.ToString(got[0].FilterName) != "another" || aws.ToString(got[1].FilterName) != "to-flow" {
		t.Fatalf("filters by pages of 1: %+v, want another, to-flow", got)
	}
	if f := got[1]; aws.ToString(f.FilterPattern) != "REJECT" || f.Distribution != types.DistributionRandom || aws.ToInt64(f.CreationTime) != created {
		t.Errorf("updated filter %+v", f)
	}
	got = describeFilters(t, e.client, &cloudwatchlogs.DescribeSubscriptionFiltersInput{LogGroupName: aws.String(testGroup), FilterNamePrefix: aws.String("to-")})
	if len(got) != 1 || aws.ToString(got[0].FilterName) != "to-flow" {
		t.Errorf("prefix to-: %+v", got)
	}

	if _, err := e.client.DeleteSubscriptionFilter(ctx, &cloudwatchlogs.DeleteSubscriptionFilterInput{LogGroupName: aws.String(testGroup), FilterName: aws.String("another")}); err != nil {
		t.Fatalf("DeleteSubscriptionFilter: %v", err)
	}
	_, err = e.client.DeleteSubscriptionFilter(ctx, &cloudwatchlogs.DeleteSubscriptionFilterInput{LogGroupName: aws.String(testGroup), FilterName: aws.String("another")})
	if apiCode(err) != CodeResourceNotFound || !strings.Contains(err.Error(), "The specified subscription filter does not exist.") {
		t.Errorf("delete again: err = %v, want ResourceNotFoundException", err)
	}
	// The freed place takes a new filter.
	if _, err := e.client.PutSubscriptionFilter(ctx, putFilter("third", "", testStreamARN)); err != nil {
		t.Errorf("a filter after a delete: %v", err)
	}
	if got := describeFilters(t, e.client, &cloudwatchlogs.DescribeSubscriptionFiltersInput{LogGroupName: aws.String(testGroup)}); len(got) != 2 {
		t.Errorf("filters %+v, want third and to-flow", got)
	}
}

func TestSubscriptionFilterErrors(t *testing.T) {
	t.Parallel()
	sink := &recordingSink{}
	e := newEnv(t, Config{SubscriptionSink: sink})
	e.mustPut(t, testGroup, "s", nil)
	ctx := context.Background()
	with := func(f func(in *cloudwatchlogs.PutSubscriptionFilterInput)) *cloudwatchlogs.PutSubscriptionFilterInput {
		in := putFilter("f", "", testStreamARN)
		f(in)
		return in
	}
	cases := []struct {
		name string
		in   *cloudwatchlogs.PutSubscriptionFilterInput
		code string
		msg  string
	}{
		{"no such group", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) { in.LogGroupName = aws.String("/none") }),
			CodeResourceNotFound, "The specified log group does not exist."},
		{"bad group name", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) { in.LogGroupName = aws.String("a b") }),
			CodeInvalidParameter, "at 'logGroupName' failed to satisfy constraint"},
		{"missing filter pattern", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) { in.FilterPattern = nil }),
			CodeInvalidParameter, "Value null at 'filterPattern' failed to satisfy constraint: Member must not be null"},
		{"missing destination", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) { in.DestinationArn = nil }),
			CodeInvalidParameter, "Value null at 'destinationArn'"},
		{"filter name with a colon", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) { in.FilterName = aws.String("a:b") }),
			CodeInvalidParameter, "at 'filterName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"},
		{"unknown distribution", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) { in.Distribution = "Even" }),
			CodeInvalidParameter, "Member must satisfy enum value set: [Random, ByLogStream]"},
		{"unsupported pattern", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) {
			in.FilterPattern = aws.String(`{ $.action = "REJECT" }`)
		}),
			CodeInvalidParameter, "Invalid filter pattern"},
		{"pattern too long", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) {
			in.FilterPattern = aws.String(strings.Repeat("x", 1025))
		}),
			CodeInvalidParameter, "Member must have length less than or equal to 1024"},
		{"not an ARN", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) { in.DestinationArn = aws.String("flow") }),
			CodeInvalidParameter, "is not an ARN"},
		{"firehose", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) {
			in.DestinationArn = aws.String("arn:aws:firehose:us-east-1:123456789012:deliverystream/x")
		}), CodeInvalidParameter, "firehose destinations are not supported by the emulator"},
		{"stream of another Region", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) {
			in.DestinationArn = aws.String("arn:aws:kinesis:eu-west-1:123456789012:stream/flow")
		}), CodeInvalidParameter, "must be in the log group's Region and account"},
		{"no role", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) { in.RoleArn = nil }),
			CodeInvalidParameter, "roleArn is required"},
		{"not a role ARN", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) {
			in.RoleArn = aws.String("arn:aws:iam::123456789012:user/me")
		}),
			CodeInvalidParameter, "is not an IAM role ARN"},
		{"transformed logs", with(func(in *cloudwatchlogs.PutSubscriptionFilterInput) { in.ApplyOnTransformedLogs = true }),
			CodeInvalidParameter, "applyOnTransformedLogs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.PutSubscriptionFilter(ctx, tc.in, noClientValidation)
			if apiCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %s containing %q", err, tc.code, tc.msg)
			}
			var re *sdkhttp.ResponseError
			if errors.As(err, &re) && re.HTTPStatusCode() != 400 {
				t.Errorf("HTTP status %d, want 400", re.HTTPStatusCode())
			}
		})
	}
	if recs := sink.taken(); len(recs) != 0 {
		t.Errorf("%d records put by refused filters, want none", len(recs))
	}

	// A destination that refuses the test message: AWS's answer, and no filter.
	sink.mu.Lock()
	sink.fail = func(int) bool { return true }
	sink.mu.Unlock()
	_, err := e.client.PutSubscriptionFilter(ctx, putFilter("f", "", testStreamARN))
	if apiCode(err) != CodeInvalidParameter || !strings.Contains(err.Error(), "Could not deliver test message to specified Kinesis stream") {
		t.Errorf("unreachable destination: err = %v", err)
	}
	if got := describeFilters(t, e.client, &cloudwatchlogs.DescribeSubscriptionFiltersInput{LogGroupName: aws.String(testGroup)}); len(got) != 0 {
		t.Errorf("filters %+v after a refused test message, want none", got)
	}

	_, err = e.client.DescribeSubscriptionFilters(ctx, &cloudwatchlogs.DescribeSubscriptionFiltersInput{LogGroupName: aws.String("/none")})
	if apiCode(err) != CodeResourceNotFound {
		t.Errorf("describe, no such group: err = %v", err)
	}
	_, err = e.client.DescribeSubscriptionFilters(ctx, &cloudwatchlogs.DescribeSubscriptionFiltersInput{LogGroupName: aws.String(testGroup), Limit: aws.Int32(51)})
	if apiCode(err) != CodeInvalidParameter || !strings.Contains(err.Error(), "less than or equal to 50") {
		t.Errorf("describe, limit 51: err = %v", err)
	}
	_, err = e.client.DeleteSubscriptionFilter(ctx, &cloudwatchlogs.DeleteSubscriptionFilterInput{LogGroupName: aws.String("/none"), FilterName: aws.String("f")})
	if apiCode(err) != CodeResourceNotFound || !strings.Contains(err.Error(), "log group") {
		t.Errorf("delete, no such group: err = %v", err)
	}
}

// Without a sink no Kinesis stream exists: the test message cannot be delivered.
func TestSubscriptionFilterWithoutSink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.mustPut(t, testGroup, "s", nil)
	_, err := e.client.PutSubscriptionFilter(context.Background(), putFilter("f", "", testStreamARN))
	if apiCode(err) != CodeInvalidParameter || !strings.Contains(err.Error(), "Could not deliver test message") {
		t.Errorf("err = %v, want InvalidParameterException (test message)", err)
	}
}
