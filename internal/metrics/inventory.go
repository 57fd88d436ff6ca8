package metrics

import (
	"net/netip"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/inventory"
)

// InventoryView is one inventory (one account or role and Region) as the collector reads it.
type InventoryView struct {
	// Name labels its self-metrics (inventory="..."): the discovery rule, e.g. "us-east-1".
	Name     string
	Snapshot *inventory.Snapshot
	Stats    inventory.Stats
}

// InventoryCollector exposes the EC2 inventory: one flowd_interface_info series per kept
// interface (at most Options.MaxInterfaces per inventory), one flowd_flow_log_info series per
// flow log (at most Options.MaxFlowLogs), and the inventories' own health. Views is called at
// each scrape and must not block (it reads snapshots; it never calls AWS).
type InventoryCollector struct {
	views func() []InventoryView
	now   func() time.Time
	// addrs, if set, lists the addresses to classify into flowd_address_info (TopAddresses of
	// the published aggregate snapshot).
	addrs func() []netip.Addr

	ifaceInfo, flowLogInfo, addrInfo           *prometheus.Desc
	requests, retries, denied                  *prometheus.Desc
	refreshes, refreshFailures, flowLogChanges *prometheus.Desc
	lastRefresh, age, objects, dropped         *prometheus.Desc
}

// NewInventoryCollector returns a collector over views; now is the clock of the age gauge
// (nil: time.Now).
func NewInventoryCollector(views func() []InventoryView, now func() time.Time) *InventoryCollector {
	if now == nil {
		now = time.Now
	}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &InventoryCollector{
		views: views, now: now,
		ifaceInfo: d("flowd_interface_info", "A network interface known to the EC2 inventory, with its owner and name; join on interface_id with group_left.",
			"interface_id", "owner", "name", "type", "vpc_id", "subnet_id", "instance_id"),
		addrInfo: d("flowd_address_info", "An address of the top-K window families, classified by the EC2 inventory: a known interface (owner, name), a subnet, a VPC, an AWS service, private space or the internet; join on the address with label_replace.",
			"addr", "peer_kind", "owner", "name", "interface_id", "subnet_id", "vpc_id", "service"),
		flowLogInfo: d("flowd_flow_log_info", "A flow log known to the EC2 inventory, with its destination and delivery status.",
			"flow_log_id", "resource_id", "destination_type", "log_group", "traffic_type", "deliver_status"),
		requests:        d("flowd_inventory_api_requests_total", "EC2 API attempts of the inventory, by operation and outcome (ok, throttled, unauthorized, error).", "inventory", "operation", "outcome"),
		retries:         d("flowd_inventory_api_retries_total", "EC2 API attempts of the inventory after the first of a call (throttling, server errors, transport failures).", "inventory", "operation"),
		denied:          d("flowd_inventory_permission_missing", "1 if the last call of the operation was refused (UnauthorizedOperation): grant ec2:<operation> to get what it names.", "inventory", "operation"),
		refreshes:       d("flowd_inventory_refreshes_total", "Inventory refreshes.", "inventory"),
		refreshFailures: d("flowd_inventory_refresh_failures_total", "Inventory refreshes in which some part failed (its last good value was kept).", "inventory"),
		flowLogChanges:  d("flowd_inventory_flow_log_changes_total", "Flow logs that appeared, disappeared or changed format after the first refresh.", "inventory"),
		lastRefresh:     d("flowd_inventory_last_refresh_timestamp_seconds", "When the inventory's current picture was taken (0: never).", "inventory"),
		age:             d("flowd_inventory_age_seconds", "Age of the inventory's current picture (0: never refreshed).", "inventory"),
		objects:         d("flowd_inventory_objects", "Objects in the inventory's current picture, by kind (interfaces, subnets, vpcs, flow_logs, failing_flow_logs).", "inventory", "kind"),
		dropped:         d("flowd_inventory_interfaces_dropped", "Interfaces beyond the inventory's max_interfaces cap at the last listing (they have no info series).", "inventory"),
	}
}

// WithAddresses makes the collector classify addrs' addresses at each scrape into
// flowd_address_info (at most as many series as the top-K families hold addresses).
func (c *InventoryCollector) WithAddresses(addrs func() []netip.Addr) *InventoryCollector {
	c.addrs = addrs
	return c
}

