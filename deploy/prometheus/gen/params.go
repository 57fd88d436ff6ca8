package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Params are every threshold, window and selector of the shipped rules. They live in one YAML file
// (deploy/prometheus/params.yml) so users change them in one place and regenerate the rule file.
type Params struct {
	// Selector holds the label matchers that pick flowd's series, without braces: `job="flowd"`.
	Selector string `yaml:"selector"`
	// GroupBy lists the labels kept when series are summed, e.g. "job" or "cluster, job".
	GroupBy string `yaml:"group_by"`
	// RunbookURL is the address of docs/alerts.md; each alert appends its #anchor.
	RunbookURL string `yaml:"runbook_url"`
	// RateWindow is the range of every rate() in the recording rules (their names say rate5m).
	RateWindow model.Duration `yaml:"rate_window"`
	// BaselineWindow is how far back the traffic baselines average the recorded rates.
	BaselineWindow model.Duration `yaml:"baseline_window"`
	// BaselineOffset shifts the baseline into the past so that a spike does not raise its own
	// baseline while its alert is pending.
	BaselineOffset model.Duration `yaml:"baseline_offset"`

	RejectSpike     RejectSpike     `yaml:"reject_spike"`
	SSHRDP          SSHRDP          `yaml:"ssh_rdp_storm"`
	PortScan        PortScan        `yaml:"port_scan"`
	InterfaceSurge  Surge           `yaml:"interface_reject_surge"`
	TGWDrops        TGWDrops        `yaml:"tgw_drops"`
	IngestLag       IngestLag       `yaml:"ingest_lag"`
	Throttled       Throttled       `yaml:"ingest_throttled"`
	ParseErrors     ParseErrors     `yaml:"parse_errors"`
	SkipData        ForOnly         `yaml:"skipdata"`
	SourceNotPolled SourceNotPolled `yaml:"source_not_polled"`
	Down            ForOnly         `yaml:"down"`
	Checkpoint      Checkpoint      `yaml:"checkpoint_failing"`
	RejectedReplies RejectedReplies `yaml:"rejected_replies"`

	KinesisLag           KinesisLag        `yaml:"kinesis_lag"`
	KinesisUnowned       ForOnly           `yaml:"kinesis_shards_unowned"`
	KinesisLeasesLost    KinesisLeasesLost `yaml:"kinesis_leases_lost"`
	KinesisUncheckpoints ForOnly           `yaml:"kinesis_uncheckpointed"`
}

