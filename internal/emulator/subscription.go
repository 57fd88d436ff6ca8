package emulator

import (
	"slices"
	"strings"
)

// Subscription filters: PutSubscriptionFilter, DescribeSubscriptionFilters and
// DeleteSubscriptionFilter, with Kinesis data streams as the only destination. Delivery is in
// delivery.go.

// maxSubscriptionFilters is AWS's quota of subscription filters per log group.
const maxSubscriptionFilters = 2

// Distribution values of PutSubscriptionFilter (ByLogStream is the default).
const (
	DistributionByLogStream = "ByLogStream"
	DistributionRandom      = "Random"
)

// SubscriptionSink is where the records of Kinesis destinations go: Put stores one record in
// the named stream (the name from the destination ARN) and returns its shard and sequence
// number, as kinesisemu's in-process Put does. An error (throttled, unavailable) makes the
// emulator try the same record again at its next delivery, before any later record of the same
// log stream. Put may keep data.
type SubscriptionSink interface {
	Put(stream, partitionKey string, data []byte) (shard, seq string, err error)
}

// subscriptionFilter is one subscription filter of a log group. Its fields are guarded by Server.mu,
// except the queues' outboxes (deliverMu).
type subscriptionFilter struct {
	name       string
	pattern    string
	pat        *pattern
	destARN    string
	stream     string // the Kinesis stream named by destARN
	roleARN    string
	random     bool // distribution Random: a random partition key per record
	created    int64
	queues     map[string]*deliveryQueue // by log stream
	queueNames []string                  // sorted: the delivery order, so runs are reproducible
}

func (sub *subscriptionFilter) distribution() string {
	if sub.random {
		return DistributionRandom
	}
	return DistributionByLogStream
}

// findSubscription returns a group's filter of that name and its index, or nil.
func (g *group) findSubscription(name string) (*subscriptionFilter, int) {
	for i, sub := range g.subs {
		if sub.name == name {
			return sub, i
		}
	}
	return nil, -1
}

// kinesisStreamName returns the stream name of a destination ARN of this server's Region and
// account: arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME.
func (s *Server) kinesisStreamName(arn string) (string, *APIError) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", invalidParam("destinationArn %q is not an ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).", arn)
	}
	switch parts[2] {
	case "kinesis":
	case "firehose", "lambda", "logs":
		return "", invalidParam("destinationArn %q: %s destinations are not supported by the emulator (only Kinesis data streams).", arn, parts[2])
	default:
		return "", invalidParam("destinationArn %q is not a Kinesis data stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).", arn)
	}
	name, ok := strings.CutPrefix(parts[5], "stream/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", invalidParam("destinationArn %q is not a Kinesis data stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).", arn)
	}
	if parts[3] != s.cfg.Region || parts[4] != s.cfg.AccountID {
		// A stream elsewhere needs a logical destination (PutDestination), which the emulator lacks.
		return "", invalidParam("destinationArn %q: the stream must be in the log group's Region and account (%s, %s).", arn, s.cfg.Region, s.cfg.AccountID)
	}
	return name, nil
}

// validRoleARN checks the shape arn:PARTITION:iam::ACCOUNT:role/NAME.
func validRoleARN(arn string) *APIError {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" || parts[4] == "" ||
		!strings.HasPrefix(parts[5], "role/") || len(parts[5]) == len("role/") {
		return invalidParam("roleArn %q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).", arn)
	}
	return nil
}

// errTestMessage is AWS's answer when the CONTROL_MESSAGE cannot be put into the stream.
func errTestMessage() *APIError {
	return invalidParam("Could not deliver test message to specified Kinesis stream. Check if the given kinesis stream is in ACTIVE state. ")
}

type putSubscriptionFilterInput struct {
	LogGroupName           *string  `json:"logGroupName"`
	FilterName             *string  `json:"filterName"`
	FilterPattern          *string  `json:"filterPattern"`
	DestinationArn         *string  `json:"destinationArn"`
	RoleArn                *string  `json:"roleArn"`
	Distribution           *string  `json:"distribution"`
	ApplyOnTransformedLogs *bool    `json:"applyOnTransformedLogs"`
	EmitSystemFields       []string `json:"emitSystemFields"`
	FieldSelectionCriteria *string  `json:"fieldSelectionCriteria"`
}