// TopAddresses returns the distinct addresses of a snapshot's top-K window families (top
// talkers' sources and destinations, top rejected sources, scan candidates), sorted.
func TopAddresses(s *aggregate.Snapshot) []netip.Addr {
	if s == nil {
		return nil
	}
	var out []netip.Addr
	for _, w := range s.Windows {
		for _, t := range w.TopTalkers {
			out = append(out, t.Src, t.Dst)
		}
		for _, r := range w.TopRejectedSources {
			out = append(out, r.Src)
		}
		for _, r := range w.ScanCandidates {
			out = append(out, r.Src)
		}
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return slices.Compact(out)
}

// peerRank orders classifications: the most specific wins when several inventories answer.
var peerRank = map[inventory.PeerKind]int{inventory.PeerInterface: 6, inventory.PeerSubnet: 5, inventory.PeerVPC: 4,
	inventory.PeerAWS: 3, inventory.PeerPrivate: 2, inventory.PeerInternet: 1}

func (c *InventoryCollector) collectAddresses(ch chan<- prometheus.Metric, views []InventoryView) {
	for _, a := range c.addrs() {
		if !a.IsValid() {
			continue
		}
		best := inventory.Peer{Kind: inventory.PeerInternet}
		if len(views) == 0 {
			best = (*inventory.Snapshot)(nil).Classify(a)
		}
		for _, v := range views {
			if p := v.Snapshot.Classify(a); peerRank[p.Kind] > peerRank[best.Kind] || (p.Kind == best.Kind && best.Service == "" && p.Service != "") {
				best = p
			}
		}
		ch <- prometheus.MustNewConstMetric(c.addrInfo, prometheus.GaugeValue, 1, a.String(), string(best.Kind), string(best.Owner),
			best.Name, best.InterfaceID, best.SubnetID, best.VPCID, best.Service)
	}
}

// Describe sends every descriptor.
func (c *InventoryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.ifaceInfo, c.flowLogInfo, c.addrInfo, c.requests, c.retries, c.denied, c.refreshes,
		c.refreshFailures, c.flowLogChanges, c.lastRefresh, c.age, c.objects, c.dropped} {
		ch <- d
	}
}

// Collect builds the families from the current views.
func (c *InventoryCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	seenIface := map[string]bool{}
	seenFlowLog := map[string]bool{}
	views := c.views()
	if c.addrs != nil {
		c.collectAddresses(ch, views)
	}
	for _, v := range views {
		gauge := func(d *prometheus.Desc, x float64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, x, labels...)
		}
		counter := func(d *prometheus.Desc, x uint64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(x), labels...)
		}
		st := v.Stats
		for op := range inventory.NumOperations {
			for oc := range inventory.NumOutcomes {
				counter(c.requests, st.Calls[op][oc], v.Name, op.String(), oc.String())
			}
			counter(c.retries, st.Retries[op], v.Name, op.String())
			denied := 0.0
			if st.Unauthorized[op] {
				denied = 1
			}
			gauge(c.denied, denied, v.Name, op.String())
		}
		counter(c.refreshes, st.Refreshes, v.Name)
		counter(c.refreshFailures, st.RefreshFailures, v.Name)
		counter(c.flowLogChanges, st.FlowLogChanges, v.Name)
		gauge(c.lastRefresh, UnixSeconds(st.LastRefresh), v.Name)
		gauge(c.age, st.Age(now).Seconds(), v.Name)
		for _, k := range []struct {
			kind string
			n    int
		}{{"interfaces", st.Interfaces}, {"subnets", st.Subnets}, {"vpcs", st.VPCs}, {"flow_logs", st.FlowLogs}, {"failing_flow_logs", st.FailedFlowLogs}} {
			gauge(c.objects, float64(k.n), v.Name, k.kind)
		}
		gauge(c.dropped, float64(st.DroppedInterfaces), v.Name)

		if v.Snapshot == nil {
			continue
		}
		for i := range v.Snapshot.Interfaces {
			n := &v.Snapshot.Interfaces[i]
			if seenIface[n.ID] { // two inventories seeing one interface (a shared VPC): report it once
				continue
			}
			seenIface[n.ID] = true
			gauge(c.ifaceInfo, 1, n.ID, string(n.Owner), n.Name, n.Type, n.VPCID, n.SubnetID, n.InstanceID)
		}
		for i := range v.Snapshot.FlowLogs {
			f := &v.Snapshot.FlowLogs[i]
			if seenFlowLog[f.ID] {
				continue
			}
			seenFlowLog[f.ID] = true
			gauge(c.flowLogInfo, 1, f.ID, f.ResourceID, f.DestinationType, f.LogGroup, f.TrafficType, f.DeliverStatus)
		}
	}
}
