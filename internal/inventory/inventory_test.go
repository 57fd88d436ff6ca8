package inventory

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flowd-dev/flowd/internal/emulator/ec2emu"
	"github.com/flowd-dev/flowd/internal/parse"
)

// One refresh against the simulator's network names every interface, places every address,
// and finds the flow log with its exact format.
func TestRefreshNamesTheSimulatedNetwork(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, ec2emu.Config{}, 23)
		ranges, err := LoadIPRanges("testdata/ip-ranges.json")
		if err != nil {
			t.Fatal(err)
		}
		inv := newInventory(t, w.client, Options{IPRanges: ranges, PageSize: 5}, nil)
		if err := inv.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		snap := inv.Snapshot()
		if len(snap.Interfaces) != len(w.seed.Interfaces) || snap.DroppedInterfaces != 0 {
			t.Fatalf("%d interfaces (%d dropped), the emulator holds %d", len(snap.Interfaces), snap.DroppedInterfaces, len(w.seed.Interfaces))
		}
		counts := map[string]int{}
		for _, f := range w.sim.Interfaces() {
			counts[f.Role]++
			n, ok := snap.Interface(f.ID)
			want := f.Role + "-" + strconv.Itoa(counts[f.Role])
			if !ok || n.Owner != OwnerInstance || n.Name != want || n.InstanceID != f.InstanceID || n.SubnetID != f.SubnetID || n.VPCID != w.sim.VPCID() {
				t.Errorf("%s: %+v, want an ec2_instance named %s", f.ID, n, want)
				continue
			}
			for _, a := range []netip.Addr{f.IPv4, f.IPv6} {
				p := snap.Classify(a)
				if p.Kind != PeerInterface || p.InterfaceID != f.ID || p.Name != want {
					t.Errorf("Classify(%s) = %+v, want interface %s", a, p, f.ID)
				}
			}
		}
		// Every managed owner of the seeded network is recognised, with its name.
		owners := map[Owner]string{}
		for _, n := range snap.Interfaces {
			owners[n.Owner] = n.Name
		}
		for o, name := range map[Owner]string{
			OwnerLoadBalancer: "", OwnerNATGateway: "nat-", OwnerLambda: "flowd-demo-thumbnailer", OwnerVPCEndpoint: "vpce-",
			OwnerEKSNode: "flowd-demo-ng-1", OwnerEKSControlPlane: "flowd-demo", OwnerEKSPod: "flowd-demo", OwnerECSTask: "",
			OwnerRDS: "", OwnerEFS: "fs-", OwnerTransitGateway: "tgw-attach-", OwnerUnattached: "", OwnerAWSManaged: "",
		} {
			got, ok := owners[o]
			if !ok || !strings.HasPrefix(got, name) {
				t.Errorf("owner %s: name %q (present %v), want prefix %q", o, got, ok, name)
			}
		}

		// Addresses beyond the interfaces.
		sn := w.seed.Subnets[0]
		inSubnet := sn.CIDR.Addr().Next().Next().Next().Next().Next().Next().Next().Next().Next().Next() // .10, no interface
		for _, c := range []struct {
			addr string
			kind PeerKind
			what string
		}{
			{inSubnet.String(), PeerSubnet, sn.ID},
			{"10.0.250.1", PeerVPC, w.sim.VPCID()},
			{"52.216.8.9", PeerAWS, "S3"},
			{"18.208.12.1", PeerAWS, "EC2"},
			{"172.16.0.1", PeerPrivate, ""},
			{"198.18.3.4", PeerInternet, ""},
		} {
			p := snap.Classify(netip.MustParseAddr(c.addr))
			got := p.SubnetID
			switch c.kind {
			case PeerVPC:
				got = p.VPCID
			case PeerAWS:
				got = p.Service
			case PeerPrivate, PeerInternet:
				got = ""
			}
			if p.Kind != c.kind || got != c.what {
				t.Errorf("Classify(%s) = %+v, want %s %s", c.addr, p, c.kind, c.what)
			}
		}

		// Discovery: the flow log, its group and its exact format (which compiles).
		groups := snap.LogGroups()
		if len(groups) != 1 || groups[0].Name != "/flowd/demo" || len(groups[0].Formats) != 1 || groups[0].Formats[0] != w.sim.Format().String() {
			t.Fatalf("log groups %+v", groups)
		}
		if _, err := parse.Compile(groups[0].Formats[0]); err != nil {
			t.Errorf("discovered format does not compile: %v", err)
		}
		st := inv.Stats()
		if st.Interfaces != len(w.seed.Interfaces) || st.FlowLogs != 1 || st.VPCs != 1 || st.Subnets != len(w.seed.Subnets) ||
			st.Calls[OpDescribeNetworkInterfaces][OutcomeOK] < uint64(len(w.seed.Interfaces)/5) || st.Age(time.Now()) != 0 {
			t.Errorf("stats %+v", st)
		}
	})
}

