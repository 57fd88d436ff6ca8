// Package simulate is a deterministic generator of Amazon VPC Flow Log records for a virtual
// VPC, with the ground truth of what it generated. flowd's demo, tests and benchmarks use it.
//
// # Model
//
// The VPC (10.0.0.0/16 and an IPv6 /56) spans three availability zones, each with a public, a
// private and a data subnet. Its network interfaces (Config.Interfaces, ids like
// eni-0123456789abcdef0, one log stream each named "<eni>-all" as AWS names them) are web
// servers (public: HTTPS and HTTP from internet clients, some over IPv6 and QUIC, ICMP echo,
// SSH and RDP knocks from the internet that are rejected), application servers (called by the
// web tier on 8080, calling the PostgreSQL and MySQL databases on 5432 and 3306 and AWS
// services over HTTPS), databases, and idle standby interfaces that mostly log NODATA. There
// is no traffic to the Amazon DNS server, since AWS does not log it. Every accepted exchange
// gives two records, request and reply, as flow logs are one-directional. Flow sizes are
// heavy-tailed (Pareto), and talkers, clients and attackers are skewed: a few heavy hitters and
// a long tail. Records of an interval may be partly lost with a SKIPDATA record
// (Config.SkipDataRate). Internet clients and attackers come from documentation and
// benchmarking ranges; AWS service endpoints from real AWS prefixes (for pkt-dst-aws-service).
//
// # Time and delivery
//
// Each interface logs per aggregation interval (Config.Interval, 60 s or 600 s), its windows
// offset by a per-interface phase. A record's start and end lie within the window; its event
// timestamp is start*1000, as AWS sets it. The batch of an interface's window becomes
// deliverable at the window's end plus a delay drawn between Config.DelayMin and DelayMax
// (skewed towards DelayMin), or up to StragglerMax for a StragglerFraction of the batches.
// Simulator.Advance(until) generates every window that ended by until and returns the batches
// due by then; Simulator.Run does so in real time into a Sink (CloudWatchSink through the real
// SDK, or WriterSink for files).
//
// Everything is a pure function of the Config (Seed, Start, ...) and of the window: records
// of interface i's window k come from a random stream seeded by (Seed, i, k), so the output
// does not depend on how Advance is called, and a scenario only adds records (or holds
// deliveries back) on top of the same steady traffic.
//
// # Scenarios
//
//   - steady: the baseline traffic above.
//   - reject-spike: steady, plus a burst of rejected flows (SSH, RDP, telnet, SMB, MSSQL, VNC)
//     from many sources on every web interface during [Start+EventAt, +EventDuration).
//   - port-scan: steady, plus one source (in 192.0.2.0/24) probing ScanPorts distinct ports of
//     interface 0 (a web server) during the event; all rejected but the open 80 and 443.
//   - late-burst: steady, but the batches of windows starting during the event are held back
//     and released together DelayMax after the event ends.
//   - demo: steady, plus in every DemoPeriod a reject spike (from 1/5 to 2/5 of the period)
//     and a port scan of one web interface by a new source (from 3/5 to 4/5).
//
// # Ground truth
//
// Simulator.Generated, Delivered and Pending return a Truth: records by log-status and flows,
// packets and bytes by action, by (action, interface), by event minute and optionally by
// (protocol, ports, action), counted from what each message carries, so a reader that parses
// every delivered message exactly once must count exactly Delivered.
package simulate
