package ec2emu

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// CodeUnknownParameter is EC2's answer to a parameter the action does not take.
const CodeUnknownParameter = "UnknownParameter"

// request is the decoded form of one EC2 Query request (Action=...&Version=...&...).
type request struct {
	action        action
	dryRun        bool
	maxResults    int32 // 0: not given
	nextToken     string
	filters       []filter
	ids           []string // the action's id list (NetworkInterfaceId.N, SubnetId.N, ...)
	includeManage bool
}

// filter is one Filter.N: a name and its values (any of which may match).
type filter struct {
	name   string
	values []string
}

// idParam is the name of each action's id list parameter.
var idParam = [numActions]string{
	actDescribeFlowLogs:          "FlowLogId",
	actDescribeNetworkInterfaces: "NetworkInterfaceId",
	actDescribeSubnets:           "SubnetId",
	actDescribeVpcs:              "VpcId",
	actDescribeInstances:         "InstanceId",
}

// takesManaged says which actions accept IncludeManagedResources.
var takesManaged = [numActions]bool{actDescribeNetworkInterfaces: true, actDescribeInstances: true}

// parseParams decodes the parameters of action a (Action and Version already checked). Every
// parameter must be one the action takes: EC2 answers UnknownParameter otherwise, which is how
// a client sending a misspelled member learns of it.
func parseParams(a action, form url.Values) (*request, *APIError) {
	req := &request{action: a}
	filters := map[int]*filter{}
	filterValues := map[int]map[int]string{}
	ids := map[int]string{}
	for key, vals := range form {
		if len(vals) != 1 {
			return nil, invalidValue("The parameter %s is given %d times", key, len(vals))
		}
		v := vals[0]
		switch {
		case key == "Action" || key == "Version":
		case key == "DryRun":
			b, err := parseBool(key, v)
			if err != nil {
				return nil, err
			}
			req.dryRun = b
		case key == "MaxResults":
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return nil, invalidValue("Invalid value '%s' for maxResults", v)
			}
			req.maxResults = int32(n)
			if req.maxResults <= 0 {
				return nil, invalidValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than 0.", n)
			}
		case key == "NextToken":
			req.nextToken = v
		case key == "IncludeManagedResources" && takesManaged[a]:
			b, err := parseBool(key, v)
			if err != nil {
				return nil, err
			}
			req.includeManage = b
		case strings.HasPrefix(key, idParam[a]+"."):
			n, ok := index(strings.TrimPrefix(key, idParam[a]+"."))
			if !ok {
				return nil, unknownParam(key)
			}
			ids[n] = v
		case strings.HasPrefix(key, "Filter."):
			rest := strings.TrimPrefix(key, "Filter.")
			num, field, _ := strings.Cut(rest, ".")
			n, ok := index(num)
			if !ok {
				return nil, unknownParam(key)
			}
			f := filters[n]
			if f == nil {
				f = &filter{}
				filters[n] = f
			}
			switch {
			case field == "Name":
				f.name = v
			case strings.HasPrefix(field, "Value."):
				m, ok := index(strings.TrimPrefix(field, "Value."))
				if !ok {
					return nil, unknownParam(key)
				}
				if filterValues[n] == nil {
					filterValues[n] = map[int]string{}
				}
				filterValues[n][m] = v
			default:
				return nil, unknownParam(key)
			}
		default:
			return nil, unknownParam(key)
		}
	}
	for _, n := range sortedKeys(filters) {
		f := filters[n]
		if f.name == "" {
			return nil, invalidValue("The filter 'null' is invalid")
		}
		for _, m := range sortedKeys(filterValues[n]) {
			f.values = append(f.values, filterValues[n][m])
		}
		req.filters = append(req.filters, *f)
	}
	for _, n := range sortedKeys(ids) {
		req.ids = append(req.ids, ids[n])
	}
	return req, nil
}

func unknownParam(key string) *APIError {
	return &APIError{Code: CodeUnknownParameter, Message: "The parameter " + key + " is not recognized", HTTPStatus: http.StatusBadRequest}
}

func parseBool(key, v string) (bool, *APIError) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalidValue("Invalid value '%s' for %s", v, key)
}

// index parses a 1-based list index.
func index(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= 1<<20 && strconv.Itoa(n) == s
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}