// Several flow logs in one group, of different formats: each stream gets the flow log of its
// interface (interface, then subnet, then VPC).
func TestFlowLogForStream(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, ec2emu.Config{}, 6)
		ifs := w.sim.Interfaces()
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(w.srv.PutFlowLog(ec2emu.FlowLog{ID: "fl-eni", ResourceID: ifs[0].ID, LogGroupName: "/flowd/demo", LogFormat: "${interface-id} ${action}"}))
		must(w.srv.PutFlowLog(ec2emu.FlowLog{ID: "fl-subnet", ResourceID: ifs[1].SubnetID, LogGroupName: "/flowd/demo", LogFormat: "${version} ${interface-id} ${action}"}))
		must(w.srv.PutFlowLog(ec2emu.FlowLog{ID: "fl-s3", ResourceID: w.sim.VPCID(), LogDestinationType: "s3", LogDestination: "arn:aws:s3:::bucket"}))
		inv := newInventory(t, w.client, Options{}, nil)
		must(inv.Refresh(context.Background()))
		snap := inv.Snapshot()
		groups := snap.LogGroups()
		if len(groups) != 1 || len(groups[0].FlowLogs) != 3 || len(groups[0].Formats) != 3 {
			t.Fatalf("groups %+v", groups)
		}
		g := &groups[0]
		want := map[string]string{ifs[0].Stream: "fl-eni", ifs[1].Stream: "fl-subnet"}
		for _, f := range ifs[2:] {
			want[f.Stream] = "fl-" + ""
			if f.SubnetID == ifs[1].SubnetID {
				want[f.Stream] = "fl-subnet"
			}
		}
		for stream, id := range want {
			got, ok := snap.FlowLogForStream(g, stream)
			if id == "fl-" {
				if !ok || got.ResourceID != w.sim.VPCID() {
					t.Errorf("stream %s: %+v %v, want the VPC's flow log", stream, got, ok)
				}
				continue
			}
			if !ok || got.ID != id {
				t.Errorf("stream %s: %s %v, want %s", stream, got.ID, ok, id)
			}
		}
		if _, ok := snap.FlowLogForStream(g, "eni-0unknown000000000-all"); ok {
			t.Error("an unknown interface in a group of several formats got a flow log")
		}
	})
}

// RequestLimitExceeded is retried with back-off in virtual time and counted; the refresh
// completes, and the shared limiter spaces the calls.
func TestThrottlingBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, ec2emu.Config{RateLimits: map[string]float64{ec2emu.ActionDescribeNetworkInterfaces: 0.5}, Burst: 1}, 30)
		inv := newInventory(t, w.client, Options{PageSize: 5, RequestsPerSecond: 100, Burst: 100, MaxAttempts: 20, BackoffBase: time.Second, BackoffMax: 4 * time.Second}, nil)
		start := time.Now()
		if err := inv.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := inv.Stats()
		pages := (len(w.seed.Interfaces) + 4) / 5
		if st.Interfaces != len(w.seed.Interfaces) || st.Calls[OpDescribeNetworkInterfaces][OutcomeOK] != uint64(pages) ||
			st.Calls[OpDescribeNetworkInterfaces][OutcomeThrottled] == 0 || st.Retries[OpDescribeNetworkInterfaces] != st.Calls[OpDescribeNetworkInterfaces][OutcomeThrottled] {
			t.Errorf("stats %+v, want %d pages and some throttling", st, pages)
		}
		// The emulator allows one call per 2s: the pages cannot have come faster.
		if d := time.Since(start); d < time.Duration(pages-1)*2*time.Second {
			t.Errorf("%d pages in %v of virtual time, faster than the emulator's bucket allows", pages, d)
		}
		if em := w.srv.Stats()[ec2emu.ActionDescribeNetworkInterfaces]; em.Throttled != st.Calls[OpDescribeNetworkInterfaces][OutcomeThrottled] {
			t.Errorf("the emulator throttled %d calls, the inventory counted %d", em.Throttled, st.Calls[OpDescribeNetworkInterfaces][OutcomeThrottled])
		}

		// flowd's own limiter: 2 requests/s, burst 1, shared by two inventories.
		var lims Limiters
		lim := lims.For("123456789012/us-east-1", 2, 1)
		if lims.For("123456789012/us-east-1", 50, 50) != lim {
			t.Fatal("Limiters.For gave a second limiter for one key")
		}
		w2 := newWorld(t, ec2emu.Config{}, 3)
		a := newInventory(t, w2.client, Options{Limiter: lim}, nil)
		b := newInventory(t, w2.client, Options{Limiter: lim}, nil)
		start = time.Now()
		if err := a.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := b.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		calls := 0
		for _, s := range w2.srv.Stats() {
			calls += int(s.Calls)
		}
		if d := time.Since(start); d < time.Duration(calls-1)*500*time.Millisecond {
			t.Errorf("%d calls in %v: the shared 2/s limiter was not respected", calls, d)
		}
	})
}

