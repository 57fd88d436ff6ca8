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
// interface reach exactly what the simulator delivered, never more.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary (about a minute)")
	}
	bin := filepath.Join(t.TempDir(), "flowd")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freePort(t)
	cmd := exec.Command(bin, "demo", "--web.listen-address="+addr, "--demo.emulator-address="+freePort(t),
		"--demo.backfill=10m", "--demo.stop-after=1s", "--log.level=warn")
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
		if fl := sums(t, base, "flowd_flow_log_info", "log_group"); fl[tr.LogGroup] != 1 {
			t.Errorf("flowd_flow_log_info by log_group %v, want the demo's flow log into %s", fl, tr.LogGroup)
		}
		t.Logf("flowd matches the truth: %v flows by action; %d interfaces named", got, len(tr.InterfaceNames))
		break
	}
	for _, want := range []string{"/metrics", "aws --region us-east-1 --endpoint-url", "sum by (action) (rate(flowd_flows_total[1m]))"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("demo banner lacks %q:\n%s", want, stdout.String())
		}
	}
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
