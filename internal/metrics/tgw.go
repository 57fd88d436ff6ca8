package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/parse"
)

// tgwDescs are the transit gateway families. Transit gateway records have no action, so they
// are never in flowd_flows_total and its siblings (which would imply an ACCEPT): they have
// families of their own. Worst-case series, with A = MaxTGWAttachments (default 500) and P the
// port keys (MaxPorts plus one "other" per protocol seen):
//
//	flowd_tgw_{flows,packets,bytes}_total        (A+2) attachments × 3 resource types × 3 directions
//	flowd_tgw_port_{flows,packets,bytes}_total   P
//	flowd_tgw_packets_lost_total                 (A+2) × 4 reasons
//	flowd_tgw_records_total                      3 statuses; flowd_tgw_records_uncounted_total 1
//
// (the two extra attachment keys are "other", past the cap, and "-", records without one).
type tgwDescs struct {
	flows, packets, bytes             *prometheus.Desc
	portFlows, portPackets, portBytes *prometheus.Desc
	lost, records, uncounted          *prometheus.Desc
	layouts                           layouts
}

// newTGWDescs builds the descriptors; every family carries the source label names too.
func newTGWDescs(source []string) *tgwDescs {
	ls := layouts{}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return ls.desc(name, help, append(append([]string(nil), labels...), source...))
	}
	att := []string{"tgw_attachment_id", "resource_type", "direction"}
	return &tgwDescs{
		layouts:     ls,
		flows:       d("flowd_tgw_flows_total", "Transit gateway flow records counted, by attachment (folded attachments are \"other\"), resource type and direction.", att...),
		packets:     d("flowd_tgw_packets_total", "Packets of the counted transit gateway flow records, by attachment, resource type and direction.", att...),
		bytes:       d("flowd_tgw_bytes_total", "Bytes of the counted transit gateway flow records, by attachment, resource type and direction.", att...),
		portFlows:   d("flowd_tgw_port_flows_total", "Transit gateway flow records counted, by protocol and service port.", "protocol", "port"),
		portPackets: d("flowd_tgw_port_packets_total", "Packets of the counted transit gateway flow records, by protocol and service port.", "protocol", "port"),
		portBytes:   d("flowd_tgw_port_bytes_total", "Bytes of the counted transit gateway flow records, by protocol and service port.", "protocol", "port"),
		lost:        d("flowd_tgw_packets_lost_total", "Packets a transit gateway lost, by attachment and reason: no_route, blackhole, mtu_exceeded, ttl_expired.", "tgw_attachment_id", "reason"),
		records:     d("flowd_tgw_records_total", "Transit gateway flow log records read, by log-status: ok, nodata, skipdata.", "status"),
		uncounted:   d("flowd_tgw_records_uncounted_total", "Transit gateway records with log-status OK that could not be counted as flows (no packets or bytes).", nil...),
	}
}

func (d *tgwDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.flows, d.packets, d.bytes, d.portFlows, d.portPackets, d.portBytes, d.lost, d.records, d.uncounted}
}

// resourceTypeLabel is the resource_type label value.
func resourceTypeLabel(t parse.ResourceType) string {
	switch t {
	case parse.ResourceTypeTransitGateway:
		return "transit_gateway"
	case parse.ResourceTypeTransitGatewayAttachment:
		return "transit_gateway_attachment"
	}
	return "none"
}

// directionLabel is the direction label value.
func directionLabel(d parse.FlowDirection) string {
	switch d {
	case parse.FlowDirectionIngress:
		return "ingress"
	case parse.FlowDirectionEgress:
		return "egress"
	}
	return "unknown" // as the VPC families say it
}

// collectTGW sends the transit gateway families of a snapshot, and the attachment fold.
func (c *Collector) collectTGW(ch chan<- prometheus.Metric, s *aggregate.TGWSnapshot, source []string) {
	d := c.td
	sc := newScrapeSeries(ch, d.layouts, &c.tgwPairHint)
	defer sc.done(&c.tgwPairHint)
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		sc.send(desc, prometheus.CounterValue, float64(v), labels, source)
	}
	if s.Records == 0 {
		return // no transit gateway flow log: no series
	}
	for _, a := range s.Attachments {
		rt, dir := resourceTypeLabel(a.ResourceType), directionLabel(a.FlowDirection)
		counter(d.flows, a.Flows, a.AttachmentID, rt, dir)
		counter(d.packets, a.Packets, a.AttachmentID, rt, dir)
		counter(d.bytes, a.Bytes, a.AttachmentID, rt, dir)
	}
	for _, p := range s.Ports {
		proto, port := protocolLabels[p.Protocol], PortLabel(p.Port, p.Other)
		counter(d.portFlows, p.Flows, proto, port)
		counter(d.portPackets, p.Packets, proto, port)
		counter(d.portBytes, p.Bytes, proto, port)
	}
	for _, l := range s.Lost {
		counter(d.lost, l.Packets, l.AttachmentID, l.Reason.String())
	}
	counter(d.records, s.Records-s.NoData-s.SkipData, "ok")
	counter(d.records, s.NoData, "nodata")
	counter(d.records, s.SkipData, "skipdata")
	counter(d.uncounted, s.Uncounted)
	counter(c.d.foldedRecords, s.AttachmentFold.Records, "tgw_attachment")
	ch <- prometheus.MustNewConstMetric(c.d.foldedKeys, prometheus.GaugeValue, float64(s.AttachmentFold.DistinctKeys), append([]string{"tgw_attachment"}, source...)...)
}
