package metrics

import "github.com/prometheus/client_golang/prometheus"

// descs are the descriptors of every family the collector emits.
type descs struct {
	// Domain, from the aggregator snapshot.
	flows, packets, bytes                      *prometheus.Desc
	ifaceFlows, ifacePackets, ifaceBytes       *prometheus.Desc
	ifaceNoData, ifaceSkipData                 *prometheus.Desc
	uncounted                                  *prometheus.Desc
	lateRecords, futureRecords, untimedRecords *prometheus.Desc
	foldedRecords, foldedKeys, keys            *prometheus.Desc
	watermark                                  *prometheus.Desc
	winFlows, winBytes, winPackets             *prometheus.Desc
	topTalker, topRejected, scanPorts          *prometheus.Desc
	scanTargets                                *prometheus.Desc
	netFlows, netPackets, netBytes             *prometheus.Desc
	rejectedLeg, ifaceInfo, ifaceDirBytes      *prometheus.Desc

	// Pipeline.
	records, parseErrors, panics, queueDepth, queueCapacity, workers *prometheus.Desc

	// Ingest.
	apiRequests, apiRetries, apiTimeouts, pages, events, duplicates, lateEvents *prometheus.Desc
	sourceUp, sourceLastError                                                   *prometheus.Desc
	lag, ingestWatermark, lastSuccess, dedupEntries, dedupBytes                 *prometheus.Desc
	behind, tokenRestarts                                                       *prometheus.Desc

	// Checkpoint, reload, build, scrape.
	checkpointSuccess, checkpointFailures, checkpointBytes *prometheus.Desc
	reloadOK, reloadTime                                   *prometheus.Desc
	buildInfo, scrapeDuration                              *prometheus.Desc

	// layouts are the label layouts of the domain descriptors (series.go).
	layouts layouts
}

// networkLabels are the labels of the network families: action, direction and the dimensions in
// aggregate.Dimensions() order.
var networkLabels = []string{"action", "direction", "account_id", "vpc_id", "subnet_id", "az_id"}

