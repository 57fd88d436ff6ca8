package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/parse"
	"github.com/flowd-dev/flowd/internal/sourcelabel"
)

// Bounds that keep memory, API calls and time arithmetic sane (every sum of them fits an int64
// of nanoseconds many times over).
const (
	maxDelayBound  = 24 * time.Hour      // max_delay and late_grace, each
	maxStartOffset = 30 * 24 * time.Hour // start_position
	maxQueueSize   = 1024                // ingest.queue_size, batches
)

// FieldError is one problem in the configuration, named by its YAML path
// ("sources[1].log_format") and, for decoding errors, its line.
type FieldError struct {
	Path string
	Line int
	Msg  string
}

func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", e.Path, e.Line, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// problems collects FieldErrors.
type problems []error

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks every key and returns the runtime form, or every problem found joined
// with errors.Join (each a *FieldError).
func (f File) Validate() (*Config, error) {
	var p problems
	cfg := &Config{File: f, Workers: f.Workers}
	cfg.Sources = validateSources(&p, f.Sources)
	cfg.Ingest = validateIngest(&p, f.Ingest)
	cfg.Checkpoint = Checkpoint{Path: f.Checkpoint.Path, Interval: time.Duration(f.Checkpoint.Interval)}
	if cfg.Checkpoint.Interval <= 0 {
		p.add("checkpoint.interval", "must be > 0 (e.g. 30s)")
	} else if cfg.Checkpoint.Interval < time.Second || cfg.Checkpoint.Interval > 24*time.Hour {
		p.add("checkpoint.interval", "must be between 1s and 24h, got %s: each write holds the pipeline still for a moment, and published counts move only at writes", f.Checkpoint.Interval)
	}
	cfg.Aggregate = validateAggregate(&p, f.Aggregate)
	cfg.Inventory, cfg.Inventories = validateInventory(&p, f.Inventory, cfg.Sources)
	cfg.Kinesis = validateKinesis(&p, f.Kinesis)
	if f.Workers < 0 || f.Workers > 1024 {
		p.add("workers", "must be between 0 (one per CPU) and 1024, got %d", f.Workers)
	}
	if len(p) > 0 {
		return nil, errors.Join(p...)
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	cfg.IngestOptions = ingestOptions(cfg.Sources, cfg.Ingest)
	return cfg, nil
}

func validateSources(p *problems, files []SourceFile) []Source {
	if len(files) == 0 {
		p.add("sources", "name at least one log group, e.g. sources: [{log_group: /aws/vpc/flow-logs}]")
		return nil
	}
	out := make([]Source, 0, len(files))
	seenDiscover := map[string]int{}
	for i, sf := range files {
		path := fmt.Sprintf("sources[%d]", i)
		s := Source{
			LogGroup: sf.LogGroup, LogGroupARN: sf.LogGroupARN, LogGroupPrefix: sf.LogGroupPrefix,
			LogStreamPrefix: sf.LogStreamPrefix, Region: sf.Region, RoleARN: sf.RoleARN,
			ExternalID: sf.ExternalID, Endpoint: sf.Endpoint,
		}
		s.Discover, s.EC2Endpoint = sf.Discover, sf.EC2Endpoint
		s.Labels = validateLabels(p, path, sf)
		n := 0
		for _, v := range []string{sf.LogGroup, sf.LogGroupARN, sf.LogGroupPrefix} {
			if v != "" {
				n++
			}
		}
		if sf.KinesisStream != "" {
			s.Kinesis = validateKinesisSource(p, path, sf, n)
			s.Formats, s.FormatSpecs = validateFormats(p, path, sf)
			for g, kg := range s.Kinesis.Groups {
				if kg.Formats == nil {
					s.Kinesis.Groups[g] = KinesisGroup{Formats: s.Formats}
				}
			}
			out = append(out, s)
			continue
		}
		for _, kv := range [][2]string{{"dynamodb_endpoint", sf.DynamoDBEndpoint}, {"lease_table", sf.LeaseTable}} {
			if kv[1] != "" {
				p.add(path+"."+kv[0], "is only used by Kinesis sources: remove it, or set kinesis_stream")
			}
		}
		if sf.LogGroups != nil {
			p.add(path+".log_groups", "is only used by Kinesis sources: remove it, or set kinesis_stream")
		}
		if sf.Discover != "" {
			validateDiscover(p, path, sf, n)
			validateEndpoint(p, path+".ec2_endpoint", sf.EC2Endpoint)
			validateEndpoint(p, path+".endpoint", sf.Endpoint)
			validateRole(p, path, sf)
			key := strings.Join([]string{"discover", sf.Region, sf.RoleARN, sf.Endpoint, sf.EC2Endpoint}, "\x00")
			if j, dup := seenDiscover[key]; dup {
				p.add(path, "discovers the same flow logs as sources[%d]: their records would be counted twice; remove one", j)
			} else {
				seenDiscover[key] = i
			}
			out = append(out, s)
			continue
		}
		if sf.EC2Endpoint != "" {
			p.add(path+".ec2_endpoint", "is only used by discover: flow_logs sources (and inventory.names): remove it, or set discover")
		}
		switch n {
		case 0:
			p.add(path, "set one of log_group, log_group_arn or log_group_prefix")
		case 1:
		default:
			p.add(path, "set only one of log_group, log_group_arn and log_group_prefix")
		}
		if sf.LogGroupARN != "" && !isLogGroupARN(sf.LogGroupARN) {
			p.add(path+".log_group_arn", "%q is not a log group ARN (want arn:<partition>:logs:<region>:<account>:log-group:<name>)", sf.LogGroupARN)
		}
		validateRole(p, path, sf)
		validateEndpoint(p, path+".endpoint", sf.Endpoint)
		for _, kv := range [][2]string{{"log_group", sf.LogGroup}, {"log_group_prefix", sf.LogGroupPrefix}, {"log_group_arn", sf.LogGroupARN}, {"log_stream_prefix", sf.LogStreamPrefix}} {
			if kv[1] != strings.TrimSpace(kv[1]) {
				p.add(path+"."+kv[0], "%q has leading or trailing spaces, which no log group or stream name has: remove them", kv[1])
			}
		}
		s.Formats, s.FormatSpecs = validateFormats(p, path, sf)
		out = append(out, s)
	}
	checkOverlaps(p, out)
	checkKinesisOverlaps(p, out)
	if sets := LabelSets(out); len(sets) > sourcelabel.MaxSets {
		p.add("sources", "%d distinct label sets (labels and log_group_label), more than %d: each set has its own aggregator and a full set of traffic series; give sources the same labels", len(sets), sourcelabel.MaxSets)
	}
	return out
}

// validateLabels checks a source's labels and log_group_label and returns its label set.
func validateLabels(p *problems, path string, sf SourceFile) sourcelabel.Set {
	names := make([]string, 0, len(sf.Labels))
	for n := range sf.Labels {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := sourcelabel.Check(n); err != nil {
			p.add(path+".labels", "%v", err)
		} else if sf.Labels[n] == "" {
			p.add(path+".labels."+n, "empty value, which Prometheus reads as no label: give a value or remove it")
		}
	}
	m := maps.Clone(sf.Labels)
	if sf.LogGroupLabel {
		switch {
		case sf.Discover != "" || sf.LogGroupPrefix != "":
			p.add(path+".log_group_label", "only for a log_group or log_group_arn source: on a discovery rule every group found would add a label set, without bound; use labels instead")
		default:
			if m == nil {
				m = map[string]string{}
			}
			m[sourcelabel.LogGroupLabel] = sf.LogGroup + sf.LogGroupARN
		}
	}
	return sourcelabel.FromMap(m)
}

// groupRef is what identifies the log groups a source reads, for finding two sources that would
// read the same events: the name (from an ARN too, without a trailing slash or ":*"), or the
// prefix, and where it is read.
type groupRef struct {
	name, prefix, stream, region, endpoint, role string
	isPrefix                                     bool
}

func refOf(s Source) groupRef {
	r := groupRef{stream: s.LogStreamPrefix, region: s.Region, endpoint: strings.TrimRight(s.Endpoint, "/"), role: s.RoleARN}
	switch {
	case s.LogGroupPrefix != "":
		r.isPrefix, r.prefix = true, strings.TrimSpace(s.LogGroupPrefix)
	case s.LogGroupARN != "":
		parts := strings.SplitN(strings.TrimSuffix(strings.TrimSpace(s.LogGroupARN), ":*"), ":", 7)
		if len(parts) == 7 {
			r.name = parts[6]
			if r.region == "" {
				r.region = parts[3]
			}
		}
	default:
		r.name = strings.TrimSpace(s.LogGroup)
	}
	r.name = strings.TrimRight(r.name, "/")
	return r
}

// sameReader reports whether a and b read through the same account, Region and endpoint (an
// unset region is the SDK's, which may be either).
func (a groupRef) sameReader(b groupRef) bool {
	return a.endpoint == b.endpoint && a.role == b.role && (a.region == b.region || a.region == "" || b.region == "")
}

// streamsOverlap reports whether two stream prefixes can match the same stream.
func streamsOverlap(a, b string) bool { return strings.HasPrefix(a, b) || strings.HasPrefix(b, a) }

// checkOverlaps reports every pair of sources that would read the same events: the same group
// under any spelling, a group that a discovery prefix also matches, or nested prefixes.
func checkOverlaps(p *problems, sources []Source) {
	refs := make([]groupRef, len(sources))
	for i, s := range sources {
		refs[i] = refOf(s)
	}
	for i := range refs {
		for j := range i {
			a, b := refs[i], refs[j]
			if (a.name == "" && !a.isPrefix) || (b.name == "" && !b.isPrefix) || !a.sameReader(b) || !streamsOverlap(a.stream, b.stream) {
				continue
			}
			path := fmt.Sprintf("sources[%d]", i)
			switch {
			case !a.isPrefix && !b.isPrefix && a.name == b.name:
				p.add(path, "reads the same log group as sources[%d] (%q): its records would be counted twice; remove one", j, a.name)
			case a.isPrefix != b.isPrefix:
				g, pre, gi, pi := a, b, i, j
				if a.isPrefix {
					g, pre, gi, pi = b, a, j, i
				}
				if strings.HasPrefix(g.name, pre.prefix) {
					p.add(path, "sources[%d]'s log group %q is also matched by sources[%d]'s log_group_prefix %q: its records would be counted twice; remove the group or narrow the prefix", gi, g.name, pi, pre.prefix)
				}
			case a.isPrefix && b.isPrefix && (strings.HasPrefix(a.prefix, b.prefix) || strings.HasPrefix(b.prefix, a.prefix)):
				p.add(path, "log_group_prefix %q overlaps sources[%d]'s %q: groups matching both would be counted twice; keep one", a.prefix, j, b.prefix)
			}
		}
	}
}

// validateRole checks a source's role_arn and external_id.
func validateRole(p *problems, path string, sf SourceFile) {
	if sf.RoleARN != "" && !isRoleARN(sf.RoleARN) {
		p.add(path+".role_arn", "%q is not an IAM role ARN (want arn:<partition>:iam::<account>:role/<name>)", sf.RoleARN)
	}
	if sf.ExternalID != "" && sf.RoleARN == "" {
		p.add(path+".external_id", "is only used when assuming a role: set role_arn too, or remove it")
	}
}

func validateEndpoint(p *problems, path, endpoint string) {
	if endpoint == "" {
		return
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(path, "%q is not an http(s) URL (e.g. http://127.0.0.1:4566)", endpoint)
	}
}

// validateDiscover checks a discover source: the kind, and no keys that discovery fills in.
func validateDiscover(p *problems, path string, sf SourceFile, groups int) {
	if sf.Discover != DiscoverFlowLogs {
		p.add(path+".discover", "%q is not a discovery kind (the one kind is flow_logs)", sf.Discover)
	}
	if groups > 0 || sf.LogStreamPrefix != "" {
		p.add(path, "discover finds the log groups by itself: remove log_group, log_group_arn, log_group_prefix and log_stream_prefix (or discover)")
	}
	if sf.LogFormat != "" || len(sf.LogFormats) > 0 {
		p.add(path, "discover reads each flow log's exact format from EC2: remove log_format and log_formats (or discover)")
	}
}

// validateInventory checks the inventory section and lists the inventories to run: one per
// distinct account (role), Region and EC2 endpoint among the discover sources, and, with
// names, among all sources.
func validateInventory(p *problems, f InventoryFile, sources []Source) (Inventory, []InventoryRule) {
	in := Inventory{RefreshInterval: time.Duration(f.RefreshInterval), MaxInterfaces: f.MaxInterfaces,
		RequestsPerSecond: f.RequestsPerSecond, IPRangesFile: f.IPRangesFile}
	if in.RefreshInterval < time.Second {
		p.add("inventory.refresh_interval", "must be at least 1s (e.g. 5m), got %s", f.RefreshInterval)
	}
	if f.MaxInterfaces < 1 || f.MaxInterfaces > 1000000 {
		p.add("inventory.max_interfaces", "must be between 1 and 1000000, got %d", f.MaxInterfaces)
	}
	if !(f.RequestsPerSecond > 0) || f.RequestsPerSecond > 100 {
		p.add("inventory.requests_per_second", "must be > 0 and ≤ 100 (EC2's bucket refills 20/s per action, shared with every other tool), got %v", f.RequestsPerSecond)
	}
	var rules []InventoryRule
	idx := map[string]int{}
	for _, s := range sources {
		if s.Discover == "" && !f.Names {
			continue
		}
		spec := ingest.AWSSpec{Region: s.Region, RoleARN: s.RoleARN, ExternalID: s.ExternalID, Endpoint: s.EC2Endpoint}
		key := strings.Join([]string{spec.Region, spec.RoleARN, spec.Endpoint}, "\x00")
		i, ok := idx[key]
		if !ok {
			name := s.Region
			if name == "" {
				name = "default"
			}
			if s.RoleARN != "" {
				name = s.RoleARN + "/" + name
			}
			i = len(rules)
			idx[key] = i
			rules = append(rules, InventoryRule{Name: name, AWS: spec})
		}
		if s.Discover != "" {
			rules[i].Discover = true
			rules[i].LogsEndpoint = s.Endpoint
			rules[i].Labels = s.Labels
		}
	}
	return in, rules
}

func validateFormats(p *problems, path string, sf SourceFile) ([]*parse.Format, []string) {
	var specs []string
	switch {
	case sf.LogFormat != "" && len(sf.LogFormats) > 0:
		p.add(path, "set log_format or log_formats, not both")
		return nil, nil
	case sf.LogFormat != "":
		specs = []string{sf.LogFormat}
	case len(sf.LogFormats) > 0:
		specs = sf.LogFormats
	default:
		specs = []string{parse.DefaultFormat}
	}
	formats := make([]*parse.Format, 0, len(specs))
	ok := true
	for j, spec := range specs {
		fp := path + ".log_format"
		if len(sf.LogFormats) > 0 {
			fp = fmt.Sprintf("%s.log_formats[%d]", path, j)
		}
		f, err := parse.Compile(spec)
		if err != nil {
			p.add(fp, "%v", err)
			ok = false
			continue
		}
		formats = append(formats, f)
	}
	if ok && len(formats) > 1 {
		if _, err := parse.NewMatcher(formats...); err != nil {
			p.add(path+".log_formats", "%v: formats are told apart by their field count, so each needs a different number of fields", err)
		}
	}
	if len(sf.LogFormats) == 0 && sf.LogFormat == "" {
		specs = nil
	}
	return formats, specs
}

func isLogGroupARN(s string) bool {
	parts := strings.SplitN(s, ":", 7)
	return len(parts) == 7 && parts[0] == "arn" && parts[1] != "" && parts[2] == "logs" &&
		parts[3] != "" && parts[4] != "" && parts[5] == "log-group" && parts[6] != ""
}

func isRoleARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] == "iam" &&
		parts[4] != "" && strings.HasPrefix(parts[5], "role/") && len(parts[5]) > len("role/")
}

