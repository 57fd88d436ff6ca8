package simulate

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// SeedFormat is the custom version 3 format of the usual Terraform set-up (`aws_flow_log` with a
// `log_format`), in Terraform's escaped spelling: the 14 default fields followed by the 7
// version 3 fields.
const SeedFormat = "$${version} $${account-id} $${interface-id} $${srcaddr} $${dstaddr} $${srcport} $${dstport} " +
	"$${protocol} $${packets} $${bytes} $${start} $${end} $${action} $${log-status} " +
	"$${vpc-id} $${subnet-id} $${instance-id} $${tcp-flags} $${type} $${pkt-srcaddr} $${pkt-dstaddr}"

// FullV5Format has every field of versions 2 to 5, in the order of the AWS documentation.
const FullV5Format = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} " +
	"${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} " +
	"${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} " +
	"${region} ${az-id} ${sublocation-type} ${sublocation-id} " +
	"${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}"

// Limits of the configuration. They keep the model's address plan valid (10,000 interfaces fit
// its /20 subnets) and reject values that are surely typos.
const (
	MaxInterfaces       = 10000
	MaxVPCs             = 8
	MaxFlowsPerInterval = 100000
	MaxDelay            = 2 * time.Hour
)

// Config describes the virtual VPC, its traffic and how its records are delivered. Start from
// DefaultConfig: New validates every field and does not fill zero values in, because zero is a
// meaningful value for several of them (DelayMin, StragglerFraction, Seed).
type Config struct {
	// Seed selects the VPC (ids, addresses, talkers) and all the traffic: the same Config
	// gives the same records, byte for byte.
	Seed uint64
	// Start is the beginning of simulated time: the first aggregation interval of each
	// interface starts at or after it. Scenario events are placed relative to it.
	Start time.Time
	// Interfaces is the number of network interfaces, one log stream each (1 to MaxInterfaces).
	Interfaces int
	// VPCs is the number of peered VPCs the interfaces are spread over (1 to MaxVPCs): interface
	// i is in VPC i % VPCs, each VPC a 10.k.0.0/16 with nine subnets (three tiers in three AZs).
	VPCs int
	// Format renders the records; nil means the default version 2 format.
	Format *parse.Format
	// Interval is the flow log's maximum aggregation interval: 60s or 600s, as AWS allows.
	Interval time.Duration
	// FlowsPerInterval is the mean number of flow records of a typical busy interface per
	// interval. Interfaces are weighted (a few heavy talkers, some idle ones), so the mean
	// over all interfaces is of the same order, not exactly this.
	FlowsPerInterval int
	// DelayMin and DelayMax bound the delivery delay of an interval's batch after the interval
	// ends, except for stragglers. Delays are skewed towards DelayMin.
	DelayMin, DelayMax time.Duration
	// StragglerFraction of the batches is delivered after DelayMax, up to StragglerMax.
	StragglerFraction float64
	// StragglerMax bounds the delay of stragglers; it must be at least DelayMax when
	// StragglerFraction is not 0.
	StragglerMax time.Duration
	// Scenario names the traffic pattern on top of the steady traffic (see Scenarios).
	Scenario string
	// EventAt and EventDuration place the event of the reject-spike, port-scan and late-burst
	// scenarios: it covers event time [Start+EventAt, Start+EventAt+EventDuration).
	EventAt, EventDuration time.Duration
	// ScanPorts is the number of distinct ports a port scan probes.
	ScanPorts int
	// DemoPeriod is the period of the demo scenario's reject spikes and port scans.
	DemoPeriod time.Duration
	// IPv6Fraction of the internet clients of the web servers use IPv6.
	IPv6Fraction float64
	// SkipDataRate is the probability that an interface's interval loses records and shows a
	// SKIPDATA record.
	SkipDataRate float64
	// AccountID is the 12-digit AWS account that owns the interfaces.
	AccountID string
	// Region is the AWS Region of the VPC; it selects the availability zone ids.
	Region string
	// TruthByPort keeps Truth.ByPort, a map keyed by (protocol, srcport, dstport, action).
	// Ephemeral ports make it grow with the traffic, so leave it off in long runs.
	TruthByPort bool
	// Tick is how often Run advances the simulation in real time.
	Tick time.Duration
}