// A missing permission warns once, counts, leaves names out, and comes back when granted.
func TestUnauthorizedDegrades(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, ec2emu.Config{Denied: []string{ec2emu.ActionDescribeInstances, ec2emu.ActionDescribeFlowLogs}}, 5)
		core, logs := observer.New(zapcore.InfoLevel)
		inv := newInventory(t, w.client, Options{}, zap.New(core))
		for range 3 {
			if err := inv.Refresh(context.Background()); err != nil {
				t.Fatalf("a refused permission is not a failure: %v", err)
			}
		}
		snap := inv.Snapshot()
		f := w.sim.Interfaces()[0]
		if n, ok := snap.Interface(f.ID); !ok || n.Owner != OwnerInstance || n.Name != f.InstanceID {
			t.Errorf("without DescribeInstances: %+v, want the instance id as name", n)
		}
		if len(snap.FlowLogs) != 0 {
			t.Errorf("flow logs without permission: %+v", snap.FlowLogs)
		}
		warns := logs.FilterMessageSnippet("permission missing").All()
		if len(warns) != 2 {
			t.Errorf("%d warnings, want one per refused action: %v", len(warns), warns)
		}
		st := inv.Stats()
		if !st.Unauthorized[OpDescribeInstances] || !st.Unauthorized[OpDescribeFlowLogs] || st.Unauthorized[OpDescribeNetworkInterfaces] ||
			st.Calls[OpDescribeInstances][OutcomeUnauthorized] != 3 || st.RefreshFailures != 0 {
			t.Errorf("stats %+v", st)
		}
		if err := w.srv.SetDenied(ec2emu.ActionDescribeInstances, false); err != nil {
			t.Fatal(err)
		}
		if err := inv.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n, _ := inv.Snapshot().Interface(f.ID); n.Name != f.Role+"-1" {
			t.Errorf("permission granted: name %q, want %s-1", n.Name, f.Role)
		}
		if inv.Stats().Unauthorized[OpDescribeInstances] {
			t.Error("still marked unauthorized")
		}
	})
}

