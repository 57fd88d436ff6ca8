package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/flowd-dev/flowd/internal/awshttp"
)

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var httpClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// sums scrapes /metrics and sums the samples of family by the given label.
func sums(t *testing.T, base, family, label string) map[string]float64 {
	t.Helper()
	m := exposition(base)
	if m == nil {
		t.Fatalf("scrape %s/metrics failed", base)
	}
	out := map[string]float64{}
	for series, v := range m {
		labels, ok := strings.CutPrefix(series, family+"{")
		if !ok {
			continue
		}
		key := ""
		for _, l := range strings.Split(strings.TrimSuffix(labels, "}"), ",") {
			if k, val, ok := strings.Cut(l, "="); ok && k == label {
				key = strings.Trim(val, `"`)
			}
		}
		out[key] += v
	}
	return out
}

type demoTruth struct {
	Complete bool `json:"complete"`
	ByAction map[string]struct {
		Flows, Packets, Bytes float64
	} `json:"by_action"`
	ByInterface    map[string]float64 `json:"flows_by_action_interface"`
	InterfaceNames map[string]string  `json:"interface_names"`
	LogGroup       string             `json:"log_group"`
	Source         string             `json:"source"`
	Kinesis        *kinesisTruth      `json:"kinesis"`
	TGW            struct {
		Flows        float64            `json:"flows"`
		ByAttachment map[string]float64 `json:"flows_by_attachment"`
		Lost         map[string]float64 `json:"packets_lost_by_attachment_reason"`
	} `json:"tgw"`
}

func getTruth(t *testing.T, base string) demoTruth {
	t.Helper()
	resp, err := httpClient.Get(base + "/-/demo/truth")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr demoTruth
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestDemoEndToEnd builds the binary, runs `flowd demo` on free ports with only the backfill
// delivered (--demo.stop-after), and checks over HTTP that flowd's counters by action and by
// interface reach exactly what the simulator delivered, never more: polling the CloudWatch
// Logs emulator, and reading the Kinesis stream its subscription filters write into (with a
// shard split on the way and records delivered twice).
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary (about a minute per source)")
	}
	bin := filepath.Join(t.TempDir(), "flowd")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// One after the other: each runs three emulators, the simulator and flowd.
	t.Run("cloudwatch", func(t *testing.T) { testDemo(t, bin, demoSourceCloudWatch) })
	t.Run("kinesis", func(t *testing.T) { testDemo(t, bin, demoSourceKinesis) })
}

