package inventory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// Defaults applied to zero Options fields.
const (
	DefaultRefreshInterval   = 5 * time.Minute
	DefaultMaxInterfaces     = 10000
	DefaultMaxFlowLogs       = 1000
	DefaultMaxSubnets        = 10000
	DefaultPageSize          = 1000
	DefaultRequestsPerSecond = 2
	DefaultBurst             = 5
	DefaultBackoffBase       = 500 * time.Millisecond
	DefaultBackoffMax        = 30 * time.Second
	DefaultMaxAttempts       = 6
)

// maxAddrsPerInterface bounds the addresses kept per interface (a NAT gateway or a trunk may
// carry many secondary addresses; the first ones name it well enough).
const maxAddrsPerInterface = 16

// Options configure an Inventory. The zero value means every default.
type Options struct {
	// RefreshInterval is the time between refreshes (5m).
	RefreshInterval time.Duration
	// MaxInterfaces caps the interfaces kept (10,000, in id order); the rest are counted in
	// Snapshot.DroppedInterfaces. It also bounds flowd_interface_info.
	MaxInterfaces int
	// MaxFlowLogs and MaxSubnets cap the flow logs (1,000) and the subnets and VPCs (10,000 each).
	MaxFlowLogs, MaxSubnets int
	// PageSize is MaxResults of every paged call (1,000, EC2's maximum).
	PageSize int32
	// Limiter is the shared per account/Region budget; nil: one of RequestsPerSecond (2) and
	// Burst (5) for this inventory alone. Use Limiters to share.
	Limiter           *rate.Limiter
	RequestsPerSecond float64
	Burst             int
	// BackoffBase, BackoffMax and MaxAttempts shape retries of throttled and failed calls
	// (500ms, 30s, 6 attempts per call).
	BackoffBase, BackoffMax time.Duration
	MaxAttempts             int
	// IPRanges classifies AWS service addresses (nil: none are).
	IPRanges *IPRanges
	// Seed seeds the back-off jitter (tests make it reproducible).
	Seed uint64
}

// OptionError names a bad Options field.
type OptionError struct {
	Field  string
	Value  any
	Reason string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("inventory option %s = %v: %s", e.Field, e.Value, e.Reason)
}

func (o Options) normalize() (Options, error) {
	var errs []error
	bad := func(f string, v any, why string) { errs = append(errs, &OptionError{f, v, why}) }
	def := func(p *int, d int, name string) {
		if *p == 0 {
			*p = d
		} else if *p < 0 {
			bad(name, *p, "must be > 0")
		}
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = DefaultRefreshInterval
	} else if o.RefreshInterval < time.Second {
		bad("RefreshInterval", o.RefreshInterval, "must be at least 1s")
	}
	def(&o.MaxInterfaces, DefaultMaxInterfaces, "MaxInterfaces")
	def(&o.MaxFlowLogs, DefaultMaxFlowLogs, "MaxFlowLogs")
	def(&o.MaxSubnets, DefaultMaxSubnets, "MaxSubnets")
	def(&o.Burst, DefaultBurst, "Burst")
	def(&o.MaxAttempts, DefaultMaxAttempts, "MaxAttempts")
	if o.PageSize == 0 {
		o.PageSize = DefaultPageSize
	} else if o.PageSize < 5 || o.PageSize > 1000 {
		bad("PageSize", o.PageSize, "must be in [5, 1000] (EC2's MaxResults range)")
	}
	if o.RequestsPerSecond == 0 {
		o.RequestsPerSecond = DefaultRequestsPerSecond
	} else if !(o.RequestsPerSecond > 0) {
		bad("RequestsPerSecond", o.RequestsPerSecond, "must be > 0")
	}
	if o.BackoffBase == 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.BackoffBase < 0 || o.BackoffMax < o.BackoffBase {
		bad("BackoffMax", o.BackoffMax, "must be >= BackoffBase > 0")
	}
	return o, errors.Join(errs...)
}

// Inventory keeps a bounded, periodically refreshed picture of one account and Region's flow
// logs, interfaces, subnets and VPCs, within a small API budget. Readers take immutable
// Snapshots; nothing they do calls AWS.
type Inventory struct {
	api   API
	opts  Options
	clock Clock
	log   *zap.Logger
	gate  *gate

	snap atomic.Pointer[Snapshot]

	mu          sync.Mutex // guards the fields below
	lastAttempt time.Time
	lastError   error
	warned      [NumOperations]bool // an UnauthorizedOperation was logged
	denied      [NumOperations]bool // the last call was refused
	refreshes   uint64
	failures    uint64
	changes     uint64 // flow logs added, removed or changed
	instNames   map[string]string
}

