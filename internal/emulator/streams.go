package emulator

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

func itoa(n int) string { return strconv.Itoa(n) }

// validStreamName checks AWS's constraint on log stream names: 1-512 characters, no ':' or '*'.
func validStreamName(member, name string) *APIError {
	if len(name) < 1 || len(name) > 512 {
		return validationError(member, name, "Member must have length between 1 and 512")
	}
	if strings.ContainsAny(name, ":*") {
		return validationError(member, name, "Member must satisfy regular expression pattern: [^:*]*")
	}
	return nil
}

// CreateLogStream creates a log stream in an existing group, as the API operation does.
func (s *Server) CreateLogStream(groupName, streamName string) error {
	if err := s.createStream(&groupName, nil, streamName, s.now().UnixMilli()); err != nil {
		return err
	}
	return nil
}

func (s *Server) createStream(name, ident *string, streamName string, nowMs int64) *APIError {
	if err := validStreamName("logStreamName", streamName); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.lookupGroup(name, ident)
	if err != nil {
		return err
	}
	if g.streams[streamName] != nil {
		return &APIError{Code: CodeResourceAlreadyExists, Message: "The specified log stream already exists", HTTPStatus: 400}
	}
	g.addStream(streamName, s.cfg.Region, s.cfg.AccountID, nowMs)
	return nil
}

type createLogStreamInput struct {
	LogGroupName  *string `json:"logGroupName"`
	LogStreamName *string `json:"logStreamName"`
}

func (s *Server) handleCreateLogStream(c *call) ([]byte, *APIError) {
	var in createLogStreamInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if in.LogGroupName == nil {
		return nil, validationError("logGroupName", nil, "Member must not be null")
	}
	if in.LogStreamName == nil {
		return nil, validationError("logStreamName", nil, "Member must not be null")
	}
	if err := s.createStream(in.LogGroupName, nil, *in.LogStreamName, c.now.UnixMilli()); err != nil {
		return nil, err
	}
	return []byte("{}"), nil
}

type describeLogStreamsInput struct {
	LogGroupName        *string `json:"logGroupName"`
	LogGroupIdentifier  *string `json:"logGroupIdentifier"`
	LogStreamNamePrefix *string `json:"logStreamNamePrefix"`
	OrderBy             *string `json:"orderBy"`
	Descending          *bool   `json:"descending"`
	Limit               *int32  `json:"limit"`
	NextToken           *string `json:"nextToken"`
}

type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

type describeLogStreamsOutput struct {
	LogStreams []logStreamOut `json:"logStreams"`
	NextToken  string         `json:"nextToken,omitempty"`
}

// streamSortKey is a stream's place in DescribeLogStreams order: (last event time, name) when
// ordered by LastEventTime (streams without events count as time 0), (0, name) otherwise.
func streamSortKey(st *stream, byTime bool) int64 {
	if byTime && st.hasEvents {
		return st.lastTS
	}
	return 0
}

func (s *Server) handleDescribeLogStreams(c *call) ([]byte, *APIError) {
	var in describeLogStreamsInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	byTime := false
	if in.OrderBy != nil {
		switch *in.OrderBy {
		case "LogStreamName":
		case "LastEventTime":
			byTime = true
		default:
			return nil, validationError("orderBy", *in.OrderBy, "Member must satisfy enum value set: [LogStreamName, LastEventTime]")
		}
	}
	prefix := ""
	if in.LogStreamNamePrefix != nil {
		if byTime {
			return nil, invalidParam("Cannot order by LastEventTime with a logStreamNamePrefix.")
		}
		if err := validStreamName("logStreamNamePrefix", *in.LogStreamNamePrefix); err != nil {
			return nil, err
		}
		prefix = *in.LogStreamNamePrefix
	}
	desc := in.Descending != nil && *in.Descending
	limit, err := pageLimit(in.Limit, 50)
	if err != nil {
		return nil, err
	}
	groupName, err := s.groupRef(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	fp := newFingerprint().str(groupName).str(prefix)
	if byTime {
		fp = fp.str("t")
	}
	if desc {
		fp = fp.str("d")
	}
	query := uint64(fp)
	var afterKey int64
	afterName, hasAfter := "", false
	if in.NextToken != nil {
		if err := c.checkTokenFault(true); err != nil {
			return nil, err
		}
		if afterKey, afterName, err = s.decodeNameToken(*in.NextToken, 's', query); err != nil {
			return nil, err
		}
		hasAfter = true
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[groupName]
	if g == nil {
		return nil, groupNotFound()
	}
	sts := g.streamsWithPrefix(prefix) // name order
	if byTime {
		slices.SortStableFunc(sts, func(a, b *stream) int {
			return cmp.Compare(streamSortKey(a, true), streamSortKey(b, true))
		})
	}
	if desc {
		slices.Reverse(sts)
	}
	// after reports whether st comes after the token's position in the requested direction.
	after := func(st *stream) bool {
		k := streamSortKey(st, byTime)
		c := cmp.Or(cmp.Compare(k, afterKey), strings.Compare(st.name, afterName))
		if desc {
			return c < 0
		}
		return c > 0
	}
	out := describeLogStreamsOutput{LogStreams: []logStreamOut{}}
	var last *stream
	for _, st := range sts {
		if hasAfter && !after(st) {
			continue
		}
		if len(out.LogStreams) == limit {
			out.NextToken = s.encodeNameToken('s', streamSortKey(last, byTime), last.name, query)
			break
		}
		o := logStreamOut{LogStreamName: st.name, CreationTime: st.created, Arn: st.arn}
		if st.hasEvents {
			first, lastTS, ing := st.firstTS, st.lastTS, st.lastIngest
			o.FirstEventTimestamp, o.LastEventTimestamp, o.LastIngestionTime = &first, &lastTS, &ing
		}
		out.LogStreams = append(out.LogStreams, o)
		last = st
	}
	return marshal(out)
}
