package ec2emu

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Every error answer reaches the SDK with EC2's code and status.
func TestErrorsThroughSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.load(t, FromSimulator(testSim(t, 3), SeedOptions{}))
	ctx := context.Background()
	ni := func(in *ec2.DescribeNetworkInterfacesInput) error {
		_, err := e.client.DescribeNetworkInterfaces(ctx, in)
		return err
	}
	cases := []struct {
		name   string
		call   func() error
		code   string
		status int
	}{
		{"MaxResults below range", func() error { return ni(&ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(4)}) }, CodeInvalidParameterValue, 400},
		{"MaxResults above range", func() error {
			_, err := e.client.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{MaxResults: aws.Int32(1001)})
			return err
		}, CodeInvalidParameterValue, 400},
		{"MaxResults with ids", func() error {
			return ni(&ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5), NetworkInterfaceIds: []string{"eni-x"}})
		}, CodeInvalidParameterCombination, 400},
		{"unknown interface id", func() error {
			return ni(&ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-nope"}})
		}, CodeInvalidNetworkInterfaceID, 400},
		{"unknown filter", func() error {
			return ni(&ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("colour"), Values: []string{"blue"}}}})
		}, CodeInvalidParameterValue, 400},
		{"garbage token", func() error {
			return ni(&ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5), NextToken: aws.String("garbage")})
		}, CodeInvalidParameterValue, 400},
		{"dry run", func() error { return ni(&ec2.DescribeNetworkInterfacesInput{DryRun: aws.Bool(true)}) }, CodeDryRunOperation, 412},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, status := apiCode(tc.call())
			if code != tc.code || status != tc.status {
				t.Errorf("got %q (HTTP %d), want %q (HTTP %d)", code, status, tc.code, tc.status)
			}
		})
	}

	// A token only continues the request it came from.
	first, err := e.client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %v, token %v", err, first.NextToken)
	}
	err = ni(&ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5), NextToken: first.NextToken,
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{"vpc-other"}}}})
	if code, _ := apiCode(err); code != CodeInvalidParameterValue || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("token with other filters: %v", err)
	}
}

// UnauthorizedOperation is per action, and changes at run time.
func TestUnauthorizedPerAction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{Denied: []string{ActionDescribeInstances}})
	e.load(t, FromSimulator(testSim(t, 3), SeedOptions{}))
	ctx := context.Background()
	_, err := e.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if code, status := apiCode(err); code != CodeUnauthorizedOperation || status != http.StatusForbidden ||
		!strings.Contains(err.Error(), "ec2:DescribeInstances") {
		t.Fatalf("denied DescribeInstances: %q %d %v", code, status, err)
	}
	if _, err := e.client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{}); err != nil {
		t.Fatalf("DescribeNetworkInterfaces is allowed: %v", err)
	}
	if err := e.srv.SetDenied(ActionDescribeInstances, false); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.SetDenied(ActionDescribeFlowLogs, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Errorf("DescribeInstances allowed again: %v", err)
	}
	if _, err := e.client.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{}); err == nil {
		t.Error("DescribeFlowLogs denied, but it answered")
	}
	if st := e.srv.Stats(); st[ActionDescribeInstances].Denied != 1 || st[ActionDescribeFlowLogs].Denied != 1 {
		t.Errorf("stats %+v", st)
	}
	if err := e.srv.SetDenied("RunInstances", true); err == nil {
		t.Error("SetDenied accepted an unknown action")
	}
}