// New returns an inventory; call Refresh or Run to fill it.
func New(api API, opts Options, clock Clock, logger *zap.Logger) (*Inventory, error) {
	opts, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if api == nil {
		return nil, &OptionError{"api", nil, "an EC2 client is required"}
	}
	if clock == nil {
		clock = SystemClock{}
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	lim := opts.Limiter
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(opts.RequestsPerSecond), opts.Burst)
	}
	inv := &Inventory{
		api: api, opts: opts, clock: clock, log: logger,
		gate: &gate{lim: lim, clock: clock, backoff: backoff{opts.BackoffBase, opts.BackoffMax, opts.MaxAttempts},
			rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x1a2b))},
	}
	empty := &Snapshot{ranges: opts.IPRanges}
	empty.index()
	inv.snap.Store(empty)
	return inv, nil
}

// Snapshot returns the latest picture (never nil; empty before the first refresh).
func (inv *Inventory) Snapshot() *Snapshot { return inv.snap.Load() }

// SetIPRanges swaps the AWS ranges used by later snapshots and the current one (on reload).
func (inv *Inventory) SetIPRanges(r *IPRanges) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.opts.IPRanges = r
	cur := *inv.snap.Load()
	cur.ranges = r
	inv.snap.Store(&cur)
}

// Run refreshes at once and then every RefreshInterval until ctx ends. Failures are logged
// and counted; the last good picture stays. It returns nil when ctx ends.
func (inv *Inventory) Run(ctx context.Context) error {
	for {
		if err := inv.Refresh(ctx); err != nil && ctx.Err() == nil {
			inv.log.Warn("inventory refresh incomplete, keeping what was known", zap.Error(err))
		}
		if sleep(ctx, inv.clock, inv.opts.RefreshInterval) != nil {
			return nil
		}
	}
}

// Refresh lists everything once and publishes a new Snapshot. Each part (flow logs, VPCs,
// subnets, interfaces, instance names) fails alone: a part that fails keeps its last good
// value, and a refused permission (UnauthorizedOperation) is logged once and leaves that part
// empty, so counting goes on without names. The error joins the parts' failures.
func (inv *Inventory) Refresh(ctx context.Context) error {
	prev := inv.snap.Load()
	inv.mu.Lock()
	inv.lastAttempt = inv.clock.Now()
	inv.mu.Unlock()

	next := &Snapshot{ranges: inv.ipRanges()}
	var errs []error
	part := func(op Operation, err error) bool {
		switch {
		case err == nil:
			inv.setDenied(op, false)
			return true
		case errors.Is(err, ErrUnauthorized):
			inv.setDenied(op, true)
			return false
		}
		errs = append(errs, err)
		return false
	}

	if fls, err := inv.flowLogs(ctx); part(OpDescribeFlowLogs, err) {
		next.FlowLogs = fls
	} else if !inv.isDenied(OpDescribeFlowLogs) {
		next.FlowLogs = prev.FlowLogs
	}
	if vpcs, err := inv.vpcs(ctx); part(OpDescribeVpcs, err) {
		next.VPCs = vpcs
	} else if !inv.isDenied(OpDescribeVpcs) {
		next.VPCs = prev.VPCs
	}
	if subnets, err := inv.subnets(ctx); part(OpDescribeSubnets, err) {
		next.Subnets = subnets
	} else if !inv.isDenied(OpDescribeSubnets) {
		next.Subnets = prev.Subnets
	}
	raw, dropped, err := inv.interfaces(ctx)
	ifacesOK := part(OpDescribeNetworkInterfaces, err)
	if ifacesOK {
		names, err := inv.instanceNames(ctx, raw)
		if part(OpDescribeInstances, err) {
			inv.mu.Lock()
			inv.instNames = names
			inv.mu.Unlock()
		}
		inv.mu.Lock()
		names = inv.instNames
		inv.mu.Unlock()
		next.Interfaces = nameInterfaces(raw, names)
		next.DroppedInterfaces = dropped
	} else if !inv.isDenied(OpDescribeNetworkInterfaces) {
		next.Interfaces, next.DroppedInterfaces = prev.Interfaces, prev.DroppedInterfaces
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	next.Taken = inv.clock.Now()
	next.index()
	inv.reportFlowLogChanges(prev, next)
	inv.snap.Store(next)

	err = errors.Join(errs...)
	inv.mu.Lock()
	inv.refreshes++
	if err != nil {
		inv.failures++
	}
	inv.lastError = err
	inv.mu.Unlock()
	return err
}

func (inv *Inventory) ipRanges() *IPRanges {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.opts.IPRanges
}

func (inv *Inventory) isDenied(op Operation) bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.denied[op]
}