// validate checks the members as AWS does (required members, lengths, enums) and compiles the
// pattern.
func (in *putSubscriptionFilterInput) validate() (*pattern, *APIError) {
	switch {
	case in.LogGroupName == nil:
		return nil, validationError("logGroupName", nil, "Member must not be null")
	case in.FilterName == nil:
		return nil, validationError("filterName", nil, "Member must not be null")
	case in.FilterPattern == nil:
		return nil, validationError("filterPattern", nil, "Member must not be null")
	case in.DestinationArn == nil:
		return nil, validationError("destinationArn", nil, "Member must not be null")
	}
	if err := validGroupName("logGroupName", *in.LogGroupName); err != nil {
		return nil, err
	}
	if err := validStreamName("filterName", *in.FilterName); err != nil { // same constraint: 1-512 of [^:*]
		return nil, err
	}
	if *in.DestinationArn == "" {
		return nil, validationError("destinationArn", "", "Member must have length greater than or equal to 1")
	}
	if in.RoleArn != nil && *in.RoleArn == "" {
		return nil, validationError("roleArn", "", "Member must have length greater than or equal to 1")
	}
	if in.Distribution != nil && *in.Distribution != DistributionByLogStream && *in.Distribution != DistributionRandom {
		return nil, validationError("distribution", *in.Distribution, "Member must satisfy enum value set: [Random, ByLogStream]")
	}
	switch {
	case in.ApplyOnTransformedLogs != nil && *in.ApplyOnTransformedLogs:
		return nil, invalidParam("applyOnTransformedLogs: log transformers are not supported by the emulator")
	case len(in.EmitSystemFields) > 0 || in.FieldSelectionCriteria != nil:
		return nil, invalidParam("emitSystemFields and fieldSelectionCriteria are not supported by the emulator")
	}
	return compilePattern(*in.FilterPattern)
}

