package ec2emu

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The seeded network reads back through the SDK exactly as stored: every member the inventory
// relies on survives the XML round trip.
func TestSeededNetworkThroughSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	sim := testSim(t, 14)
	inv := FromSimulator(sim, SeedOptions{LogGroup: "/flowd/demo", LogFormat: "${version} ${interface-id} ${action}"})
	e.load(t, inv)
	ctx := context.Background()

	out, err := e.client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{IncludeManagedResources: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.NetworkInterfaces) != len(inv.Interfaces) {
		t.Fatalf("got %d interfaces, stored %d", len(out.NetworkInterfaces), len(inv.Interfaces))
	}
	for i, got := range out.NetworkInterfaces {
		want := inv.Interfaces[i]
		if aws.ToString(got.NetworkInterfaceId) != want.ID || aws.ToString(got.Description) != want.Description ||
			string(got.InterfaceType) != orDefault(want.InterfaceType, "interface") || aws.ToString(got.RequesterId) != want.RequesterID ||
			aws.ToBool(got.RequesterManaged) != want.RequesterManaged || aws.ToString(got.SubnetId) != want.SubnetID ||
			aws.ToString(got.VpcId) != want.VPCID || aws.ToString(got.PrivateIpAddress) != want.PrivateIPs[0].String() {
			t.Errorf("interface %d: got %+v, stored %+v", i, got, want)
		}
		if (got.Attachment != nil) != (want.Attachment != nil) {
			t.Errorf("%s: attachment %v, stored %v", want.ID, got.Attachment, want.Attachment)
		} else if want.Attachment != nil && aws.ToString(got.Attachment.InstanceId) != want.Attachment.InstanceID {
			t.Errorf("%s: attached to %q, stored %q", want.ID, aws.ToString(got.Attachment.InstanceId), want.Attachment.InstanceID)
		}
		if len(want.IPv6Addresses) > 0 && (len(got.Ipv6Addresses) != 1 || aws.ToString(got.Ipv6Addresses[0].Ipv6Address) != want.IPv6Addresses[0].String()) {
			t.Errorf("%s: IPv6 %+v, stored %v", want.ID, got.Ipv6Addresses, want.IPv6Addresses)
		}
		if want.Managed != (got.Operator != nil && aws.ToBool(got.Operator.Managed)) {
			t.Errorf("%s: operator %+v, managed %v", want.ID, got.Operator, want.Managed)
		}
	}

	// Every simulated interface is in the answer, inside its subnet, inside the VPC.
	subnets, err := e.client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	vpcs, err := e.client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vpcs.Vpcs) != 1 || aws.ToString(vpcs.Vpcs[0].VpcId) != sim.VPCID() {
		t.Fatalf("vpcs %+v, want only %s", vpcs.Vpcs, sim.VPCID())
	}
	vpcCIDR := netip.MustParsePrefix(aws.ToString(vpcs.Vpcs[0].CidrBlock))
	cidr := map[string]netip.Prefix{}
	cidr6 := map[string]netip.Prefix{}
	for _, sn := range subnets.Subnets {
		p := netip.MustParsePrefix(aws.ToString(sn.CidrBlock))
		if !vpcCIDR.Contains(p.Addr()) || aws.ToString(sn.VpcId) != sim.VPCID() {
			t.Errorf("subnet %s %s not in VPC %s", aws.ToString(sn.SubnetId), p, vpcCIDR)
		}
		cidr[aws.ToString(sn.SubnetId)] = p
		if len(sn.Ipv6CidrBlockAssociationSet) == 1 {
			cidr6[aws.ToString(sn.SubnetId)] = netip.MustParsePrefix(aws.ToString(sn.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock))
		}
	}
	byID := map[string]types.NetworkInterface{}
	for _, n := range out.NetworkInterfaces {
		byID[aws.ToString(n.NetworkInterfaceId)] = n
		if p, ok := cidr[aws.ToString(n.SubnetId)]; !ok || !p.Contains(netip.MustParseAddr(aws.ToString(n.PrivateIpAddress))) {
			t.Errorf("%s: address %s outside its subnet %s (%v)", aws.ToString(n.NetworkInterfaceId), aws.ToString(n.PrivateIpAddress), aws.ToString(n.SubnetId), p)
		}
	}
	seen := map[string]bool{}
	for _, f := range sim.Interfaces() {
		n, ok := byID[f.ID]
		if !ok {
			t.Errorf("simulated interface %s missing", f.ID)
			continue
		}
		if aws.ToString(n.Attachment.InstanceId) != f.InstanceID || aws.ToString(n.SubnetId) != f.SubnetID {
			t.Errorf("%s: instance %s subnet %s, simulated %s %s", f.ID, aws.ToString(n.Attachment.InstanceId), aws.ToString(n.SubnetId), f.InstanceID, f.SubnetID)
		}
		if p := cidr6[f.SubnetID]; !p.Contains(f.IPv6) {
			t.Errorf("%s: IPv6 %s outside subnet /64 %s", f.ID, f.IPv6, p)
		}
		if seen[aws.ToString(n.PrivateIpAddress)] {
			t.Errorf("address %s used twice", aws.ToString(n.PrivateIpAddress))
		}
		seen[aws.ToString(n.PrivateIpAddress)] = true
	}

	// Instances carry their Name tags and their interfaces.
	res, err := e.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:Name"), Values: []string{"web-*"}}}})
	if err != nil {
		t.Fatal(err)
	}
	webs := 0
	for _, r := range res.Reservations {
		for _, in := range r.Instances {
			webs++
			name := ""
			for _, tag := range in.Tags {
				if aws.ToString(tag.Key) == "Name" {
					name = aws.ToString(tag.Value)
				}
			}
			if !strings.HasPrefix(name, "web-") || len(in.NetworkInterfaces) != 1 || in.State.Name != types.InstanceStateNameRunning {
				t.Errorf("instance %s: name %q, %d interfaces, state %v", aws.ToString(in.InstanceId), name, len(in.NetworkInterfaces), in.State.Name)
			}
		}
	}
	wantWebs := 0
	for _, f := range sim.Interfaces() {
		if f.Role == "web" {
			wantWebs++
		}
	}
	if webs != wantWebs || webs == 0 {
		t.Errorf("tag:Name=web-* found %d instances, the simulator has %d web servers", webs, wantWebs)
	}

	// The flow log: exact format, group, status.
	fl, err := e.client.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fl.FlowLogs) != 1 {
		t.Fatalf("flow logs %+v", fl.FlowLogs)
	}
	f := fl.FlowLogs[0]
	if aws.ToString(f.LogFormat) != "${version} ${interface-id} ${action}" || aws.ToString(f.LogGroupName) != "/flowd/demo" ||
		aws.ToString(f.ResourceId) != sim.VPCID() || aws.ToString(f.DeliverLogsStatus) != "SUCCESS" ||
		f.LogDestinationType != types.LogDestinationTypeCloudWatchLogs || f.TrafficType != types.TrafficTypeAll ||
		aws.ToInt32(f.MaxAggregationInterval) != 600 || f.CreationTime == nil ||
		aws.ToString(f.LogDestination) != "arn:aws:logs:us-east-1:123456789012:log-group:/flowd/demo" {
		t.Errorf("flow log %+v", f)
	}
}