// setDenied records whether op was refused, warning once (and once more after it was allowed
// again and then refused anew).
func (inv *Inventory) setDenied(op Operation, denied bool) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.denied[op] = denied
	if !denied {
		if inv.warned[op] {
			inv.log.Info("ec2 permission granted again, names are back", zap.String("action", "ec2:"+op.String()))
		}
		inv.warned[op] = false
		return
	}
	if !inv.warned[op] {
		inv.warned[op] = true
		inv.log.Warn("ec2 permission missing: counting continues without what this action names; grant it to get names (see docs/inventory.md)",
			zap.String("action", "ec2:"+op.String()), zap.String("effect", deniedEffect[op]))
	}
}

var deniedEffect = [NumOperations]string{
	OpDescribeFlowLogs:          "flow logs are not discovered",
	OpDescribeNetworkInterfaces: "interfaces have no owner or name",
	OpDescribeSubnets:           "addresses are not placed in subnets",
	OpDescribeVpcs:              "addresses are not placed in VPCs",
	OpDescribeInstances:         "instances have no Name",
}

func (inv *Inventory) flowLogs(ctx context.Context) ([]FlowLog, error) {
	var out []FlowLog
	p := ec2.NewDescribeFlowLogsPaginator(inv.api, &ec2.DescribeFlowLogsInput{MaxResults: aws.Int32(inv.opts.PageSize)}, func(o *ec2.DescribeFlowLogsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for p.HasMorePages() {
		var page *ec2.DescribeFlowLogsOutput
		err := inv.gate.do(ctx, OpDescribeFlowLogs, func() (err error) { page, err = p.NextPage(ctx); return err })
		if err != nil {
			return nil, err
		}
		for _, f := range page.FlowLogs {
			if len(out) == inv.opts.MaxFlowLogs {
				break
			}
			out = append(out, FlowLog{
				ID: aws.ToString(f.FlowLogId), ResourceID: aws.ToString(f.ResourceId),
				DestinationType: string(f.LogDestinationType), LogGroup: aws.ToString(f.LogGroupName),
				Format: aws.ToString(f.LogFormat), DeliverStatus: aws.ToString(f.DeliverLogsStatus),
				DeliverError: aws.ToString(f.DeliverLogsErrorMessage), TrafficType: string(f.TrafficType),
				AggregationInterval: time.Duration(aws.ToInt32(f.MaxAggregationInterval)) * time.Second,
				Created:             aws.ToTime(f.CreationTime),
			})
		}
	}
	slices.SortFunc(out, func(a, b FlowLog) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func nameTag(tags []types.Tag) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == "Name" {
			return boundName(aws.ToString(t.Value))
		}
	}
	return ""
}

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		if p, err := netip.ParsePrefix(s); err == nil && !slices.Contains(out, p.Masked()) {
			out = append(out, p.Masked())
		}
	}
	return out
}