func (s *Server) handlePutSubscriptionFilter(c *call) ([]byte, *APIError) {
	var in putSubscriptionFilterInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	pat, err := in.validate()
	if err != nil {
		return nil, err
	}
	streamName, err := s.kinesisStreamName(*in.DestinationArn)
	if err != nil {
		return nil, err
	}
	if in.RoleArn == nil {
		return nil, invalidParam("roleArn is required when destinationArn is a Kinesis data stream.")
	}
	if err := validRoleARN(*in.RoleArn); err != nil {
		return nil, err
	}
	groupName, filterName := *in.LogGroupName, *in.FilterName

	// Checks first, then the test message outside the lock (the sink may be slow), then the
	// change under the lock, checked again since another call may have come in between.
	s.mu.RLock()
	g := s.groups[groupName]
	var existing *subscriptionFilter
	full := false
	if g != nil {
		existing, _ = g.findSubscription(filterName)
		full = existing == nil && len(g.subs) >= maxSubscriptionFilters
	}
	needTest := existing == nil || existing.destARN != *in.DestinationArn
	s.mu.RUnlock()
	switch {
	case g == nil:
		return nil, groupNotFound()
	case full:
		return nil, errLimitExceeded()
	}
	if needTest {
		if err := s.putControlMessage(streamName, groupName, c.now.UnixMilli()); err != nil {
			return nil, err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	sub, _ := g.findSubscription(filterName)
	if sub == nil {
		if len(g.subs) >= maxSubscriptionFilters {
			return nil, errLimitExceeded()
		}
		sub = &subscriptionFilter{name: filterName, created: c.now.UnixMilli(), queues: map[string]*deliveryQueue{}}
		i, _ := slices.BinarySearchFunc(g.subs, filterName, func(a *subscriptionFilter, n string) int { return strings.Compare(a.name, n) })
		g.subs = slices.Insert(g.subs, i, sub)
	}
	// An update applies to the events not yet delivered too: they are matched when delivered.
	sub.pattern, sub.pat = *in.FilterPattern, pat
	sub.destARN, sub.stream, sub.roleARN = *in.DestinationArn, streamName, *in.RoleArn
	sub.random = in.Distribution != nil && *in.Distribution == DistributionRandom
	return []byte("{}"), nil
}

func errLimitExceeded() *APIError {
	return &APIError{Code: CodeLimitExceeded, Message: "Resource limit exceeded.", HTTPStatus: 400}
}

type describeSubscriptionFiltersInput struct {
	LogGroupName     *string `json:"logGroupName"`
	FilterNamePrefix *string `json:"filterNamePrefix"`
	Limit            *int32  `json:"limit"`
	NextToken        *string `json:"nextToken"`
}

type subscriptionFilterOut struct {
	FilterName             string `json:"filterName"`
	LogGroupName           string `json:"logGroupName"`
	FilterPattern          string `json:"filterPattern"`
	DestinationArn         string `json:"destinationArn"`
	RoleArn                string `json:"roleArn,omitempty"`
	Distribution           string `json:"distribution"`
	ApplyOnTransformedLogs bool   `json:"applyOnTransformedLogs"`
	CreationTime           int64  `json:"creationTime"`
}

type describeSubscriptionFiltersOutput struct {
	SubscriptionFilters []subscriptionFilterOut `json:"subscriptionFilters"`
	NextToken           string                  `json:"nextToken,omitempty"`
}

func (s *Server) handleDescribeSubscriptionFilters(c *call) ([]byte, *APIError) {
	var in describeSubscriptionFiltersInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if in.LogGroupName == nil {
		return nil, validationError("logGroupName", nil, "Member must not be null")
	}
	if err := validGroupName("logGroupName", *in.LogGroupName); err != nil {
		return nil, err
	}
	prefix := ""
	if in.FilterNamePrefix != nil {
		if err := validStreamName("filterNamePrefix", *in.FilterNamePrefix); err != nil {
			return nil, err
		}
		prefix = *in.FilterNamePrefix
	}
	limit, err := pageLimit(in.Limit, 50)
	if err != nil {
		return nil, err
	}
	query := uint64(newFingerprint().str(*in.LogGroupName).str(prefix))
	after, hasAfter := "", false
	if in.NextToken != nil {
		if err := c.checkTokenFault(true); err != nil {
			return nil, err
		}
		if _, after, err = s.decodeNameToken(*in.NextToken, 'f', query); err != nil {
			return nil, err
		}
		hasAfter = true
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[*in.LogGroupName]
	if g == nil {
		return nil, groupNotFound()
	}
	out := describeSubscriptionFiltersOutput{SubscriptionFilters: []subscriptionFilterOut{}}
	for _, sub := range g.subs { // sorted by name
		if !strings.HasPrefix(sub.name, prefix) || (hasAfter && sub.name <= after) {
			continue
		}
		if len(out.SubscriptionFilters) == limit {
			out.NextToken = s.encodeNameToken('f', 0, out.SubscriptionFilters[limit-1].FilterName, query)
			break
		}
		out.SubscriptionFilters = append(out.SubscriptionFilters, subscriptionFilterOut{
			FilterName: sub.name, LogGroupName: g.name, FilterPattern: sub.pattern,
			DestinationArn: sub.destARN, RoleArn: sub.roleARN, Distribution: sub.distribution(),
			CreationTime: sub.created,
		})
	}
	return marshal(out)
}

type deleteSubscriptionFilterInput struct {
	LogGroupName *string `json:"logGroupName"`
	FilterName   *string `json:"filterName"`
}

func (s *Server) handleDeleteSubscriptionFilter(c *call) ([]byte, *APIError) {
	var in deleteSubscriptionFilterInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	switch {
	case in.LogGroupName == nil:
		return nil, validationError("logGroupName", nil, "Member must not be null")
	case in.FilterName == nil:
		return nil, validationError("filterName", nil, "Member must not be null")
	}
	if err := validGroupName("logGroupName", *in.LogGroupName); err != nil {
		return nil, err
	}
	if err := validStreamName("filterName", *in.FilterName); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[*in.LogGroupName]
	if g == nil {
		return nil, groupNotFound()
	}
	_, i := g.findSubscription(*in.FilterName)
	if i < 0 {
		return nil, &APIError{Code: CodeResourceNotFound, Message: "The specified subscription filter does not exist.", HTTPStatus: 400}
	}
	// Events not yet delivered are dropped with the filter: AWS stops delivering at once.
	g.subs = slices.Delete(g.subs, i, i+1)
	return []byte("{}"), nil
}