// Managed interfaces are hidden unless asked for (or the account shows them).
func TestIncludeManagedResources(t *testing.T) {
	t.Parallel()
	for _, show := range []bool{false, true} {
		e := newEnv(t, Config{ShowManaged: show})
		e.load(t, FromSimulator(testSim(t, 3), SeedOptions{}))
		all := len(e.srv.Snapshot().Interfaces)
		hidden, _ := allInterfaces(t, e.client, &ec2.DescribeNetworkInterfacesInput{})
		with, _ := allInterfaces(t, e.client, &ec2.DescribeNetworkInterfacesInput{IncludeManagedResources: aws.Bool(true)})
		wantHidden := all - 1
		if show {
			wantHidden = all
		}
		if len(hidden) != wantHidden || len(with) != all {
			t.Errorf("ShowManaged=%v: %d without IncludeManagedResources (want %d), %d with (want %d)", show, len(hidden), wantHidden, len(with), all)
		}
	}
}

// Paging through the SDK's paginators lists everything once, in id order, for every action,
// with short pages mixed in.
func TestPagingEveryAction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{ShortPageProbability: 0.4, Seed: 3})
	var inv Inventory
	for i := range 57 {
		id := string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		inv.VPCs = append(inv.VPCs, VPC{ID: "vpc-" + id, CIDR: netip.MustParsePrefix("10.0.0.0/16")})
		inv.Subnets = append(inv.Subnets, Subnet{ID: "subnet-" + id, VPCID: "vpc-a", CIDR: netip.MustParsePrefix("10.0.0.0/24")})
		inv.Instances = append(inv.Instances, Instance{ID: "i-" + id})
		inv.Interfaces = append(inv.Interfaces, NetworkInterface{ID: "eni-" + id, PrivateIPs: []netip.Addr{netip.MustParseAddr("10.0.0.9")}})
		inv.FlowLogs = append(inv.FlowLogs, FlowLog{ID: "fl-" + id, ResourceID: "vpc-a", LogGroupName: "g"})
	}
	e.load(t, inv)
	ctx := context.Background()
	check := func(name string, got []string, pages int, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: listed %d ids %v, want %d", name, len(got), got, len(want))
		}
		if pages < len(want)/5 {
			t.Errorf("%s: %d pages for %d items at 5 per page", name, pages, len(want))
		}
	}
	snap := e.srv.Snapshot()
	var want []string
	for _, n := range snap.Interfaces {
		want = append(want, n.ID)
	}
	got, pages := allInterfaces(t, e.client, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5)})
	check("DescribeNetworkInterfaces", got, pages, want)

	want, got, pages = nil, nil, 0
	for _, v := range snap.Subnets {
		want = append(want, v.ID)
	}
	sp := ec2.NewDescribeSubnetsPaginator(e.client, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(5)})
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, v := range page.Subnets {
			got = append(got, aws.ToString(v.SubnetId))
		}
	}
	check("DescribeSubnets", got, pages, want)

	want, got, pages = nil, nil, 0
	for _, v := range snap.VPCs {
		want = append(want, v.ID)
	}
	vp := ec2.NewDescribeVpcsPaginator(e.client, &ec2.DescribeVpcsInput{MaxResults: aws.Int32(5)})
	for vp.HasMorePages() {
		page, err := vp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, v := range page.Vpcs {
			got = append(got, aws.ToString(v.VpcId))
		}
	}
	check("DescribeVpcs", got, pages, want)

	want, got, pages = nil, nil, 0
	for _, v := range snap.Instances {
		want = append(want, v.ID)
	}
	ip := ec2.NewDescribeInstancesPaginator(e.client, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				got = append(got, aws.ToString(in.InstanceId))
			}
		}
	}
	check("DescribeInstances", got, pages, want)

	want, got, pages = nil, nil, 0
	for _, v := range snap.FlowLogs {
		want = append(want, v.ID)
	}
	fp := ec2.NewDescribeFlowLogsPaginator(e.client, &ec2.DescribeFlowLogsInput{MaxResults: aws.Int32(5)})
	for fp.HasMorePages() {
		page, err := fp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, v := range page.FlowLogs {
			got = append(got, aws.ToString(v.FlowLogId))
		}
	}
	check("DescribeFlowLogs", got, pages, want)
	st := e.srv.Stats()[ActionDescribeFlowLogs]
	if st.PagesWithToken == 0 || st.OK != uint64(pages) {
		t.Errorf("flow log stats %+v after %d pages", st, pages)
	}
}

// A resource deleted between two pages is not listed after its deletion; the others are
// listed once each.
func TestPagingSurvivesChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	for _, id := range []string{"eni-1", "eni-2", "eni-3", "eni-4", "eni-5", "eni-6", "eni-7"} {
		if err := e.srv.PutNetworkInterface(NetworkInterface{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	first, err := e.client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5)})
	if err != nil || len(first.NetworkInterfaces) != 5 || first.NextToken == nil {
		t.Fatalf("first page %v, %v", first, err)
	}
	e.srv.DeleteNetworkInterface("eni-2") // already listed
	e.srv.DeleteNetworkInterface("eni-6") // not yet listed
	_ = e.srv.PutNetworkInterface(NetworkInterface{ID: "eni-0"})
	second, err := e.client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5), NextToken: first.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range second.NetworkInterfaces {
		ids = append(ids, aws.ToString(n.NetworkInterfaceId))
	}
	if !slices.Equal(ids, []string{"eni-7"}) || second.NextToken != nil {
		t.Errorf("second page %v (token %v), want [eni-7] and the end", ids, second.NextToken)
	}
}