func (inv *Inventory) vpcs(ctx context.Context) ([]VPC, error) {
	var out []VPC
	p := ec2.NewDescribeVpcsPaginator(inv.api, &ec2.DescribeVpcsInput{MaxResults: aws.Int32(inv.opts.PageSize)}, func(o *ec2.DescribeVpcsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for p.HasMorePages() {
		var page *ec2.DescribeVpcsOutput
		if err := inv.gate.do(ctx, OpDescribeVpcs, func() (err error) { page, err = p.NextPage(ctx); return err }); err != nil {
			return nil, err
		}
		for _, v := range page.Vpcs {
			if len(out) == inv.opts.MaxSubnets {
				break
			}
			cidrs := []string{aws.ToString(v.CidrBlock)}
			for _, a := range v.CidrBlockAssociationSet {
				cidrs = append(cidrs, aws.ToString(a.CidrBlock))
			}
			for _, a := range v.Ipv6CidrBlockAssociationSet {
				cidrs = append(cidrs, aws.ToString(a.Ipv6CidrBlock))
			}
			out = append(out, VPC{ID: aws.ToString(v.VpcId), Name: nameTag(v.Tags), CIDRs: prefixes(cidrs...)})
		}
	}
	return out, nil
}

func (inv *Inventory) subnets(ctx context.Context) ([]Subnet, error) {
	var out []Subnet
	p := ec2.NewDescribeSubnetsPaginator(inv.api, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(inv.opts.PageSize)}, func(o *ec2.DescribeSubnetsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for p.HasMorePages() {
		var page *ec2.DescribeSubnetsOutput
		if err := inv.gate.do(ctx, OpDescribeSubnets, func() (err error) { page, err = p.NextPage(ctx); return err }); err != nil {
			return nil, err
		}
		for _, s := range page.Subnets {
			if len(out) == inv.opts.MaxSubnets {
				break
			}
			cidrs := []string{aws.ToString(s.CidrBlock)}
			for _, a := range s.Ipv6CidrBlockAssociationSet {
				cidrs = append(cidrs, aws.ToString(a.Ipv6CidrBlock))
			}
			out = append(out, Subnet{ID: aws.ToString(s.SubnetId), VPCID: aws.ToString(s.VpcId), AZ: aws.ToString(s.AvailabilityZone),
				Name: nameTag(s.Tags), CIDRs: prefixes(cidrs...)})
		}
	}
	return out, nil
}

// interfaces lists every interface (managed ones included), keeping the first MaxInterfaces
// in id order; dropped counts the rest.
func (inv *Inventory) interfaces(ctx context.Context) (kept []types.NetworkInterface, dropped int, err error) {
	in := &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(inv.opts.PageSize), IncludeManagedResources: aws.Bool(true)}
	p := ec2.NewDescribeNetworkInterfacesPaginator(inv.api, in, func(o *ec2.DescribeNetworkInterfacesPaginatorOptions) { o.StopOnDuplicateToken = true })
	for p.HasMorePages() {
		var page *ec2.DescribeNetworkInterfacesOutput
		if err := inv.gate.do(ctx, OpDescribeNetworkInterfaces, func() (err error) { page, err = p.NextPage(ctx); return err }); err != nil {
			return nil, 0, err
		}
		for _, n := range page.NetworkInterfaces {
			kept = append(kept, trimInterface(n))
		}
		// Keep memory bounded while paging: sort and cut whenever the list doubles the cap.
		if len(kept) >= 2*inv.opts.MaxInterfaces {
			kept, dropped = cutInterfaces(kept, inv.opts.MaxInterfaces, dropped)
		}
	}
	kept, dropped = cutInterfaces(kept, inv.opts.MaxInterfaces, dropped)
	return kept, dropped, nil
}

func cutInterfaces(l []types.NetworkInterface, n, dropped int) ([]types.NetworkInterface, int) {
	slices.SortFunc(l, func(a, b types.NetworkInterface) int {
		return strings.Compare(aws.ToString(a.NetworkInterfaceId), aws.ToString(b.NetworkInterfaceId))
	})
	if len(l) <= n {
		return l, dropped
	}
	dropped += len(l) - n
	return slices.Clip(l[:n]), dropped
}

// trimInterface keeps what naming needs, so that a page's other members can be freed.
func trimInterface(n types.NetworkInterface) types.NetworkInterface {
	t := types.NetworkInterface{
		NetworkInterfaceId: n.NetworkInterfaceId, InterfaceType: n.InterfaceType, Description: n.Description,
		RequesterId: n.RequesterId, RequesterManaged: n.RequesterManaged, Status: n.Status, VpcId: n.VpcId,
		SubnetId: n.SubnetId, AvailabilityZone: n.AvailabilityZone, Operator: n.Operator, Association: n.Association,
	}
	if n.Attachment != nil {
		t.Attachment = &types.NetworkInterfaceAttachment{InstanceId: n.Attachment.InstanceId}
	}
	for _, tag := range n.TagSet {
		switch aws.ToString(tag.Key) {
		case "vpcresources.k8s.aws/cluster-name", "cluster.k8s.amazonaws.com/name", "node.k8s.amazonaws.com/instance_id",
			"eks:cluster-name", "aws:ecs:serviceName", "aws:ecs:clusterName":
			t.TagSet = append(t.TagSet, tag)
		}
	}
	for i, a := range n.PrivateIpAddresses {
		if i == maxAddrsPerInterface {
			break
		}
		t.PrivateIpAddresses = append(t.PrivateIpAddresses, types.NetworkInterfacePrivateIpAddress{PrivateIpAddress: a.PrivateIpAddress})
	}
	if len(t.PrivateIpAddresses) == 0 && n.PrivateIpAddress != nil {
		t.PrivateIpAddresses = []types.NetworkInterfacePrivateIpAddress{{PrivateIpAddress: n.PrivateIpAddress}}
	}
	for i, a := range n.Ipv6Addresses {
		if i == maxAddrsPerInterface {
			break
		}
		t.Ipv6Addresses = append(t.Ipv6Addresses, types.NetworkInterfaceIpv6Address{Ipv6Address: a.Ipv6Address})
	}
	return t
}

// instanceNames pages DescribeInstances and keeps the Name tags of the instances the kept
// interfaces are attached to (so memory follows the interface cap, not the account's size).
func (inv *Inventory) instanceNames(ctx context.Context, ifaces []types.NetworkInterface) (map[string]string, error) {
	want := map[string]bool{}
	for _, n := range ifaces {
		if n.Attachment != nil && aws.ToString(n.Attachment.InstanceId) != "" {
			want[aws.ToString(n.Attachment.InstanceId)] = true
		}
		if d := aws.ToString(n.Description); strings.HasPrefix(d, "aws-K8S-i-") {
			want[strings.TrimPrefix(d, "aws-K8S-")] = true
		}
	}
	names := map[string]string{}
	if len(want) == 0 {
		return names, nil
	}
	p := ec2.NewDescribeInstancesPaginator(inv.api, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(inv.opts.PageSize)}, func(o *ec2.DescribeInstancesPaginatorOptions) { o.StopOnDuplicateToken = true })
	for p.HasMorePages() {
		var page *ec2.DescribeInstancesOutput
		if err := inv.gate.do(ctx, OpDescribeInstances, func() (err error) { page, err = p.NextPage(ctx); return err }); err != nil {
			return nil, err
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				id := aws.ToString(in.InstanceId)
				if want[id] {
					if name := nameTag(in.Tags); name != "" {
						names[id] = name
					}
				}
			}
		}
	}
	return names, nil
}