// newDescs builds the descriptors; the families built from a snapshot (the domain ones) also
// carry the source label names.
func newDescs(source []string) *descs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	ls := layouts{}
	dom := func(name, help string, labels ...string) *prometheus.Desc {
		return ls.desc(name, help, append(append([]string(nil), labels...), source...))
	}
	return &descs{
		layouts:        ls,
		flows:          dom("flowd_flows_total", "Flow records counted, by action, direction, protocol and service port (folded ports are \"other\").", "action", "direction", "protocol", "port"),
		packets:        dom("flowd_packets_total", "Packets of the counted flow records, by action, direction, protocol and service port.", "action", "direction", "protocol", "port"),
		bytes:          dom("flowd_bytes_total", "Bytes of the counted flow records, by action, direction, protocol and service port.", "action", "direction", "protocol", "port"),
		ifaceFlows:     dom("flowd_interface_flows_total", "Flow records counted, by action and network interface (folded interfaces are \"other\").", "action", "interface_id"),
		ifacePackets:   dom("flowd_interface_packets_total", "Packets of the counted flow records, by action and network interface.", "action", "interface_id"),
		ifaceBytes:     dom("flowd_interface_bytes_total", "Bytes of the counted flow records, by action and network interface.", "action", "interface_id"),
		ifaceDirBytes:  dom("flowd_interface_direction_bytes_total", "Bytes of the counted flow records (both actions), by direction and network interface.", "direction", "interface_id"),
		netFlows:       dom("flowd_network_flows_total", "Flow records counted, by action, direction and the opt-in record dimensions (account, VPC, subnet, AZ; \"\" when off, \"other\" past the cap).", networkLabels...),
		netPackets:     dom("flowd_network_packets_total", "Packets of the counted flow records, by action, direction and the opt-in record dimensions.", networkLabels...),
		netBytes:       dom("flowd_network_bytes_total", "Bytes of the counted flow records, by action, direction and the opt-in record dimensions.", networkLabels...),
		rejectedLeg:    dom("flowd_interface_port_rejected_flows_total", "Rejected flow records by network interface, protocol, service port and leg: a rejected reply (server to client) is the signature of a network ACL blocking return traffic.", "interface_id", "protocol", "port", "leg"),
		ifaceInfo:      dom("flowd_interface_record_info", "A metric with a constant 1 labeled by what the flow records say about the network interface (\"\" when they do not say), for joins on interface_id.", "interface_id", "account_id", "vpc_id", "subnet_id", "az_id", "instance_id", "interface_type"),
		ifaceNoData:    dom("flowd_interface_nodata_records_total", "NODATA records (no traffic in the capture window), by network interface.", "interface_id"),
		ifaceSkipData:  dom("flowd_interface_skipdata_records_total", "SKIPDATA records (flow records AWS dropped), by network interface.", "interface_id"),
		uncounted:      dom("flowd_records_uncounted_total", "Records with log status OK that could not be counted as flows, by missing field.", "reason"),
		lateRecords:    dom("flowd_window_late_records_total", "Flow records older than the window ring: in the counters, not in the windows.", nil...),
		futureRecords:  dom("flowd_window_future_records_total", "Flow records dated further in the future than max_clock_skew: in the counters, not in the windows.", nil...),
		untimedRecords: dom("flowd_window_untimed_records_total", "Flow records without a start time: in the counters, not in the windows.", nil...),
		foldedRecords:  dom("flowd_aggregate_folded_records_total", "Flow records whose key (port, interface, dimension value, network or interface_port combination) was folded into \"other\" by a cardinality cap.", "dimension"),
		foldedKeys:     dom("flowd_aggregate_folded_keys", "Estimated distinct keys folded into \"other\" by a cardinality cap, by dimension.", "dimension"),
		keys:           dom("flowd_aggregate_keys", "Keys with their own series, \"other\" included, by dimension (reject_only_port: the port keys of the reject-only budget).", "dimension"),
		watermark:      dom("flowd_window_watermark_timestamp_seconds", "End of every sliding window: newest record start minus allowed lateness, in Unix seconds.", nil...),
		winFlows:       dom("flowd_window_flows", "Flow records whose start lies in the sliding window, by action and service port.", "window", "action", "port"),
		winBytes:       dom("flowd_window_bytes", "Bytes of the flow records in the sliding window, by action and service port.", "window", "action", "port"),
		winPackets:     dom("flowd_window_packets", "Packets of the flow records in the sliding window, by action and service port.", "window", "action", "port"),
		topTalker:      dom("flowd_window_top_talker_bytes", "Bytes of the top source and destination pairs in the sliding window (estimate; top-K only).", "window", "src_addr", "dst_addr"),
		topRejected:    dom("flowd_window_top_rejected_source_flows", "Rejected flow records of the top rejected sources in the sliding window (estimate; top-K only).", "window", "src_addr"),
		scanPorts:      dom("flowd_window_scan_candidate_ports", "Distinct rejected destination ports of sources that look like port scans in the sliding window.", "window", "src_addr"),
		scanTargets:    dom("flowd_window_scan_candidate_target_flows", "Rejected flow records of each scan candidate by the network interface they hit, in the sliding window (the first 4 interfaces per candidate; estimate).", "window", "src_addr", "interface_id"),

		records:       d("flowd_records_total", "Records read, by what became of them: ok, nodata, skipdata, malformed, unmatched (fits no configured format).", "status"),
		parseErrors:   d("flowd_parse_errors_total", "Malformed records, by parse error reason.", "reason"),
		panics:        d("flowd_worker_panics_total", "Panics recovered in the parse workers; the batch is dropped and the worker keeps running.", nil...),
		queueDepth:    d("flowd_ingest_queue_depth", "Batches waiting in the queue between ingest and the parse workers.", nil...),
		queueCapacity: d("flowd_ingest_queue_capacity", "Size of the queue between ingest and the parse workers, in batches.", nil...),
		workers:       d("flowd_parse_workers", "Number of parse workers.", nil...),

		apiRequests:     d("flowd_ingest_api_requests_total", "CloudWatch Logs API requests (attempts, retries included) by source, operation and outcome; log_group is empty for DescribeLogGroups discovery calls.", "log_group", "operation", "outcome"),
		apiRetries:      d("flowd_ingest_api_retries_total", "CloudWatch Logs API requests that were retries, by operation.", "operation"),
		apiTimeouts:     d("flowd_ingest_api_timeouts_total", "CloudWatch Logs API requests abandoned at their deadline (ingest.request_timeout) and retried, by operation; also counted as errors.", "operation"),
		pages:           d("flowd_ingest_pages_total", "FilterLogEvents pages read, by source and whether they held events.", "log_group", "kind"),
		events:          d("flowd_ingest_events_total", "Log events read and passed on (each exactly once), by source.", "log_group"),
		duplicates:      d("flowd_ingest_duplicate_events_total", "Log events read again by a later pass and dropped as duplicates, by source.", "log_group"),
		lateEvents:      d("flowd_ingest_late_events_total", "Log events ingested more than max_delay after their timestamp, by source.", "log_group"),
		lag:             d("flowd_ingest_lag_seconds", "Now minus the newest ingestion time seen, by source; absent until the source has read an event (see flowd_ingest_source_up).", "log_group"),
		sourceUp:        d("flowd_ingest_source_up", "1 if the source's latest CloudWatch Logs request succeeded, 0 if it failed or none was made yet (the reason is in flowd_ingest_source_last_error_info).", "log_group"),
		sourceLastError: d("flowd_ingest_source_last_error_info", "Why the source's latest CloudWatch Logs request failed (reason: throttled, transient, not_found, invalid_parameter, permanent, timeout); absent while it succeeds.", "log_group", "reason"),
		ingestWatermark: d("flowd_ingest_watermark_timestamp_seconds", "Event time before which the source's counts are final, in Unix seconds.", "log_group"),
		lastSuccess:     d("flowd_ingest_last_success_timestamp_seconds", "When the source last completed a read, in Unix seconds.", "log_group"),
		dedupEntries:    d("flowd_ingest_dedup_entries", "Event id hashes kept to drop duplicates, by source.", "log_group"),
		dedupBytes:      d("flowd_ingest_dedup_bytes", "Approximate memory of the duplicate filter, by source.", "log_group"),
		behind:          d("flowd_ingest_behind", "1 while the source has due time ranges it has not read yet (a backlog).", "log_group"),
		tokenRestarts:   d("flowd_ingest_token_restarts_total", "Time ranges re-read from the start after an invalid or expired nextToken, by source.", "log_group"),

		checkpointSuccess:  d("flowd_checkpoint_last_success_timestamp_seconds", "When the checkpoint was last written, in Unix seconds.", nil...),
		checkpointFailures: d("flowd_checkpoint_failures_total", "Checkpoint writes that failed.", nil...),
		checkpointBytes:    d("flowd_checkpoint_size_bytes", "Size of the last checkpoint written.", nil...),
		reloadOK:           d("flowd_config_last_reload_successful", "1 if the last configuration reload succeeded, 0 if it failed (the previous config stays in use).", nil...),
		reloadTime:         d("flowd_config_last_reload_success_timestamp_seconds", "When the configuration in use was loaded, in Unix seconds.", nil...),
		buildInfo:          d("flowd_build_info", "A metric with a constant 1 labeled by the version, revision and Go version flowd was built with.", "version", "revision", "goversion"),
		scrapeDuration:     d("flowd_scrape_duration_seconds", "Time the last scrape took to build flowd's metrics.", nil...),
	}
}