func testDemo(t *testing.T, bin, source string) {
	addr := freePort(t)
	args := []string{"demo", "--web.listen-address=" + addr, "--demo.emulator-address=" + freePort(t),
		"--demo.backfill=10m", "--demo.stop-after=1s", "--log.level=warn", "--demo.source=" + source}
	kinesisAddr := freePort(t)
	if source == demoSourceKinesis {
		args = append(args, "--demo.kinesis-address="+kinesisAddr, "--demo.dynamodb-address="+freePort(t))
	}
	cmd := exec.Command(bin, args...)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("flowd demo exited with %v after SIGTERM", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("flowd demo did not stop within 10s of SIGTERM")
		}
	})
	base := "http://" + addr

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var last map[string]float64
	for {
		if ctx.Err() != nil {
			t.Fatalf("flowd never matched the simulator's truth; last flows by action %v, truth %+v", last, getTruthOrNil(base))
		}
		select {
		case err := <-exited:
			t.Fatalf("flowd demo exited early: %v\n%s", err, stdout.String())
		case <-time.After(250 * time.Millisecond):
		}
		resp, err := httpClient.Get(base + "/-/healthy")
		if err != nil {
			continue // not serving yet
		}
		_ = resp.Body.Close()
		tr := getTruth(t, base)
		got := sums(t, base, "flowd_flows_total", "action")
		last = got
		for _, a := range []string{"accept", "reject"} {
			if got[a] > tr.ByAction[a].Flows {
				t.Fatalf("%s flows %v exceed what the simulator delivered (%v): counted twice", a, got[a], tr.ByAction[a].Flows)
			}
		}
		tgwFlows := sums(t, base, "flowd_tgw_flows_total", "tgw_attachment_id")
		var tgwTotal float64
		for _, n := range tgwFlows {
			tgwTotal += n
		}
		if tgwTotal > tr.TGW.Flows {
			t.Fatalf("transit gateway flows %v exceed what the simulator delivered (%v)", tgwTotal, tr.TGW.Flows)
		}
		if !tr.Complete || got["accept"] != tr.ByAction["accept"].Flows || got["reject"] != tr.ByAction["reject"].Flows ||
			tgwTotal != tr.TGW.Flows {
			continue
		}
		// Transit gateway records: by attachment and lost packets, never under an action.
		for id, n := range tr.TGW.ByAttachment {
			if tgwFlows[id] != n {
				t.Errorf("transit gateway attachment %s: %v flows, truth %v", id, tgwFlows[id], n)
			}
		}
		lost := exposition(base)
		for k, n := range tr.TGW.Lost {
			id, field, _ := strings.Cut(k, "/")
			reason := strings.ReplaceAll(strings.TrimPrefix(field, "packets-lost-"), "-", "_")
			series := fmt.Sprintf(`flowd_tgw_packets_lost_total{reason="%s",tgw_attachment_id="%s"}`, reason, id)
			if lost[series] != n {
				t.Errorf("%s = %v, truth %v", series, lost[series], n)
			}
		}
		if tr.TGW.Flows == 0 || len(tr.TGW.Lost) == 0 {
			t.Errorf("the transit gateway simulator delivered nothing to check: %+v", tr.TGW)
		}
		// Caught up: everything delivered is counted exactly once. Check the rest.
		bytes := sums(t, base, "flowd_bytes_total", "action")
		for _, a := range []string{"accept", "reject"} {
			if bytes[a] != tr.ByAction[a].Bytes {
				t.Errorf("%s bytes = %v, truth %v", a, bytes[a], tr.ByAction[a].Bytes)
			}
		}
		ifaces := sums(t, base, "flowd_interface_flows_total", "interface_id")
		var truthIfaces float64
		for k, n := range tr.ByInterface {
			truthIfaces += n
			id := k[strings.IndexByte(k, '/')+1:]
			if ifaces[id] == 0 {
				t.Errorf("interface %s has no flows in flowd, truth %v", id, n)
			}
		}
		var gotIfaces float64
		for _, n := range ifaces {
			gotIfaces += n
		}
		if gotIfaces != truthIfaces {
			t.Errorf("flows by interface sum to %v, truth %v", gotIfaces, truthIfaces)
		}
		ports := sums(t, base, "flowd_flows_total", "port")
		if len(ports) < 3 {
			t.Errorf("flows by port: %v", ports)
		}
		if got["accept"] == 0 || got["reject"] == 0 {
			t.Errorf("want ACCEPT and REJECT flows, got %v", got)
		}
		// Discovery found the demo's flow log (its records were counted with its exact format,
		// above), and the inventory names every simulated interface.
		m := exposition(base)
		if len(tr.InterfaceNames) == 0 {
			t.Error("the demo's truth lists no interface names")
		}
		for id, name := range tr.InterfaceNames {
			found := false
			for series, v := range m {
				if strings.HasPrefix(series, "flowd_interface_info{") && strings.Contains(series, `interface_id="`+id+`"`) {
					found = v == 1 && strings.Contains(series, `name="`+name+`"`) && strings.Contains(series, `owner="ec2_instance"`)
					if !found {
						t.Errorf("%s = %v, want name %q and owner ec2_instance", series, v, name)
					}
				}
			}
			if !found {
				t.Errorf("no flowd_interface_info for simulated interface %s (%s)", id, name)
			}
		}
		if source == demoSourceCloudWatch {
			if fl := sums(t, base, "flowd_flow_log_info", "log_group"); fl[tr.LogGroup] != 1 {
				t.Errorf("flowd_flow_log_info by log_group %v, want the demo's flow log into %s", fl, tr.LogGroup)
			}
		} else {
			checkDemoSplit(t, base, "http://"+kinesisAddr, tr)
		}
		t.Logf("flowd matches the truth: %v flows by action; %d interfaces named", got, len(tr.InterfaceNames))
		break
	}
	wants := []string{"/metrics", "aws --region us-east-1 --endpoint-url", "sum by (action) (rate(flowd_flows_total[1m]))"}
	if source == demoSourceKinesis {
		wants = append(wants, "kinesis list-shards --stream-name "+demoStream)
	}
	for _, want := range wants {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("demo banner lacks %q:\n%s", want, stdout.String())
		}
	}
}

// checkDemoSplit checks that the demo split its shard while the backfill went in (the counts
// matched all the same): four shards, the parent closed with its two children open beside the
// other original shard, and that flowd read both generations.
func checkDemoSplit(t *testing.T, base, kinesisURL string, tr demoTruth) {
	t.Helper()
	if tr.Source != demoSourceKinesis || tr.Kinesis == nil || !tr.Kinesis.Split || tr.Kinesis.Stream != demoStream {
		t.Errorf("truth source %q, kinesis %+v: want the stream %s with its shard split", tr.Source, tr.Kinesis, demoStream)
	}
	kc := kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(kinesisURL),
		Credentials: credentials.NewStaticCredentialsProvider("demo", "demo", ""), Retryer: aws.NopRetryer{}, HTTPClient: awshttp.New()})
	out, err := kc.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: aws.String(demoStream)})
	if err != nil {
		t.Fatalf("ListShards: %v", err)
	}
	open, children := 0, 0
	parentClosed := false
	for _, sh := range out.Shards {
		closed := sh.SequenceNumberRange.EndingSequenceNumber != nil
		if !closed {
			open++
		}
		if aws.ToString(sh.ShardId) == demoSplitShard {
			parentClosed = closed
		}
		if aws.ToString(sh.ParentShardId) == demoSplitShard {
			children++
		}
	}
	if len(out.Shards) != 4 || open != 3 || !parentClosed || children != 2 {
		t.Errorf("shards %d (%d open), %s closed: %v, children %d: want 4 shards, 3 open, the parent closed with 2 children",
			len(out.Shards), open, demoSplitShard, parentClosed, children)
	}
	m := exposition(base)
	if m[`flowd_kinesis_open_shards{stream="flowd-demo"}`] != 3 || m[`flowd_kinesis_control_messages_total{stream="flowd-demo"}`] != 2 {
		t.Errorf("flowd_kinesis_open_shards %v, control messages %v: want 3 open shards and the two filters' test messages",
			m[`flowd_kinesis_open_shards{stream="flowd-demo"}`], m[`flowd_kinesis_control_messages_total{stream="flowd-demo"}`])
	}
	t.Logf("split checked; %v redelivered events dropped", m[`flowd_kinesis_duplicate_events_total{stream="flowd-demo"}`])
}

func getTruthOrNil(base string) string {
	resp, err := httpClient.Get(base + "/-/demo/truth")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text())
	}
	return fmt.Sprint(b.String())
}