// The token bucket answers RequestLimitExceeded (503) when empty, which the SDK's standard
// retryer classifies as throttling, and refills on the clock.
func TestRequestLimitExceeded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimits: map[string]float64{ActionDescribeVpcs: 1}, Burst: 3})
	ctx := context.Background()
	var throttled error
	for i := range 4 {
		_, err := e.client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		if i < 3 && err != nil {
			t.Fatalf("call %d within the burst: %v", i, err)
		}
		throttled = err
	}
	code, status := apiCode(throttled)
	if code != CodeRequestLimitExceeded || status != http.StatusServiceUnavailable {
		t.Fatalf("4th call: %q %d (%v)", code, status, throttled)
	}
	if !(retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}).IsErrorThrottle(throttled).Bool() {
		t.Errorf("the SDK does not see %v as throttling", throttled)
	}
	if _, err := e.client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}); err != nil {
		t.Errorf("other actions have their own bucket: %v", err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Errorf("after a second the bucket holds a token: %v", err)
	}
	if st := e.srv.Stats()[ActionDescribeVpcs]; st.Throttled != 1 || st.OK != 4 {
		t.Errorf("stats %+v", st)
	}
}

// Scripted faults: 500 and 503 with EC2's codes, throttling, a connection dropped mid-answer;
// Count clears itself.
func TestFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ctx := context.Background()
	cases := []struct {
		f      Fault
		code   string
		status int
	}{
		{Fault{Kind: FaultInternalError, Count: 1}, CodeInternalError, 500},
		{Fault{Kind: FaultUnavailable, Count: 1}, CodeUnavailable, 503},
		{Fault{Kind: FaultThrottle, Count: 1}, CodeRequestLimitExceeded, 503},
		{Fault{Kind: FaultDisconnect, Count: 1}, "", 200}, // a 200 whose body ends early: a deserialization error
	}
	for _, tc := range cases {
		if err := e.srv.SetFault(ActionDescribeSubnets, tc.f); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
		if err == nil {
			t.Errorf("%v: no error", tc.f.Kind)
			continue
		}
		if code, status := apiCode(err); code != tc.code || status != tc.status {
			t.Errorf("%v: %q %d (%v), want %q %d", tc.f.Kind, code, status, err, tc.code, tc.status)
		}
		if _, err := e.client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}); err != nil {
			t.Errorf("%v with Count 1 did not clear: %v", tc.f.Kind, err)
		}
	}
	// The standard retryer rides out a transient fault.
	if err := e.srv.SetFault(ActionDescribeSubnets, Fault{Kind: FaultUnavailable, Count: 2}); err != nil {
		t.Fatal(err)
	}
	std := newClient(e.url, retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	}))
	if _, err := std.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}); err != nil {
		t.Errorf("standard retryer: %v", err)
	}
	if st := e.srv.Stats()[ActionDescribeSubnets]; st.Faulted != 6 {
		t.Errorf("stats %+v, want 6 faulted", st)
	}
	for _, bad := range []Fault{{Kind: 0}, {Kind: FaultSlow}, {Kind: FaultThrottle, Probability: 2}, {Kind: FaultThrottle, Count: -1}} {
		if err := e.srv.SetFault(ActionDescribeSubnets, bad); err == nil {
			t.Errorf("SetFault(%+v) accepted", bad)
		}
	}
	if err := e.srv.SetFault("TerminateInstances", Fault{Kind: FaultThrottle}); err == nil {
		t.Error("SetFault accepted an unknown action")
	}
}

