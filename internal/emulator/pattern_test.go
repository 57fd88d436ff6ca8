package emulator

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

const (
	sshReject  = "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 49761 22 6 20 4249 1418530010 1418530070 REJECT OK"
	webAccept  = "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 443 6 20 4249 1418530010 1418530070 ACCEPT OK"
	noData     = "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"
	v2Fields   = "version, account, eni, src, dst, srcport, dstport, proto, packets, bytes, start, end"
	quotedLine = `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`
)

func TestPatternMatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern string
		msg     string
		want    bool
	}{
		{"", sshReject, true},
		{"   ", noData, true},
		{"REJECT", sshReject, true},
		{"REJECT", webAccept, false},
		{"REJECT OK", sshReject, true},
		{"REJECT NODATA", sshReject, false},
		{`"203.0.113.12"`, sshReject, true},
		{`"eni-1235b8ca123456789 203"`, sshReject, true},
		{"reject", sshReject, false}, // case-sensitive
		{"-REJECT", webAccept, true},
		{"OK -REJECT", sshReject, false},
		{"?NODATA ?REJECT", sshReject, true},
		{"?NODATA ?SKIPDATA", sshReject, false},
		{"[" + v2Fields + ", action = REJECT, status]", sshReject, true},
		{"[" + v2Fields + ", action = REJECT, status]", webAccept, false},
		{"[" + v2Fields + ", action != REJECT, status]", webAccept, true},
		{"[" + v2Fields + ", action=\"REJECT\", status]", sshReject, true},
		{"[version, account, eni, src, dst, srcport, dstport = 22, ...]", sshReject, true},
		{"[version, account, eni, src, dst, srcport, dstport = 22, ...]", webAccept, false},
		{"[..., action = REJECT, status = OK]", sshReject, true},
		{"[..., action = REJ*, status]", sshReject, true},
		{"[..., action = *CC*, status]", webAccept, true},
		{"[version, account, eni, src = 203.0.*, ...]", sshReject, true},
		{"[version, account, eni, src, dst, srcport, dstport, proto, packets, bytes > 4000, ...]", sshReject, true},
		{"[version, account, eni, src, dst, srcport, dstport, proto, packets, bytes > 5000, ...]", sshReject, false},
		{"[version, account, eni, src, dst, srcport, dstport, proto, packets, bytes <= 4249, ...]", sshReject, true},
		{"[version, account, eni, src, dst, srcport, dstport, proto, packets, bytes >= 0, ...]", noData, false}, // "-" is not a number
		{"[version, account, eni, src, dst, srcport, dstport != 22, ...]", noData, false},
		{"[version, account, eni, src, dst, srcport, dstport, proto, packets, bytes, start, end, action, status = NODATA]", noData, true},
		{"[version, account, eni, src]", sshReject, false}, // field count must match without ...
		{"[ip, id, user, time, request, status = 404, size]", quotedLine, true},
		{`[ip, id, user, time, request = "*index*", status, size]`, quotedLine, true},
		{"[version, account, eni, src, dst, srcport = 49761.0, ...]", sshReject, true},
	}
	for _, tc := range cases {
		t.Run(tc.pattern, func(t *testing.T) {
			p, err := compilePattern(tc.pattern)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			if got := p.match(tc.msg); got != tc.want {
				t.Errorf("match(%q) = %v, want %v", tc.msg, got, tc.want)
			}
		})
	}
}

func TestPatternUnsupportedIsAnError(t *testing.T) {
	t.Parallel()
	cases := []struct{ pattern, why string }{
		{`{ $.action = "REJECT" }`, "JSON"},
		{`%REJ[A-Z]+%`, "regular expressions"},
		{`ERROR && WARN`, "&&"},
		{`?ERROR WARN`, "mixing"},
		{`"unterminated`, "unterminated"},
		{`[a, b`, "end with ]"},
		{`[a, ..., b, ...]`, "more than one"},
		{`[a, a]`, "named twice"},
		{`[a, b > REJECT]`, "need a number"},
		{`[a = 1 || a = 2]`, "&& and ||"},
		{`[a, , b]`, "empty field"},
		{`[a ~ 3]`, "expected ="},
		{`-`, "lone"},
		{strings.Repeat("x", 1025), "1024"},
	}
	for _, tc := range cases {
		t.Run(tc.pattern[:min(len(tc.pattern), 40)], func(t *testing.T) {
			_, err := compilePattern(tc.pattern)
			if err == nil || err.Code != CodeInvalidParameter || !strings.Contains(err.Message, tc.why) {
				t.Errorf("compile(%q) = %v, want InvalidParameterException about %q", tc.pattern, err, tc.why)
			}
		})
	}
}

func TestFilterPatternThroughSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ts := e.clock.Now().Add(-5 * 60e9).UnixMilli()
	e.mustPut(t, testGroup, "eni-1235b8ca123456789-all", []InputEvent{{ts, sshReject}, {ts, webAccept}, {ts + 1, noData}, {ts + 2, sshReject}})
	got, _ := filterAll(t, e.client, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(testGroup),
		FilterPattern: aws.String("[" + v2Fields + ", action = REJECT, status]"),
		Limit:         aws.Int32(1),
	})
	if len(got) != 2 {
		t.Errorf("REJECT pattern: %d events, want 2", len(got))
	}
	for _, ev := range got {
		if aws.ToString(ev.Message) != sshReject {
			t.Errorf("unexpected match %q", aws.ToString(ev.Message))
		}
	}
	_, err := e.client.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(testGroup), FilterPattern: aws.String(`%REJECT%`),
	})
	if apiCode(err) != CodeInvalidParameter {
		t.Errorf("regex pattern: err = %v, want InvalidParameterException", err)
	}
}

func TestPatternMatchAllocatesNothing(t *testing.T) {
	p, err := compilePattern("[" + v2Fields + ", action = REJECT, status]")
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() { p.match(sshReject); p.match(noData) })
	if allocs != 0 {
		t.Errorf("match allocates %v times per call", allocs)
	}
}
