package emulator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func TestDescribeLogGroupsPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	var want []string
	for i := 0; i < 23; i++ {
		name := fmt.Sprintf("/aws/vpc/g%02d", i)
		if err := e.srv.CreateLogGroup(name); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	if err := e.srv.CreateLogGroup("/other"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		prefix *string
		limit  int32
		want   []string
	}{
		{"prefix, limit 5", aws.String("/aws/vpc/"), 5, want},
		{"prefix, limit 50", aws.String("/aws/vpc/g1"), 50, want[10:20]},
		{"all, limit 1", nil, 1, append(slices.Clone(want), "/other")},
		{"no match", aws.String("/nothing"), 5, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := cloudwatchlogs.NewDescribeLogGroupsPaginator(e.client, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: tc.prefix, Limit: aws.Int32(tc.limit)})
			var got []string
			for p.HasMorePages() {
				page, err := p.NextPage(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if len(page.LogGroups) > int(tc.limit) {
					t.Fatalf("page of %d groups over limit %d", len(page.LogGroups), tc.limit)
				}
				for _, g := range page.LogGroups {
					got = append(got, aws.ToString(g.LogGroupName))
					if aws.ToString(g.Arn) != "arn:aws:logs:us-east-1:123456789012:log-group:"+aws.ToString(g.LogGroupName)+":*" {
						t.Errorf("arn = %q", aws.ToString(g.Arn))
					}
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("groups = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDescribeLogStreamsPagingAndOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	base := e.clock.Now().Add(-time.Hour).UnixMilli()
	// Stream i's last event is at base + (7-i) s: time order is the reverse of name order.
	for i := 0; i < 7; i++ {
		e.mustPut(t, testGroup, fmt.Sprintf("eni-%d-all", i), []InputEvent{{base, "first"}, {base + int64(7-i)*1000, "last"}})
	}
	e.mustPut(t, testGroup, "zz-empty", nil)
	names := func(in *cloudwatchlogs.DescribeLogStreamsInput) []string {
		p := cloudwatchlogs.NewDescribeLogStreamsPaginator(e.client, in)
		var got []string
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page.LogStreams {
				got = append(got, aws.ToString(s.LogStreamName))
			}
		}
		return got
	}
	byName := []string{"eni-0-all", "eni-1-all", "eni-2-all", "eni-3-all", "eni-4-all", "eni-5-all", "eni-6-all", "zz-empty"}
	cases := []struct {
		name string
		in   cloudwatchlogs.DescribeLogStreamsInput
		want []string
	}{
		{"by name, limit 3", cloudwatchlogs.DescribeLogStreamsInput{Limit: aws.Int32(3)}, byName},
		{"by name descending", cloudwatchlogs.DescribeLogStreamsInput{Limit: aws.Int32(2), Descending: aws.Bool(true)}, reversed(byName)},
		{"prefix", cloudwatchlogs.DescribeLogStreamsInput{Limit: aws.Int32(2), LogStreamNamePrefix: aws.String("eni-")}, byName[:7]},
		{"by last event time", cloudwatchlogs.DescribeLogStreamsInput{Limit: aws.Int32(3), OrderBy: "LastEventTime"},
			[]string{"zz-empty", "eni-6-all", "eni-5-all", "eni-4-all", "eni-3-all", "eni-2-all", "eni-1-all", "eni-0-all"}},
		{"by last event time descending", cloudwatchlogs.DescribeLogStreamsInput{Limit: aws.Int32(3), OrderBy: "LastEventTime", Descending: aws.Bool(true)},
			byName},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.LogGroupName = aws.String(testGroup)
			if got := names(&in); !slices.Equal(got, tc.want) {
				t.Errorf("streams = %v, want %v", got, tc.want)
			}
		})
	}
	out, err := e.client.DescribeLogStreams(context.Background(), &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(testGroup), LogStreamNamePrefix: aws.String("eni-3")})
	if err != nil || len(out.LogStreams) != 1 {
		t.Fatalf("describe eni-3: %v %v", err, out)
	}
	s := out.LogStreams[0]
	if aws.ToInt64(s.FirstEventTimestamp) != base || aws.ToInt64(s.LastEventTimestamp) != base+4000 || aws.ToInt64(s.LastIngestionTime) != e.clock.Now().UnixMilli() {
		t.Errorf("stream eni-3: first %d last %d ingestion %d", aws.ToInt64(s.FirstEventTimestamp), aws.ToInt64(s.LastEventTimestamp), aws.ToInt64(s.LastIngestionTime))
	}
	_, err = e.client.DescribeLogStreams(context.Background(), &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(testGroup), LogStreamNamePrefix: aws.String("eni-"), OrderBy: "LastEventTime"})
	if apiCode(err) != CodeInvalidParameter {
		t.Errorf("prefix with LastEventTime: %v, want InvalidParameterException", err)
	}
	_, err = e.client.DescribeLogStreams(context.Background(), &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("nope")})
	if apiCode(err) != CodeResourceNotFound {
		t.Errorf("unknown group: %v, want ResourceNotFoundException", err)
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// logGroupNamePattern is a case-sensitive substring search that pages like the prefix, answers
// only arn, creationTime and logGroupName, and excludes logGroupNamePrefix. Without a pattern
// every group carries logGroupArn (the ARN without ":*") and logGroupClass.
func TestDescribeLogGroupsPatternAndFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	for _, name := range []string{"/aws/vpc/DataLogs", "aws/DataLogs", "GroupDataLogs", "datalogs", "Data/log/s", "Groupdata"} {
		if err := e.srv.CreateLogGroup(name); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(e.client, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("DataLogs"), Limit: aws.Int32(1)})
	var got []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page.LogGroups {
			got = append(got, aws.ToString(g.LogGroupName))
			if g.Arn == nil || g.CreationTime == nil || g.LogGroupArn != nil || g.LogGroupClass != "" || g.StoredBytes != nil || g.MetricFilterCount != nil {
				t.Errorf("with a pattern, %s has members beyond arn, creationTime and logGroupName: %+v", aws.ToString(g.LogGroupName), g)
			}
		}
	}
	if want := []string{"/aws/vpc/DataLogs", "GroupDataLogs", "aws/DataLogs"}; !slices.Equal(got, want) {
		t.Errorf("pattern DataLogs: %v, want %v", got, want)
	}

	out, err := e.client.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("Group")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.LogGroups) != 2 {
		t.Fatalf("prefix Group: %d groups, want 2", len(out.LogGroups))
	}
	for _, g := range out.LogGroups {
		name := aws.ToString(g.LogGroupName)
		if aws.ToString(g.LogGroupArn) != "arn:aws:logs:us-east-1:123456789012:log-group:"+name || g.LogGroupClass != types.LogGroupClassStandard || g.StoredBytes == nil {
			t.Errorf("%s: logGroupArn %q, logGroupClass %q, storedBytes %v", name, aws.ToString(g.LogGroupArn), g.LogGroupClass, g.StoredBytes)
		}
	}

	out, err = e.client.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupClass: types.LogGroupClassInfrequentAccess})
	if err != nil || len(out.LogGroups) != 0 {
		t.Errorf("class INFREQUENT_ACCESS: %v, %d groups; want none (every emulated group is STANDARD)", err, len(out.LogGroups))
	}
	_, err = e.client.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("G"), LogGroupNamePattern: aws.String("D")})
	if apiCode(err) != CodeInvalidParameter || !strings.Contains(err.Error(), "mutually exclusive") {
		t.Errorf("prefix and pattern: err = %v, want %s (mutually exclusive)", err, CodeInvalidParameter)
	}
	_, err = e.client.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("a*b")})
	if apiCode(err) != CodeInvalidParameter || !strings.Contains(err.Error(), "logGroupNamePattern") {
		t.Errorf("pattern a*b: err = %v, want %s naming logGroupNamePattern", err, CodeInvalidParameter)
	}
}