// Requests the SDK would never send get EC2's answers, not a panic or a 200.
func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	post := func(form url.Values, signed bool) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if signed {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	v := func(kv ...string) url.Values {
		out := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	cases := []struct {
		name   string
		form   url.Values
		signed bool
		status int
		code   string
	}{
		{"no action", v("Version", APIVersion), true, 400, CodeMissingAction},
		{"unknown action", v("Action", "RunInstances", "Version", APIVersion), true, 400, CodeInvalidAction},
		{"old version", v("Action", ActionDescribeVpcs, "Version", "2014-10-01"), true, 400, "NoSuchVersion"},
		{"unsigned", v("Action", ActionDescribeVpcs, "Version", APIVersion), false, 401, CodeAuthFailure},
		{"unknown parameter", v("Action", ActionDescribeVpcs, "Version", APIVersion, "Colour", "blue"), true, 400, CodeUnknownParameter},
		{"managed on subnets", v("Action", ActionDescribeSubnets, "Version", APIVersion, "IncludeManagedResources", "true"), true, 400, CodeUnknownParameter},
		{"bad bool", v("Action", ActionDescribeVpcs, "Version", APIVersion, "DryRun", "yes"), true, 400, CodeInvalidParameterValue},
		{"filter without name", v("Action", ActionDescribeVpcs, "Version", APIVersion, "Filter.1.Value.1", "x"), true, 400, CodeInvalidParameterValue},
		{"list index 0", v("Action", ActionDescribeVpcs, "Version", APIVersion, "VpcId.0", "vpc-1"), true, 400, CodeUnknownParameter},
		{"ok", v("Action", ActionDescribeVpcs, "Version", APIVersion), true, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(tc.form, tc.signed)
			if status != tc.status || (tc.code != "" && !strings.Contains(body, "<Code>"+tc.code+"</Code>")) {
				t.Errorf("HTTP %d %s, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	_, err := New(Config{RateLimits: map[string]float64{"RunInstances": 1}, Denied: []string{"x"}, Burst: -1, ShortPageProbability: 1})
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("New: %v, want a *ConfigError", err)
	}
	for _, field := range []string{"RateLimits[RunInstances]", "Denied[0]", "Burst", "ShortPageProbability"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
}

// Filters with wildcards, several values and several filters.
func TestFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	inv := FromSimulator(testSim(t, 6), SeedOptions{})
	e.load(t, inv)
	count := func(fs ...types.Filter) int {
		ids, _ := allInterfaces(t, e.client, &ec2.DescribeNetworkInterfacesInput{Filters: fs})
		return len(ids)
	}
	f := func(name string, vals ...string) types.Filter {
		return types.Filter{Name: aws.String(name), Values: vals}
	}
	want := map[string]int{}
	for _, n := range inv.Interfaces {
		if n.Managed {
			continue
		}
		want[orDefault(n.InterfaceType, "interface")]++
		if strings.HasPrefix(n.Description, "ELB app/") {
			want["alb"]++
		}
		if !n.RequesterManaged {
			want["unmanaged"]++
		}
		if n.SubnetID == inv.Subnets[0].ID {
			want["subnet0"]++
		}
	}
	checks := []struct {
		name string
		got  int
		want int
	}{
		{"interface-type=lambda", count(f("interface-type", "lambda")), want["lambda"]},
		{"interface-type=lambda,efs", count(f("interface-type", "lambda", "efs")), want["lambda"] + want["efs"]},
		{"description=ELB app/*", count(f("description", "ELB app/*")), want["alb"]},
		{"subnet and type", count(f("subnet-id", inv.Subnets[0].ID), f("interface-type", "interface", "nat_gateway", "vpc_endpoint", "branch", "network_load_balancer", "lambda", "efs", "transit_gateway")), want["subnet0"]},
		{"vpc-id mismatch", count(f("vpc-id", "vpc-nope")), 0},
		{"requester-managed=false", count(f("requester-managed", "false")), want["unmanaged"]},
	}
	for _, c := range checks {
		if c.got != c.want || (c.want == 0 && c.name != "vpc-id mismatch") {
			t.Errorf("%s: %d interfaces, want %d", c.name, c.got, c.want)
		}
	}
	for _, tc := range []struct {
		p, s string
		ok   bool
	}{
		{"*", "", true}, {"a*c", "abbbc", true}, {"a?c", "abc", true}, {"a?c", "ac", false}, {`a\*`, "a*", true},
		{`a\*`, "ab", false}, {"*b*", "abc", true}, {"ELB app/*", "ELB net/x", false}, {"x", "xy", false}, {"**y", "xy", true},
	} {
		if wildcard(tc.p, tc.s) != tc.ok {
			t.Errorf("wildcard(%q, %q) = %v", tc.p, tc.s, !tc.ok)
		}
	}
}