func validateIngest(p *problems, f IngestFile) Ingest {
	in := Ingest{
		EarlyPasses:       make([]time.Duration, 0, len(f.EarlyPasses)), // non-nil: [] means no early pass
		MaxDelay:          time.Duration(f.MaxDelay),
		LateGrace:         time.Duration(f.LateGrace),
		PollInterval:      time.Duration(f.PollInterval),
		MaxDefer:          time.Duration(f.MaxDefer),
		RequestsPerSecond: f.RequestsPerSecond,
		MaxInFlight:       f.MaxInFlight,
		RequestTimeout:    time.Duration(f.RequestTimeout),
		QueueSize:         f.QueueSize,
		DiscoveryInterval: time.Duration(f.DiscoveryInterval),
	}
	if in.MaxDelay <= 0 {
		p.add("ingest.max_delay", "must be > 0: how long after its timestamp an event may still arrive (AWS: up to 15m)")
	} else if in.MaxDelay > maxDelayBound {
		p.add("ingest.max_delay", "must be ≤ %s, got %s: each slice is read for the last time max_delay + late_grace after it ends, and its dedup memory is kept until then", Duration(maxDelayBound), f.MaxDelay)
	}
	if in.LateGrace < 0 {
		p.add("ingest.late_grace", "must be ≥ 0, got %s", f.LateGrace)
	} else if in.LateGrace > maxDelayBound {
		p.add("ingest.late_grace", "must be ≤ %s, got %s: it is added to max_delay for the final pass", Duration(maxDelayBound), f.LateGrace)
	}
	last := time.Duration(0)
	for i, d := range f.EarlyPasses {
		ep := time.Duration(d)
		path := fmt.Sprintf("ingest.early_passes[%d]", i)
		switch {
		case ep <= 0:
			p.add(path, "must be > 0, got %s", d)
		case ep <= last:
			p.add(path, "must be greater than the pass before it (%s): list passes in increasing order", Duration(last))
		case in.MaxDelay > 0 && in.MaxDelay <= maxDelayBound && in.LateGrace <= maxDelayBound && ep >= in.MaxDelay+in.LateGrace:
			p.add(path, "must be less than max_delay + late_grace (%s), which is the final pass", Duration(in.MaxDelay+in.LateGrace))
		}
		if ep > last {
			last = ep
		}
		in.EarlyPasses = append(in.EarlyPasses, ep)
	}
	if in.PollInterval <= 0 {
		p.add("ingest.poll_interval", "must be > 0 (e.g. 30s)")
	} else if in.PollInterval < time.Second || in.PollInterval > time.Hour || in.PollInterval%time.Millisecond != 0 {
		p.add("ingest.poll_interval", "must be between 1s and 1h in whole milliseconds, got %s: it is the slice width and the idle poll period, and a shorter one multiplies API calls", f.PollInterval)
	}
	if in.MaxDefer < 0 {
		p.add("ingest.max_defer", "must be ≥ 0 (0 reads every range as soon as it is due), got %s", f.MaxDefer)
	} else if in.MaxDefer > time.Hour {
		p.add("ingest.max_defer", "must be ≤ 1h, got %s: it delays counts and lengthens the dedup memory by as much", f.MaxDefer)
	}
	if !(f.RequestsPerSecond > 0) || f.RequestsPerSecond > 1000 {
		p.add("ingest.requests_per_second", "must be > 0 and ≤ 1000 (the FilterLogEvents quota is 5 per account and Region), got %v", f.RequestsPerSecond)
	}
	if f.MaxInFlight < 1 {
		p.add("ingest.max_in_flight", "must be ≥ 1, got %d", f.MaxInFlight)
	} else if f.MaxInFlight > 64 {
		p.add("ingest.max_in_flight", "must be ≤ 64, got %d: the API allows 5 requests per second per account and Region", f.MaxInFlight)
	}
	if in.RequestTimeout < time.Second || in.RequestTimeout > 10*time.Minute {
		p.add("ingest.request_timeout", "must be between 1s and 10m, got %s: a request taking longer is abandoned and retried, so a hung answer cannot stall a source", f.RequestTimeout)
	}
	if f.QueueSize < 1 {
		p.add("ingest.queue_size", "must be ≥ 1 batch, got %d", f.QueueSize)
	} else if f.QueueSize > maxQueueSize {
		p.add("ingest.queue_size", "must be ≤ %d batches, got %d: each batch holds up to one page (up to 1 MB of events), so the queue alone could take %d MB", maxQueueSize, f.QueueSize, min(f.QueueSize, 1<<20))
	}
	sp, err := ParseStartPosition(f.StartPosition)
	if err != nil {
		p.add("ingest.start_position", "%v", err)
	} else if sp.Offset < -maxStartOffset {
		p.add("ingest.start_position", "must be now or at most %s back, got %s: an older start reads history the 5 requests per second quota takes days to page through", Duration(maxStartOffset), f.StartPosition)
	}
	in.StartPosition = sp
	if in.DiscoveryInterval <= 0 {
		p.add("ingest.discovery_interval", "must be > 0 (e.g. 5m)")
	} else if in.DiscoveryInterval < 10*time.Second || in.DiscoveryInterval > 24*time.Hour {
		p.add("ingest.discovery_interval", "must be between 10s and 24h, got %s: each discovery spends DescribeLogGroups calls from the shared quota", f.DiscoveryInterval)
	}
	sh, err := ParseShard(f.Shard)
	if err != nil {
		p.add("ingest.shard", "%v", err)
	}
	in.Shard = sh
	return in
}