// all lists every descriptor, for Describe.
func (d *descs) all() []*prometheus.Desc {
	return []*prometheus.Desc{
		d.flows, d.packets, d.bytes, d.ifaceFlows, d.ifacePackets, d.ifaceBytes, d.ifaceNoData, d.ifaceSkipData,
		d.uncounted, d.lateRecords, d.futureRecords, d.untimedRecords, d.foldedRecords, d.foldedKeys, d.keys,
		d.watermark, d.winFlows, d.winBytes, d.winPackets, d.topTalker, d.topRejected, d.scanPorts, d.scanTargets,
		d.netFlows, d.netPackets, d.netBytes, d.rejectedLeg, d.ifaceInfo, d.ifaceDirBytes,
		d.records, d.parseErrors, d.panics, d.queueDepth, d.queueCapacity, d.workers,
		d.apiRequests, d.apiRetries, d.apiTimeouts, d.pages, d.events, d.duplicates, d.lateEvents, d.sourceUp, d.sourceLastError, d.lag, d.ingestWatermark,
		d.lastSuccess, d.dedupEntries, d.dedupBytes, d.behind, d.tokenRestarts,
		d.checkpointSuccess, d.checkpointFailures, d.checkpointBytes, d.reloadOK, d.reloadTime,
		d.buildInfo, d.scrapeDuration,
	}
}