// KinesisLag tunes FlowdKinesisLag: how far behind the newest record of its shards the Kinesis
// source reads.
type KinesisLag struct {
	// Max is the largest MillisBehindLatest tolerated, as a duration.
	Max model.Duration `yaml:"max"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// KinesisLeasesLost tunes FlowdKinesisLeasesLost: shard leases lost by live replicas.
type KinesisLeasesLost struct {
	// Window is the range over which lost leases are counted.
	Window model.Duration `yaml:"window"`
	// Max is the number of leases of one stream that may be lost within Window without a
	// warning.
	Max float64 `yaml:"max"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// RejectedReplies tunes FlowdRejectedReplies: replies of a service rejected on an interface,
// the signature of a network ACL blocking return traffic.
type RejectedReplies struct {
	// MinRate is rejected replies per second on one (interface, protocol, port).
	MinRate float64 `yaml:"min_rate"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// RejectSpike tunes FlowdRejectSpike: the reject rate against its own baseline.
type RejectSpike struct {
	// Factor is how many times its baseline the reject rate must be.
	Factor float64 `yaml:"factor"`
	// MinRate is the floor (rejected flows per second, all ports) below which nothing pages.
	MinRate float64 `yaml:"min_rate"`
	// PortMinRate is the same floor for one port.
	PortMinRate float64 `yaml:"port_min_rate"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// SSHRDP tunes FlowdSSHRDPRejectStorm.
type SSHRDP struct {
	// Ports is a regular expression over the port label.
	Ports string `yaml:"ports"`
	// MinRate is rejected flows per second to those ports.
	MinRate float64 `yaml:"min_rate"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// PortScan tunes FlowdPortScan.
type PortScan struct {
	// Window is the value of flowd's window label to read (1m, 5m or 15m).
	Window string `yaml:"window"`
	// MinPorts is the number of distinct rejected destination ports of one source.
	MinPorts float64 `yaml:"min_ports"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
	// ExcludeSources is a regular expression over src_addr of sources never counted (your own
	// vulnerability scanner); "" excludes none.
	ExcludeSources string `yaml:"exclude_sources"`
}

// Surge tunes FlowdInterfaceRejectSurge: one interface's reject rate against its baseline.
type Surge struct {
	// Factor is how many times its baseline the interface's reject rate must be.
	Factor float64 `yaml:"factor"`
	// MinRate is the floor in rejected flows per second on the interface.
	MinRate float64 `yaml:"min_rate"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// IngestLag tunes FlowdIngestLagHigh.
type IngestLag struct {
	// Max is the delay budget: lag above it risks records being settled before they are read.
	Max model.Duration `yaml:"max"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// Throttled tunes FlowdIngestThrottled.
type Throttled struct {
	// MaxRatio is the share of CloudWatch Logs calls answered with a throttle.
	MaxRatio float64 `yaml:"max_ratio"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// TGWDrops tunes FlowdTransitGatewayDrops.
type TGWDrops struct {
	// MinRate is the lost packets per second (blackhole or no route, per attachment) above
	// which the alert is pending.
	MinRate float64 `yaml:"min_rate"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// ParseErrors tunes FlowdParseErrors.
type ParseErrors struct {
	// MinRate is the parse errors per second above which the alert is pending.
	MinRate float64 `yaml:"min_rate"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// SourceNotPolled tunes FlowdSourceNotPolled.
type SourceNotPolled struct {
	// MaxAge is the longest time since a source's last successful poll.
	MaxAge model.Duration `yaml:"max_age"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// Checkpoint tunes FlowdCheckpointFailing.
type Checkpoint struct {
	// MaxAge is the longest time since the last successful checkpoint write.
	MaxAge model.Duration `yaml:"max_age"`
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// ForOnly tunes an alert whose only parameter is its pending duration.
type ForOnly struct {
	// For is how long the condition must hold.
	For model.Duration `yaml:"for"`
}

// ParamsError names the parameter that is wrong and why.
type ParamsError struct {
	Path   string
	Reason string
}

func (e *ParamsError) Error() string { return e.Path + ": " + e.Reason }

// LoadParams decodes params strictly (an unknown key is an error) and validates them.
func LoadParams(r io.Reader) (*Params, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read params: %w", err)
	}
	var p Params
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decode params: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

var (
	labelList  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*(\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*)*$`)
	windowName = regexp.MustCompile(`^(1m|5m|15m)$`)
)

// Validate reports every bad parameter at once, each naming its YAML path.
func (p *Params) Validate() error {
	var errs []error
	bad := func(path, reason string) { errs = append(errs, &ParamsError{Path: path, Reason: reason}) }
	if strings.TrimSpace(p.Selector) == "" {
		bad("selector", `must not be empty (it would match every job's "up" series); e.g. job="flowd"`)
	} else if strings.ContainsAny(p.Selector, "{}") {
		bad("selector", "write the matchers without braces")
	}
	if !labelList.MatchString(p.GroupBy) {
		bad("group_by", "must be a comma-separated list of label names, e.g. job")
	}
	if p.RunbookURL == "" || strings.Contains(p.RunbookURL, "#") {
		bad("runbook_url", "must be the address of docs/alerts.md without an #anchor")
	}
	positive := func(path string, d model.Duration) {
		if d <= 0 {
			bad(path, "must be a positive duration such as 5m")
		}
	}
	nonNegative := func(path string, d model.Duration) {
		if d < 0 {
			bad(path, "must not be negative")
		}
	}
	positive("rate_window", p.RateWindow)
	if p.BaselineWindow <= p.RateWindow {
		bad("baseline_window", "must be longer than rate_window")
	}
	if p.BaselineOffset < p.RateWindow {
		bad("baseline_offset", "must be at least rate_window")
	}
	// A new series' recorded rate ramps up from zero over rate_window, so while the baseline
	// still averages that ramp the ratio to it is about 2*rate_window/age. A factor of at least 2
	// and a "for" of at least rate_window keep that ramp from ever paging.
	factor := func(path string, f float64) {
		if f < 2 {
			bad(path, "must be at least 2 (a multiple of the baseline)")
		}
	}
	spikeFor := func(path string, d model.Duration) {
		if d < p.RateWindow {
			bad(path, "must be at least rate_window")
		}
		if d > p.BaselineOffset {
			bad(path, "must not exceed baseline_offset, or the spike raises its own baseline while pending")
		}
	}
	floor := func(path string, f float64) {
		if f <= 0 {
			bad(path, "must be positive, so that a quiet VPC never pages")
		}
	}
	factor("reject_spike.factor", p.RejectSpike.Factor)
	floor("reject_spike.min_rate", p.RejectSpike.MinRate)
	floor("reject_spike.port_min_rate", p.RejectSpike.PortMinRate)
	spikeFor("reject_spike.for", p.RejectSpike.For)
	if p.SSHRDP.Ports == "" {
		bad("ssh_rdp_storm.ports", "must be a regular expression over the port label, e.g. 22|3389")
	} else if _, err := regexp.Compile("^(?:" + p.SSHRDP.Ports + ")$"); err != nil {
		bad("ssh_rdp_storm.ports", "bad regular expression: "+err.Error())
	}
	floor("ssh_rdp_storm.min_rate", p.SSHRDP.MinRate)
	nonNegative("ssh_rdp_storm.for", p.SSHRDP.For)
	if !windowName.MatchString(p.PortScan.Window) {
		bad("port_scan.window", "must be one of flowd's windows: 1m, 5m, 15m")
	}
	if p.PortScan.MinPorts < 2 {
		bad("port_scan.min_ports", "must be at least 2")
	}
	nonNegative("port_scan.for", p.PortScan.For)
	if _, err := regexp.Compile("^(?:" + p.PortScan.ExcludeSources + ")$"); err != nil {
		bad("port_scan.exclude_sources", "bad regular expression: "+err.Error())
	} else if strings.ContainsAny(p.PortScan.ExcludeSources, `"\`) {
		bad("port_scan.exclude_sources", "must not contain quotes or backslashes")
	}
	floor("rejected_replies.min_rate", p.RejectedReplies.MinRate)
	nonNegative("rejected_replies.for", p.RejectedReplies.For)
	factor("interface_reject_surge.factor", p.InterfaceSurge.Factor)
	floor("interface_reject_surge.min_rate", p.InterfaceSurge.MinRate)
	spikeFor("interface_reject_surge.for", p.InterfaceSurge.For)
	if p.TGWDrops.MinRate < 0 {
		bad("tgw_drops.min_rate", "must not be negative")
	}
	nonNegative("tgw_drops.for", p.TGWDrops.For)
	positive("ingest_lag.max", p.IngestLag.Max)
	nonNegative("ingest_lag.for", p.IngestLag.For)
	if p.Throttled.MaxRatio <= 0 || p.Throttled.MaxRatio >= 1 {
		bad("ingest_throttled.max_ratio", "must be between 0 and 1")
	}
	nonNegative("ingest_throttled.for", p.Throttled.For)
	if p.ParseErrors.MinRate < 0 {
		bad("parse_errors.min_rate", "must not be negative")
	}
	nonNegative("parse_errors.for", p.ParseErrors.For)
	nonNegative("skipdata.for", p.SkipData.For)
	positive("source_not_polled.max_age", p.SourceNotPolled.MaxAge)
	nonNegative("source_not_polled.for", p.SourceNotPolled.For)
	nonNegative("down.for", p.Down.For)
	positive("checkpoint_failing.max_age", p.Checkpoint.MaxAge)
	nonNegative("checkpoint_failing.for", p.Checkpoint.For)
	positive("kinesis_lag.max", p.KinesisLag.Max)
	nonNegative("kinesis_lag.for", p.KinesisLag.For)
	nonNegative("kinesis_shards_unowned.for", p.KinesisUnowned.For)
	if p.KinesisLeasesLost.Window < p.RateWindow {
		bad("kinesis_leases_lost.window", "must be at least rate_window")
	}
	if p.KinesisLeasesLost.Max < 0 {
		bad("kinesis_leases_lost.max", "must not be negative")
	}
	nonNegative("kinesis_leases_lost.for", p.KinesisLeasesLost.For)
	nonNegative("kinesis_uncheckpointed.for", p.KinesisUncheckpoints.For)
	return errors.Join(errs...)
}

// seconds renders a duration as a number of seconds for comparisons with timestamps and gauges.
func seconds(d model.Duration) string {
	return fmt.Sprint(time.Duration(d).Seconds())
}
