package ec2emu

import (
	"net/url"
	"testing"
)

// FuzzParseParams feeds arbitrary form bodies to the parameter decoder of every action: it
// must answer a request or an *APIError with a code, never panic, and a request must only hold
// filters with names.
func FuzzParseParams(f *testing.F) {
	for _, seed := range []string{
		"Action=DescribeNetworkInterfaces&Version=2016-11-15&MaxResults=5&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1&Filter.1.Value.2=vpc-2",
		"Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1&InstanceId.2=i-2&IncludeManagedResources=true",
		"Action=DescribeFlowLogs&Version=2016-11-15&NextToken=abc&DryRun=false",
		"Filter.0.Name=x", "Filter.1.Value.1=x", "Filter.01.Name=x", "MaxResults=-1", "MaxResults=99999999999", "VpcId.1048577=x",
		"Filter.1.Name=a&Filter.1.Name=b", "%zz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		for a := range numActions {
			req, apiErr := parseParams(a, form)
			if apiErr != nil {
				if apiErr.Code == "" || apiErr.HTTPStatus < 400 {
					t.Fatalf("error without code or status: %+v", apiErr)
				}
				continue
			}
			for _, fl := range req.filters {
				if fl.name == "" {
					t.Fatalf("filter without a name from %q", body)
				}
			}
			if req.maxResults < 0 {
				t.Fatalf("negative MaxResults from %q", body)
			}
			_ = req.signature()
		}
	})
}

// FuzzWildcard checks the matcher against the obvious definition on patterns without escapes.
func FuzzWildcard(f *testing.F) {
	f.Add("a*b?c", "axxbyc")
	f.Add("**", "")
	f.Add("?*?", "ab")
	f.Fuzz(func(t *testing.T, p, s string) {
		if len(p) > 12 || len(s) > 24 {
			return
		}
		for i := 0; i < len(p); i++ {
			if p[i] == '\\' {
				return
			}
		}
		if got, want := wildcard(p, s), naiveWildcard(p, s); got != want {
			t.Fatalf("wildcard(%q, %q) = %v, want %v", p, s, got, want)
		}
	})
}

func naiveWildcard(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if naiveWildcard(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && naiveWildcard(p[1:], s[1:])
	}
	return s != "" && s[0] == p[0] && naiveWildcard(p[1:], s[1:])
}