func nameInterfaces(raw []types.NetworkInterface, names map[string]string) []Interface {
	out := make([]Interface, 0, len(raw))
	lookup := func(id string) string { return names[id] }
	for i := range raw {
		n := &raw[i]
		owner, name := ownerOf(n, lookup)
		it := Interface{
			ID: aws.ToString(n.NetworkInterfaceId), Owner: owner, Name: boundName(name), Type: string(n.InterfaceType),
			VPCID: aws.ToString(n.VpcId), SubnetID: aws.ToString(n.SubnetId), AZ: aws.ToString(n.AvailabilityZone),
		}
		if n.Attachment != nil {
			it.InstanceID = aws.ToString(n.Attachment.InstanceId)
		}
		for _, a := range n.PrivateIpAddresses {
			if ad, err := netip.ParseAddr(aws.ToString(a.PrivateIpAddress)); err == nil {
				it.Addrs = append(it.Addrs, ad)
			}
		}
		for _, a := range n.Ipv6Addresses {
			if ad, err := netip.ParseAddr(aws.ToString(a.Ipv6Address)); err == nil {
				it.Addrs = append(it.Addrs, ad)
			}
		}
		if n.Association != nil {
			if ad, err := netip.ParseAddr(aws.ToString(n.Association.PublicIp)); err == nil {
				it.Addrs = append(it.Addrs, ad)
			}
		}
		out = append(out, it)
	}
	return out
}

// reportFlowLogChanges logs flow logs that appeared, vanished, changed format or started or
// stopped failing, and counts them.
func (inv *Inventory) reportFlowLogChanges(prev, next *Snapshot) {
	old := map[string]*FlowLog{}
	for i := range prev.FlowLogs {
		old[prev.FlowLogs[i].ID] = &prev.FlowLogs[i]
	}
	first := prev.Taken.IsZero()
	n := 0
	for i := range next.FlowLogs {
		f := &next.FlowLogs[i]
		o, ok := old[f.ID]
		delete(old, f.ID)
		fields := []zap.Field{zap.String("flow_log_id", f.ID), zap.String("log_group", f.LogGroup), zap.String("resource_id", f.ResourceID)}
		switch {
		case !ok:
			if !first {
				n++
				inv.log.Info("flow log appeared", append(fields, zap.String("log_format", f.Format))...)
			}
		case o.Format != f.Format:
			n++
			inv.log.Warn("flow log format changed", append(fields, zap.String("old_format", o.Format), zap.String("log_format", f.Format))...)
		}
		if f.Failed() && (!ok || !o.Failed()) {
			inv.log.Warn("flow log delivery failing", append(fields, zap.String("deliver_status", f.DeliverStatus), zap.String("error", f.DeliverError))...)
		} else if ok && o.Failed() && !f.Failed() {
			inv.log.Info("flow log delivering again", fields...)
		}
	}
	for id, o := range old {
		n++
		inv.log.Info("flow log removed", zap.String("flow_log_id", id), zap.String("log_group", o.LogGroup))
	}
	inv.mu.Lock()
	inv.changes += uint64(n)
	inv.mu.Unlock()
}