// DefaultConfig returns a realistic configuration: 20 interfaces, the default format, 60 s
// intervals, delivery 1 to 6 minutes late with 1% stragglers up to 12 minutes, steady traffic.
// The caller still sets Start.
func DefaultConfig() Config {
	return Config{
		Seed:              1,
		Interfaces:        20,
		VPCs:              1,
		Interval:          time.Minute,
		FlowsPerInterval:  20,
		DelayMin:          time.Minute,
		DelayMax:          6 * time.Minute,
		StragglerFraction: 0.01,
		StragglerMax:      12 * time.Minute,
		Scenario:          ScenarioSteady,
		EventAt:           5 * time.Minute,
		EventDuration:     3 * time.Minute,
		ScanPorts:         300,
		DemoPeriod:        5 * time.Minute,
		IPv6Fraction:      0.1,
		SkipDataRate:      0.002,
		AccountID:         "123456789012",
		Region:            "us-east-1",
		Tick:              time.Second,
	}
}

// ConfigError is one invalid Config field.
type ConfigError struct {
	Field  string // the Config field name
	Value  any    // the rejected value
	Reason string // what it must be
}

// Error names the field, the value and the rule.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("simulate: config %s = %v: %s", e.Field, e.Value, e.Reason)
}

// Validate reports every invalid field of c as a *ConfigError, joined with errors.Join.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field string, value any, reason string) {
		errs = append(errs, &ConfigError{Field: field, Value: value, Reason: reason})
	}
	if c.Start.IsZero() || c.Start.Unix() < 0 {
		bad("Start", c.Start, "must be set, after 1970")
	}
	if c.Interfaces < 1 || c.Interfaces > MaxInterfaces {
		bad("Interfaces", c.Interfaces, fmt.Sprintf("must be 1 to %d", MaxInterfaces))
	}
	if c.VPCs < 1 || c.VPCs > MaxVPCs {
		bad("VPCs", c.VPCs, fmt.Sprintf("must be 1 to %d", MaxVPCs))
	}
	if c.Interval != time.Minute && c.Interval != 10*time.Minute {
		bad("Interval", c.Interval, "must be 1m0s or 10m0s (the aggregation intervals AWS offers)")
	}
	if c.FlowsPerInterval < 0 || c.FlowsPerInterval > MaxFlowsPerInterval {
		bad("FlowsPerInterval", c.FlowsPerInterval, fmt.Sprintf("must be 0 to %d", MaxFlowsPerInterval))
	}
	if c.DelayMin < 0 || c.DelayMin > MaxDelay {
		bad("DelayMin", c.DelayMin, fmt.Sprintf("must be 0 to %v", MaxDelay))
	}
	if c.DelayMax < c.DelayMin || c.DelayMax > MaxDelay {
		bad("DelayMax", c.DelayMax, fmt.Sprintf("must be DelayMin (%v) to %v", c.DelayMin, MaxDelay))
	}
	if !(c.StragglerFraction >= 0 && c.StragglerFraction <= 1) {
		bad("StragglerFraction", c.StragglerFraction, "must be 0 to 1")
	}
	if c.StragglerFraction > 0 && (c.StragglerMax < c.DelayMax || c.StragglerMax > MaxDelay) {
		bad("StragglerMax", c.StragglerMax, fmt.Sprintf("must be DelayMax (%v) to %v when StragglerFraction > 0", c.DelayMax, MaxDelay))
	}
	if _, ok := scenarioByName(c.Scenario); !ok {
		bad("Scenario", c.Scenario, "must be one of "+strings.Join(ScenarioNames(), ", "))
	}
	if c.EventAt < 0 {
		bad("EventAt", c.EventAt, "must be >= 0")
	}
	if c.EventDuration <= 0 {
		bad("EventDuration", c.EventDuration, "must be > 0")
	}
	if c.ScanPorts < 1 || c.ScanPorts > maxScanPorts {
		bad("ScanPorts", c.ScanPorts, fmt.Sprintf("must be 1 to %d", maxScanPorts))
	}
	if c.DemoPeriod < 2*time.Minute {
		bad("DemoPeriod", c.DemoPeriod, "must be >= 2m0s")
	}
	if !(c.IPv6Fraction >= 0 && c.IPv6Fraction <= 1) {
		bad("IPv6Fraction", c.IPv6Fraction, "must be 0 to 1")
	}
	if !(c.SkipDataRate >= 0 && c.SkipDataRate <= 1) {
		bad("SkipDataRate", c.SkipDataRate, "must be 0 to 1")
	}
	if len(c.AccountID) != 12 || strings.Trim(c.AccountID, "0123456789") != "" {
		bad("AccountID", c.AccountID, "must be 12 digits")
	}
	if c.Region == "" || strings.ContainsAny(c.Region, " \t\r\n") {
		bad("Region", c.Region, "must be a Region name such as us-east-1")
	}
	if c.Tick <= 0 {
		bad("Tick", c.Tick, "must be > 0")
	}
	return errors.Join(errs...)
}
