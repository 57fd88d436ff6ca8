package simulate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// PutLogEvents limits: a batch holds at most 10,000 events and 1,048,576 bytes, counting each
// message's UTF-8 length plus 26 bytes, and spans at most 24 hours.
const (
	maxPutEvents   = 10000
	maxPutBytes    = 1 << 20
	eventOverhead  = 26
	maxPutSpanMill = 24 * 60 * 60 * 1000
)

// CloudWatchAPI is the part of the CloudWatch Logs client the sink uses;
// *cloudwatchlogs.Client implements it.
type CloudWatchAPI interface {
	CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	CreateLogStream(ctx context.Context, in *cloudwatchlogs.CreateLogStreamInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
}

// CloudWatchSink delivers batches to a CloudWatch Logs log group with PutLogEvents, as the flow
// log service does: it creates the group and each stream on first use (accepting that they
// already exist) and splits batches at the PutLogEvents limits. It is safe for concurrent use.
type CloudWatchSink struct {
	api   CloudWatchAPI
	group string

	mu        sync.Mutex
	groupDone bool
	streams   map[string]bool // created (or found existing)
}

// NewCloudWatchSink returns a sink writing to log group group through api.
func NewCloudWatchSink(api CloudWatchAPI, group string) (*CloudWatchSink, error) {
	if api == nil {
		return nil, errors.New("simulate: cloudwatch sink: nil client")
	}
	if group == "" {
		return nil, errors.New("simulate: cloudwatch sink: empty log group name")
	}
	return &CloudWatchSink{api: api, group: group, streams: make(map[string]bool)}, nil
}

// RejectedError reports events PutLogEvents refused (too old, too new or expired).
type RejectedError struct {
	Stream string
	Info   types.RejectedLogEventsInfo
}

// Error names the stream and the refused index ranges.
func (e *RejectedError) Error() string {
	return fmt.Sprintf("simulate: stream %s: PutLogEvents rejected events (too new from %v, too old before %v, expired before %v)",
		e.Stream, deref(e.Info.TooNewLogEventStartIndex), deref(e.Info.TooOldLogEventEndIndex), deref(e.Info.ExpiredLogEventEndIndex))
}

func deref(p *int32) any {
	if p == nil {
		return "-"
	}
	return *p
}

// Put writes events to the stream, creating the group and the stream when needed. Events out
// of timestamp order are sorted first (on a copy), since PutLogEvents refuses them.
func (s *CloudWatchSink) Put(ctx context.Context, stream string, events []Event) error {
	if stream == "" {
		return errors.New("simulate: cloudwatch sink: empty log stream name")
	}
	if len(events) == 0 {
		return nil
	}
	if err := s.ensure(ctx, stream); err != nil {
		return err
	}
	if !slices.IsSortedFunc(events, byTimestamp) {
		events = slices.Clone(events)
		slices.SortStableFunc(events, byTimestamp)
	}
	for len(events) > 0 {
		n, size := 0, 0
		for n < len(events) && n < maxPutEvents {
			sz := len(events[n].Message) + eventOverhead
			if n > 0 && (size+sz > maxPutBytes || events[n].Timestamp-events[0].Timestamp > maxPutSpanMill) {
				break
			}
			size += sz
			n++
		}
		in := &cloudwatchlogs.PutLogEventsInput{
			LogGroupName:  aws.String(s.group),
			LogStreamName: aws.String(stream),
			LogEvents:     make([]types.InputLogEvent, n),
		}
		for i, e := range events[:n] {
			in.LogEvents[i] = types.InputLogEvent{Timestamp: aws.Int64(e.Timestamp), Message: aws.String(e.Message)}
		}
		out, err := s.api.PutLogEvents(ctx, in)
		if err != nil {
			return fmt.Errorf("simulate: put %d events to %s/%s: %w", n, s.group, stream, err)
		}
		if ri := out.RejectedLogEventsInfo; ri != nil &&
			(ri.TooNewLogEventStartIndex != nil || ri.TooOldLogEventEndIndex != nil || ri.ExpiredLogEventEndIndex != nil) {
			return &RejectedError{Stream: stream, Info: *ri}
		}
		events = events[n:]
	}
	return nil
}

func byTimestamp(a, b Event) int {
	switch {
	case a.Timestamp < b.Timestamp:
		return -1
	case a.Timestamp > b.Timestamp:
		return 1
	}
	return 0
}

// ensure creates the log group and the stream once each; "already exists" counts as success.
func (s *CloudWatchSink) ensure(ctx context.Context, stream string) error {
	s.mu.Lock()
	groupDone, streamDone := s.groupDone, s.streams[stream]
	s.mu.Unlock()
	if streamDone {
		return nil
	}
	var exists *types.ResourceAlreadyExistsException
	if !groupDone {
		_, err := s.api.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(s.group)})
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("simulate: create log group %s: %w", s.group, err)
		}
		s.mu.Lock()
		s.groupDone = true
		s.mu.Unlock()
	}
	_, err := s.api.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{
		LogGroupName: aws.String(s.group), LogStreamName: aws.String(stream)})
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("simulate: create log stream %s/%s: %w", s.group, stream, err)
	}
	s.mu.Lock()
	s.streams[stream] = true
	s.mu.Unlock()
	return nil
}