// ParseStartPosition parses "now" or a negative offset such as "-15m".
func ParseStartPosition(s string) (StartPosition, error) {
	if s == "now" {
		return StartPosition{Now: true}, nil
	}
	if strings.HasPrefix(s, "-") {
		if d, err := time.ParseDuration(s); err == nil {
			return StartPosition{Offset: d}, nil
		}
	}
	return StartPosition{}, fmt.Errorf("%q: want \"now\" or a negative offset such as -15m", s)
}

// ParseShard parses "i/n" with 0 ≤ i < n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("%q: want i/n with 0 ≤ i < n, e.g. 0/1 for a single replica", s)
	}
	return Shard{Index: i, Count: n}, nil
}

func validateAggregate(p *problems, f AggregateFile) aggregate.Config {
	a := aggregate.DefaultConfig()
	a.BucketWidth = time.Duration(f.Bucket)
	a.AllowedLateness = time.Duration(f.AllowedLateness)
	a.MaxClockSkew = time.Duration(f.MaxClockSkew)
	a.MaxPorts = f.MaxPorts
	a.MaxInterfaces = f.MaxInterfaces
	a.TopK = f.TopK
	a.ScanPortThreshold = f.ScanPortThreshold
	a.Windows = nil
	a.ServicePorts = nil
	n := len(*p)
	if a.BucketWidth < time.Second || a.BucketWidth%time.Second != 0 {
		p.add("aggregate.bucket", "must be a whole number of seconds, at least 1s (e.g. 10s), got %s", f.Bucket)
	}
	if len(f.Windows) == 0 {
		p.add("aggregate.windows", "list at least one window, e.g. [1m, 5m, 15m]")
	}
	for i, d := range f.Windows {
		w := time.Duration(d)
		path := fmt.Sprintf("aggregate.windows[%d]", i)
		switch {
		case w <= 0:
			p.add(path, "must be > 0, got %s", d)
		case a.BucketWidth > 0 && w%a.BucketWidth != 0:
			p.add(path, "%s is not a multiple of aggregate.bucket (%s)", d, f.Bucket)
		case slices.Contains(a.Windows, w):
			p.add(path, "%s is listed twice", d)
		}
		a.Windows = append(a.Windows, w)
	}
	if a.AllowedLateness < 0 || a.AllowedLateness > 24*time.Hour {
		p.add("aggregate.allowed_lateness", "must be between 0 and 24h, got %s", f.AllowedLateness)
	}
	if a.MaxClockSkew < 0 || a.MaxClockSkew > 24*time.Hour {
		p.add("aggregate.max_clock_skew", "must be between 0 and 24h, got %s", f.MaxClockSkew)
	}
	if f.MaxPorts < 1 || f.MaxPorts > 100000 {
		p.add("aggregate.max_ports", "must be between 1 and 100000, got %d", f.MaxPorts)
	} else if 2*len(f.ServicePorts) > f.MaxPorts {
		p.add("aggregate.max_ports", "must be at least twice the number of service_ports (%d): each takes a TCP and a UDP key", len(f.ServicePorts))
	}
	if f.MaxInterfaces < 1 || f.MaxInterfaces > 100000 {
		p.add("aggregate.max_interfaces", "must be between 1 and 100000, got %d", f.MaxInterfaces)
	}
	if f.TopK < 1 || f.TopK > 1000 {
		p.add("aggregate.top_k", "must be between 1 and 1000, got %d", f.TopK)
	}
	if f.ScanPortThreshold < 1 || f.ScanPortThreshold > aggregate.MaxDistinctPorts {
		p.add("aggregate.scan_port_threshold", "must be between 1 and %d, got %d", aggregate.MaxDistinctPorts, f.ScanPortThreshold)
	}
	for i, port := range f.ServicePorts {
		path := fmt.Sprintf("aggregate.service_ports[%d]", i)
		switch {
		case port < 1 || port > 65535:
			p.add(path, "%d is not a port (1-65535)", port)
		case slices.Contains(a.ServicePorts, uint16(port)):
			p.add(path, "%d is listed twice", port)
		default:
			a.ServicePorts = append(a.ServicePorts, uint16(port))
		}
	}
	if f.EphemeralPortStart < 1 || f.EphemeralPortStart > 65535 {
		p.add("aggregate.ephemeral_port_start", "%d is not a port (1-65535)", f.EphemeralPortStart)
	} else {
		a.EphemeralStart = uint16(f.EphemeralPortStart)
	}
	validateNetworkContext(p, f, &a)
	// The aggregator has the last word (e.g. the ring size); report what it still rejects
	// under the section's path, once the rules above found nothing.
	if len(*p) == n {
		if err := a.Validate(); err != nil {
			p.add("aggregate", "%v", err)
		}
	}
	return a
}
