package emulator

import (
	"slices"
	"strings"
)

// validGroupName checks AWS's constraint on log group names: 1-512 of [.-_/#A-Za-z0-9].
func validGroupName(member, name string) *APIError {
	if len(name) < 1 || len(name) > 512 {
		return validationError(member, name, "Member must have length between 1 and 512")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-/#", c) >= 0) {
			return validationError(member, name, `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`)
		}
	}
	return nil
}

// groupRef turns the logGroupName/logGroupIdentifier pair into a group name. Exactly one must be
// given; the identifier is a name or an ARN (arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME,
// optionally ending in ":*") of this server's region and account.
func (s *Server) groupRef(name, ident *string) (string, *APIError) {
	switch {
	case name != nil && ident != nil:
		return "", invalidParam("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	case name != nil:
		return *name, validGroupName("logGroupName", *name)
	case ident != nil:
		id := *ident
		if !strings.HasPrefix(id, "arn:") {
			return id, validGroupName("logGroupIdentifier", id)
		}
		parts := strings.Split(id, ":")
		if len(parts) < 7 || len(parts) > 8 || parts[2] != "logs" || parts[5] != "log-group" ||
			(len(parts) == 8 && parts[7] != "*") {
			return "", invalidParam("logGroupIdentifier %q is not a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)", id)
		}
		if parts[3] != s.cfg.Region || parts[4] != s.cfg.AccountID {
			return "", groupNotFound()
		}
		return parts[6], validGroupName("logGroupIdentifier", parts[6])
	default:
		return "", invalidParam("Either logGroupName or logGroupIdentifier must be specified.")
	}
}

// lookupGroup resolves a reference under at least a read lock.
func (s *Server) lookupGroup(name, ident *string) (*group, *APIError) {
	n, err := s.groupRef(name, ident)
	if err != nil {
		return nil, err
	}
	g := s.groups[n]
	if g == nil {
		return nil, groupNotFound()
	}
	return g, nil
}

// CreateLogGroup creates a log group, as the API operation does (ResourceAlreadyExistsException
// if it exists).
func (s *Server) CreateLogGroup(name string) error {
	if err := s.createGroup(name, s.now().UnixMilli()); err != nil {
		return err
	}
	return nil
}

func (s *Server) createGroup(name string, nowMs int64) *APIError {
	if err := validGroupName("logGroupName", name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[name] != nil {
		return &APIError{Code: CodeResourceAlreadyExists, Message: "The specified log group already exists", HTTPStatus: 400}
	}
	s.groups[name] = newGroup(name, s.cfg.Region, s.cfg.AccountID, nowMs)
	i, _ := slices.BinarySearch(s.groupNames, name)
	s.groupNames = slices.Insert(s.groupNames, i, name)
	return nil
}

type createLogGroupInput struct {
	LogGroupName  *string `json:"logGroupName"`
	LogGroupClass *string `json:"logGroupClass"`
}

func (s *Server) handleCreateLogGroup(c *call) ([]byte, *APIError) {
	var in createLogGroupInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if in.LogGroupName == nil {
		return nil, validationError("logGroupName", nil, "Member must not be null")
	}
	if in.LogGroupClass != nil && *in.LogGroupClass != "STANDARD" {
		return nil, invalidParam("logGroupClass %q is not supported by the emulator (only STANDARD)", *in.LogGroupClass)
	}
	if err := s.createGroup(*in.LogGroupName, c.now.UnixMilli()); err != nil {
		return nil, err
	}
	return []byte("{}"), nil
}

type describeLogGroupsInput struct {
	LogGroupNamePrefix    *string  `json:"logGroupNamePrefix"`
	Limit                 *int32   `json:"limit"`
	NextToken             *string  `json:"nextToken"`
	LogGroupNamePattern   *string  `json:"logGroupNamePattern"`
	LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
	AccountIdentifiers    []string `json:"accountIdentifiers"`
	IncludeLinkedAccounts *bool    `json:"includeLinkedAccounts"`
	LogGroupClass         *string  `json:"logGroupClass"`
}

// logGroupOut is a LogGroup of DescribeLogGroups. With logGroupNamePattern AWS returns only arn,
// creationTime and logGroupName, hence the pointers.
type logGroupOut struct {
	LogGroupName      string  `json:"logGroupName"`
	CreationTime      int64   `json:"creationTime"`
	MetricFilterCount *int    `json:"metricFilterCount,omitempty"`
	Arn               string  `json:"arn"`
	LogGroupArn       *string `json:"logGroupArn,omitempty"`
	StoredBytes       *int64  `json:"storedBytes,omitempty"`
	LogGroupClass     *string `json:"logGroupClass,omitempty"`
}

type describeLogGroupsOutput struct {
	LogGroups []logGroupOut `json:"logGroups"`
	NextToken string        `json:"nextToken,omitempty"`
}

// pageLimit validates an optional limit member against [1, max], defaulting to max.
func pageLimit(limit *int32, max int) (int, *APIError) {
	if limit == nil {
		return max, nil
	}
	if *limit < 1 {
		return 0, validationError("limit", *limit, "Member must have value greater than or equal to 1")
	}
	if int(*limit) > max {
		return 0, validationError("limit", *limit, "Member must have value less than or equal to "+itoa(max))
	}
	return int(*limit), nil
}

// logGroupClassStandard is the class of every emulated group (CreateLogGroup refuses others).
const logGroupClassStandard = "STANDARD"

func (s *Server) handleDescribeLogGroups(c *call) ([]byte, *APIError) {
	var in describeLogGroupsInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	switch {
	case len(in.LogGroupIdentifiers) > 0, len(in.AccountIdentifiers) > 0,
		in.IncludeLinkedAccounts != nil && *in.IncludeLinkedAccounts:
		return nil, invalidParam("logGroupIdentifiers, accountIdentifiers and includeLinkedAccounts are not supported by the emulator")
	case in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil:
		return nil, invalidParam("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	limit, err := pageLimit(in.Limit, 50)
	if err != nil {
		return nil, err
	}
	prefix, pattern := "", ""
	if in.LogGroupNamePrefix != nil {
		if err := validGroupName("logGroupNamePrefix", *in.LogGroupNamePrefix); err != nil {
			return nil, err
		}
		prefix = *in.LogGroupNamePrefix
	}
	// logGroupNamePattern: a case-sensitive substring, 0 to 512 of the name characters.
	if in.LogGroupNamePattern != nil {
		pattern = *in.LogGroupNamePattern
		if pattern != "" {
			if err := validGroupName("logGroupNamePattern", pattern); err != nil {
				return nil, err
			}
		}
	}
	class := ""
	if in.LogGroupClass != nil {
		switch *in.LogGroupClass {
		case logGroupClassStandard, "INFREQUENT_ACCESS", "DELIVERY":
			class = *in.LogGroupClass
		default:
			return nil, validationError("logGroupClass", *in.LogGroupClass, "Member must satisfy enum value set: [DELIVERY, STANDARD, INFREQUENT_ACCESS]")
		}
	}
	query := uint64(newFingerprint().str(prefix).sep().str(pattern).sep().str(class))
	after, hasAfter := "", false
	if in.NextToken != nil {
		if err := c.checkTokenFault(true); err != nil {
			return nil, err
		}
		if _, after, err = s.decodeNameToken(*in.NextToken, 'g', query); err != nil {
			return nil, err
		}
		hasAfter = true
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, _ := slices.BinarySearch(s.groupNames, prefix)
	if hasAfter {
		j, found := slices.BinarySearch(s.groupNames, after)
		if found {
			j++
		}
		i = max(i, j)
	}
	out := describeLogGroupsOutput{LogGroups: []logGroupOut{}}
	if class != "" && class != logGroupClassStandard {
		return marshal(out) // every emulated group is STANDARD
	}
	for ; i < len(s.groupNames) && strings.HasPrefix(s.groupNames[i], prefix); i++ {
		if !strings.Contains(s.groupNames[i], pattern) {
			continue
		}
		if len(out.LogGroups) == limit {
			out.NextToken = s.encodeNameToken('g', 0, out.LogGroups[limit-1].LogGroupName, query)
			break
		}
		g := s.groups[s.groupNames[i]]
		lg := logGroupOut{LogGroupName: g.name, CreationTime: g.created, Arn: g.arn}
		if in.LogGroupNamePattern == nil {
			filters, arn, stored, cls := 0, strings.TrimSuffix(g.arn, ":*"), g.storedBytes, logGroupClassStandard
			lg.MetricFilterCount, lg.LogGroupArn, lg.StoredBytes, lg.LogGroupClass = &filters, &arn, &stored, &cls
		}
		out.LogGroups = append(out.LogGroups, lg)
	}
	return marshal(out)
}
