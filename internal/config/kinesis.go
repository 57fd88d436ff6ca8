package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/flowd-dev/flowd/internal/kinesis"
	"github.com/flowd-dev/flowd/internal/lease"
	"github.com/flowd-dev/flowd/internal/parse"
)

// streamName is a Kinesis stream name as AWS allows it (1-128 of [a-zA-Z0-9_.-]).
var streamName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

// tableName is a DynamoDB table name as AWS allows it (3-255 of [a-zA-Z0-9_.-]).
var tableName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

// streamOf returns the stream name of a name or ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>),
// and the ARN's region ("" for a name), or ok false if it is neither.
func streamOf(s string) (name, region string, ok bool) {
	if !strings.HasPrefix(s, "arn:") {
		return s, "", streamName.MatchString(s)
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[1] == "" || parts[2] != "kinesis" || parts[3] == "" || parts[4] == "" {
		return "", "", false
	}
	name, found := strings.CutPrefix(parts[5], "stream/")
	return name, parts[3], found && streamName.MatchString(name)
}

// validateKinesisSource checks a source with kinesis_stream and returns its stream; groups is
// the number of log group keys set (none may be).
func validateKinesisSource(p *problems, path string, sf SourceFile, groups int) *KinesisStream {
	k := &KinesisStream{Stream: sf.KinesisStream, LeaseTable: sf.LeaseTable, DynamoDBEndpoint: sf.DynamoDBEndpoint}
	if _, _, ok := streamOf(sf.KinesisStream); !ok {
		p.add(path+".kinesis_stream", "%q is not a Kinesis stream name (1-128 of a-z A-Z 0-9 _ . -) or ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>)", sf.KinesisStream)
	}
	if groups > 0 || sf.LogStreamPrefix != "" || sf.Discover != "" {
		p.add(path, "a Kinesis source reads the log groups its stream carries: remove log_group, log_group_arn, log_group_prefix, log_stream_prefix and discover (choose groups with log_groups)")
	}
	if sf.LogGroupLabel {
		p.add(path+".log_group_label", "is not supported on a Kinesis source (one stream carries many groups): use labels")
	}
	if sf.EC2Endpoint != "" {
		p.add(path+".ec2_endpoint", "is only used by discover: flow_logs sources (and inventory.names): remove it")
	}
	if k.LeaseTable == "" {
		k.LeaseTable = DefaultLeaseTable
	} else if !tableName.MatchString(k.LeaseTable) {
		p.add(path+".lease_table", "%q is not a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)", k.LeaseTable)
	}
	validateEndpoint(p, path+".endpoint", sf.Endpoint)
	validateEndpoint(p, path+".dynamodb_endpoint", sf.DynamoDBEndpoint)
	validateRole(p, path, sf)
	if sf.LogGroups != nil {
		if len(sf.LogGroups) == 0 {
			p.add(path+".log_groups", "is empty: name the groups to count, or remove it to count every group of the stream")
		}
		k.Groups = map[string]KinesisGroup{}
		for _, g := range sortedKeys(sf.LogGroups) {
			gp := fmt.Sprintf("%s.log_groups[%q]", path, g)
			if g == "" || g != strings.TrimSpace(g) || strings.HasPrefix(g, "arn:") {
				p.add(gp, "%q is not a log group name (subscription records name groups by name, without spaces or ARN)", g)
				continue
			}
			spec := sf.LogGroups[g]
			if spec == "" {
				k.Groups[g] = KinesisGroup{} // the source's formats, filled in below
				continue
			}
			f, err := parse.Compile(spec)
			if err != nil {
				p.add(gp, "%v", err)
				continue
			}
			k.Groups[g] = KinesisGroup{Formats: []*parse.Format{f}, FormatSpecs: []string{spec}}
		}
	}
	return k
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkKinesisOverlaps reports Kinesis sources that would count the same events twice: two
// sources on one stream, two streams sharing a lease table (lease keys are shard ids, which
// repeat across streams), and a log group both polled and read from a stream.
func checkKinesisOverlaps(p *problems, sources []Source) {
	type where struct{ region, endpoint, role string }
	streams := map[string]int{}
	tables := map[string]int{}
	for i, s := range sources {
		if s.Kinesis == nil {
			continue
		}
		path := fmt.Sprintf("sources[%d]", i)
		name, region, _ := streamOf(s.Kinesis.Stream)
		if region == "" {
			region = s.Region
		}
		key := fmt.Sprint(where{region, strings.TrimRight(s.Endpoint, "/"), s.RoleARN}, name)
		if j, dup := streams[key]; dup {
			p.add(path, "reads the same Kinesis stream as sources[%d] (%q): its events would be counted twice; remove one", j, name)
		} else {
			streams[key] = i
		}
		tkey := fmt.Sprint(where{s.Region, strings.TrimRight(s.Kinesis.DynamoDBEndpoint, "/"), s.RoleARN}, s.Kinesis.LeaseTable)
		if j, dup := tables[tkey]; dup {
			p.add(path+".lease_table", "%q is also sources[%d]'s lease table: each stream needs its own (lease keys are shard ids, the same in every stream)", s.Kinesis.LeaseTable, j)
		} else {
			tables[tkey] = i
		}
		for g := range s.Kinesis.Groups {
			for j, o := range sources {
				if o.Kinesis != nil || o.Discover != "" {
					continue
				}
				r := refOf(o)
				if (!r.isPrefix && r.name == strings.TrimRight(g, "/")) || (r.isPrefix && strings.HasPrefix(g, r.prefix)) {
					p.add(fmt.Sprintf("%s.log_groups[%q]", path, g), "is also read by sources[%d] (%s): its records would be counted twice; read each group one way", j, o.Name())
				}
			}
		}
	}
}

// validateKinesis checks the kinesis section.
func validateKinesis(p *problems, f KinesisFile) Kinesis {
	k := Kinesis{Owner: f.Owner, LeaseDuration: time.Duration(f.LeaseDuration), DedupHorizon: time.Duration(f.DedupHorizon),
		DedupMaxEntries: f.DedupMaxEntries, PollInterval: time.Duration(f.PollInterval), RecordsPerCall: f.RecordsPerCall,
		MaxInFlight: f.MaxInFlight}
	if len(f.Owner) > 256 || strings.ContainsFunc(f.Owner, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		p.add("kinesis.owner", "%q: at most 256 characters, no spaces or control characters (or \"\" for the host name and a random suffix)", f.Owner)
	}
	if k.LeaseDuration < 3*time.Second || k.LeaseDuration > 10*time.Minute {
		p.add("kinesis.lease_duration", "must be between 3s and 10m, got %s: leases are renewed every third of it, and a dead replica's shards wait that long", f.LeaseDuration)
	}
	switch f.InitialPosition {
	case "trim_horizon":
		k.InitialPosition = lease.TrimHorizon
	case "latest":
		k.InitialPosition = lease.Latest
	default:
		p.add("kinesis.initial_position", "%q is not trim_horizon (the oldest retained record) or latest (only new records)", f.InitialPosition)
	}
	if k.DedupHorizon < time.Minute || k.DedupHorizon > 24*time.Hour {
		p.add("kinesis.dedup_horizon", "must be between 1m and 24h, got %s", f.DedupHorizon)
	}
	if f.DedupMaxEntries < 1000 || f.DedupMaxEntries > 20_000_000 {
		p.add("kinesis.dedup_max_entries", "must be between 1000 and 20000000 (each remembered event id costs memory), got %d", f.DedupMaxEntries)
	}
	if k.PollInterval < 200*time.Millisecond || k.PollInterval > time.Minute {
		p.add("kinesis.poll_interval", "must be between 200ms (a shard allows 5 GetRecords calls/s) and 1m, got %s", f.PollInterval)
	}
	if f.RecordsPerCall < 1 || f.RecordsPerCall > 10000 {
		p.add("kinesis.records_per_call", "must be between 1 and 10000 (GetRecords' limit), got %d", f.RecordsPerCall)
	}
	if f.MaxInFlight < 1 || f.MaxInFlight > 64 {
		p.add("kinesis.max_in_flight", "must be between 1 and 64, got %d", f.MaxInFlight)
	}
	return k
}

// KinesisOptions are the runtime options of Kinesis source s (one of c.Sources), built from
// the source and the kinesis section; owner is this process's lease owner when kinesis.owner
// is empty. The source only needs to know which groups to hand over: their formats are the
// app's, found by kinesis.BatchSource.
func (c *Config) KinesisOptions(s Source, owner string) kinesis.Options {
	k := c.Kinesis
	if k.Owner != "" {
		owner = k.Owner
	}
	o := kinesis.Options{Stream: s.Kinesis.Stream, Owner: owner, LeaseDuration: k.LeaseDuration,
		InitialPosition: k.InitialPosition, DedupHorizon: k.DedupHorizon, DedupMaxEntries: k.DedupMaxEntries,
		PollInterval: k.PollInterval, RecordsPerCall: int32(k.RecordsPerCall), MaxInFlight: k.MaxInFlight}
	if s.Kinesis.Groups == nil {
		o.DefaultFormat = "configured"
		return o
	}
	o.Formats = map[string]string{}
	for g := range s.Kinesis.Groups {
		o.Formats[g] = "configured"
	}
	return o
}