// Failures keep the last good picture; the cap bounds the interfaces kept.
func TestFailureKeepsLastPictureAndCap(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, ec2emu.Config{}, 12)
		inv := newInventory(t, w.client, Options{MaxInterfaces: 7, PageSize: 5, MaxAttempts: 2, BackoffBase: time.Second}, nil)
		if err := inv.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		snap := inv.Snapshot()
		if len(snap.Interfaces) != 7 || snap.DroppedInterfaces != len(w.seed.Interfaces)-7 {
			t.Fatalf("%d kept, %d dropped, of %d", len(snap.Interfaces), snap.DroppedInterfaces, len(w.seed.Interfaces))
		}
		for i, n := range snap.Interfaces {
			if n.ID != w.seed.Interfaces[i].ID {
				t.Errorf("kept %s at %d, want the first ids in order (%s)", n.ID, i, w.seed.Interfaces[i].ID)
			}
		}
		if err := w.srv.SetFault(ec2emu.ActionDescribeNetworkInterfaces, ec2emu.Fault{Kind: ec2emu.FaultInternalError}); err != nil {
			t.Fatal(err)
		}
		if err := w.srv.SetFault(ec2emu.ActionDescribeSubnets, ec2emu.Fault{Kind: ec2emu.FaultDisconnect}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		err := inv.Refresh(context.Background())
		if err == nil || !strings.Contains(err.Error(), "DescribeNetworkInterfaces") || !strings.Contains(err.Error(), "DescribeSubnets") {
			t.Fatalf("refresh with failing calls: %v", err)
		}
		next := inv.Snapshot()
		if len(next.Interfaces) != 7 || len(next.Subnets) != len(snap.Subnets) ||
			next.Taken.Sub(snap.Taken) < time.Minute+time.Second || next.Taken.Sub(snap.Taken) > time.Minute+2*time.Second { // two back-offs of 0.5-1s
			t.Errorf("after failures: %d interfaces, %d subnets, taken %v after", len(next.Interfaces), len(next.Subnets), next.Taken.Sub(snap.Taken))
		}
		st := inv.Stats()
		if st.RefreshFailures != 1 || st.Calls[OpDescribeNetworkInterfaces][OutcomeError] != 2 || st.Retries[OpDescribeSubnets] != 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

// Run refreshes every interval; flow logs appearing, changing format, failing and vanishing
// are logged and counted.
func TestRunFollowsFlowLogChanges(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, ec2emu.Config{}, 3)
		core, logs := observer.New(zapcore.InfoLevel)
		inv := newInventory(t, w.client, Options{RefreshInterval: time.Minute}, zap.New(core))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- inv.Run(ctx) }()
		synctest.Wait()
		if got := inv.Stats().Refreshes; got != 1 {
			t.Fatalf("%d refreshes at start, want 1", got)
		}
		id := w.seed.FlowLogs[0].ID
		_ = w.srv.PutFlowLog(ec2emu.FlowLog{ID: "fl-new", ResourceID: w.sim.VPCID(), LogGroupName: "/other", LogFormat: "${version}"})
		time.Sleep(time.Minute)
		synctest.Wait()
		changed := w.seed.FlowLogs[0]
		changed.LogFormat = "${version} ${action}"
		changed.DeliverLogsStatus, changed.DeliverLogsErrorMessage = "FAILED", "Access error"
		_ = w.srv.PutFlowLog(changed)
		w.srv.DeleteFlowLog("fl-new")
		time.Sleep(time.Minute)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		st := inv.Stats()
		if st.Refreshes != 3 || st.FlowLogChanges != 3 || st.FailedFlowLogs != 1 {
			t.Errorf("stats %+v, want 3 refreshes, 3 changes, 1 failing", st)
		}
		for _, msg := range []string{"flow log appeared", "flow log format changed", "flow log delivery failing", "flow log removed"} {
			if logs.FilterMessage(msg).Len() != 1 {
				t.Errorf("log %q: %d times", msg, logs.FilterMessage(msg).Len())
			}
		}
		if g := inv.Snapshot().LogGroups(); len(g) != 1 || g[0].Formats[0] != "${version} ${action}" || g[0].FlowLogs[0].ID != id {
			t.Errorf("groups %+v", g)
		}
	})
}

func TestOptionsErrors(t *testing.T) {
	t.Parallel()
	_, err := New(nil, Options{PageSize: 2, MaxInterfaces: -1, RequestsPerSecond: -1, RefreshInterval: time.Millisecond}, nil, nil)
	var oe *OptionError
	if !errors.As(err, &oe) {
		t.Fatalf("New: %v", err)
	}
	for _, f := range []string{"PageSize", "MaxInterfaces", "RequestsPerSecond", "RefreshInterval"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%v does not name %s", err, f)
		}
	}
}

// NewAWSClient's client reaches the emulator through the endpoint, with static credentials.
func TestNewAWSClient(t *testing.T) {
	t.Parallel()
	srv, err := ec2emu.New(ec2emu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.PutVPC(ec2emu.VPC{ID: "vpc-1", CIDR: netip.MustParsePrefix("10.1.0.0/16")})
	url, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop(context.Background()) }()
	c, err := NewAWSClient(context.Background(), ClientSpec{Region: "us-east-1", Endpoint: url},
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")),
		config.WithSharedConfigFiles(nil), config.WithSharedCredentialsFiles(nil))
	if err != nil {
		t.Fatal(err)
	}
	inv := newInventory(t, c, Options{}, nil)
	if err := inv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := inv.Snapshot().Classify(netip.MustParseAddr("10.1.2.3")); p.Kind != PeerVPC || p.VPCID != "vpc-1" {
		t.Errorf("Classify = %+v", p)
	}
}
