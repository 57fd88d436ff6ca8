// Package aggregate counts parsed flow log records into what flowd serves: cumulative counters,
// event-time sliding windows with heavy hitters, and the caps that keep both bounded. It never
// imports Prometheus; internal/metrics turns a Snapshot into metrics at scrape time.
//
// # Counters
//
// Every record with log-status OK (or a format without log-status) is a flow if it has an
// action, packets, bytes and a protocol (and, for TCP, UDP, SCTP, DCCP and UDP-Lite, both
// ports). Flows, packets and bytes are counted by (action, protocol, service port) and by
// (action, interface id). NODATA and SKIPDATA records are counted per interface and never as
// flows. A record that lacks what counting needs is counted by Reason (no_action, no_packets,
// no_bytes, no_protocol, no_port) and nowhere else: nothing is guessed. Counts only grow.
//
// # Service-port attribution
//
// A flow is counted on the port of the service it talks to, so that a request and its reply
// land on the same series. The rules, first match wins:
//
//  1. Protocols without ports (ICMP, ICMPv6, GRE, ESP, ...) get port 0.
//  2. A port listed in Config.ServicePorts wins; if both are listed, the lower one.
//  3. A zero port yields to the other one.
//  4. If either port is below Config.EphemeralStart (1024 by default), the lower port.
//  5. Both ports at or above EphemeralStart: for TCP with tcp-flags in the format, the handshake
//     tells: a SYN-ACK comes from the server (source port), a lone SYN goes to it (destination
//     port).
//  6. Otherwise the lower port.
//
// Examples with the defaults:
//
//	tcp 51234 -> 443    443   (rule 4: a request)
//	tcp 443 -> 51234    443   (rule 4: its reply, same port)
//	udp 123 -> 123      123   (rule 4: both privileged)
//	tcp 51234 -> 8080   8080  (rule 6)
//	tcp 8080 -> 51234   8080  (rule 6: the reply; "the destination port" would say 51234)
//	icmp 0 -> 0         0     (rule 1)
//	tcp 50051 -> 40000  40000 (rule 6 gets a gRPC server on 50051 wrong: list 50051 in
//	                           ServicePorts, or use a format with tcp-flags for rule 5)
//
// Rule 6 is symmetric, unlike "the destination port": servers listen below the clients'
// ephemeral ranges (Linux 32768-60999, Windows 49152-65535) in nearly every deployment, and a
// wrong guess still puts both directions of a connection on one series. With EphemeralStart set
// to 32768, ports 1024-32767 are treated as services by rule 4; rule 5 then matters only between
// two high ports.
//
// # Caps
//
// At most Config.MaxPorts (protocol, port) keys and Config.MaxInterfaces interface ids get their
// own key; a new key past the cap folds into its protocol's "other" port or the "other"
// interface, and the fold is counted: records exactly, distinct keys exactly up to 128 and then
// with a HyperLogLog of 1024 registers (about 3% error). Existing keys are never evicted, so no
// count ever goes backwards. Service ports get their keys at start and never fold. Interface ids
// are copied once, when they get a key; folded ids are not copied at all.
//
// # Windows
//
// Windows are in event time: a record's start. A ring of buckets (Config.BucketWidth, 10s)
// covers the largest window plus Config.AllowedLateness. The watermark is the newest start seen
// minus AllowedLateness, rounded down to a bucket; it never moves back (NODATA and SKIPDATA
// starts move it too, so idle interfaces do not stall it, and Advance moves it on the caller's
// word). A window W covers [watermark-W, watermark). A record newer than the watermark waits in
// its bucket until the watermark passes it; a record older than the ring is counted as late (it
// stays in the counters); a record whose start is more than Config.MaxClockSkew after the clock
// is counted as future and kept out of the windows, so one bogus timestamp cannot move the
// watermark years ahead. AllowedLateness defaults to 2m: records of the same delivery trail the
// newest one by up to the 1-minute aggregation interval plus up to 60s of capture delay (use
// about 11m for 10-minute aggregation intervals).
//
// Each bucket holds the counts by (action, port key), and two heavy-hitter sketches of capacity
// C = HeavyHitterCapacity (4*TopK): top talkers by bytes (source, destination) and top rejected
// sources by flows, each rejected source with its exact set of distinct rejected destination
// ports, up to 64 (then "more than 64"). The sketch is Space-Saving with batched eviction: a new
// key enters with the sketch's floor as its count and error; when 2C keys are monitored, the
// floor rises to the (C+1)-th largest count and the keys at or below it are dropped. A filter
// of hashed cells in front of it (as in Filtered Space-Saving) keeps the weight of unmonitored
// keys while it fits under the floor: a key enters only when its cell plus its weight exceeds
// the floor, with the cell as its error, and a dropped key's count goes back into its cell.
// Every key with more than 1/(C+1) of a bucket's total is monitored, and a monitored count
// exceeds the true one by at most its error (at most the floor), as in the classic sketch of C
// entries (the argument is in spacesaving.go); but most keys of a long tail cost a cell update,
// not an insert, and an insert costs no eviction. A snapshot merges the buckets
// of each window: sketch counts add up, and each entry's MaxError bounds how far the merged
// count may be from the true one (a source dropped from a bucket's sketch and seen again loses
// the ports it had there).
// Scan candidates are the merged rejected sources with at least ScanPortThreshold ports.
//
// # Network context
//
// Direction: every flow counter has a direction (ingress, egress, unknown). A record's
// flow-direction field decides when the format has it. Otherwise, with InferDirection, it is
// inferred per interface and address family: every record an interface captures has the
// interface's own address on one side, so the address present in every record of the stream is
// the interface's own (source: egress; destination: ingress). The two addresses of the first
// record are the candidates; a candidate missing from a later record is dropped; when none is
// left (a secondary or changed address, a NAT gateway or load balancer interface forwarding
// other addresses' traffic) the guess starts over. Until one candidate is left, and for the
// folded and missing interfaces, the direction is unknown. On the simulator (every interface,
// FullV5Format, flow-direction hidden) the inference agrees with the field on the figure
// given in docs/performance.md.
//
// Why rejected: a rejected record is counted by (interface, service port, leg). The leg comes
// from service-port attribution: the service port on the destination side is a request, on the
// source side a reply. Security groups are stateful (a reply to an allowed request is always
// allowed), network ACLs are not: rejected replies are the signature of an ACL blocking return
// traffic; rejected requests are a security group or an inbound ACL rule. MaxInterfacePorts
// caps the keys; past it they fold into (other interface, the protocol's "other" port, leg).
//
// The port governor: a new port key takes a slot of MaxPorts only with accepted traffic (or as
// a configured service port, which has its key from the start). A port first seen rejected
// takes a slot of its own budget, MaxRejectOnlyPorts, and past it folds into "other"; a
// reject-only key that later carries accepted traffic moves to the MaxPorts budget when there
// is room. A scan therefore takes at most MaxRejectOnlyPorts series whatever it sends and
// whenever it comes; keys are never dropped, so no counter is reset; State carries which key
// is in which budget.
//
// Dimensions (opt-in): account-id, vpc-id, subnet-id and az-id split the network families by
// (action, direction, values). Each dimension keeps at most MaxDimensionValues values (more
// fold into "other"), and the combinations at most MaxNetworkKeys (more fold into every
// dimension "other"). A record without the field counts under "-".
//
// Interface info: for each interned interface, the latest account, VPC, subnet, AZ, instance
// and interface type (version 11) its records carried, and when (by the clock) it was last
// seen; a snapshot reports the interfaces seen within InterfaceInfoTTL. Strings are copied only when they change.
//
// # Memory
//
// With the defaults: 2 x 256 KiB of TCP/UDP port index, port and interface keys bounded by the
// caps (plus 256 "other" port keys, one per protocol number), 2 x 2 KiB per fold counter, and a
// ring of 103 buckets, each with two sketches of up to 160 entries and 512 filter cells (about
// 60 KiB) and counts for
// at most the number of port keys (48 bytes each). A test feeds a million distinct sources, destinations,
// ports, protocols and interface ids and checks every structure against these bounds.
//
// # Concurrency and checkpoints
//
// Add, AddBatch (one lock per batch), Snapshot, State, Restore and Advance are safe for
// concurrent use. Per-record work allocates nothing once the keys and buckets exist. Snapshot
// copies everything it returns. State is gob-encodable and carries the counters, keys, fold
// counters and the window ring with its sketches; Restore checks it before replacing anything.
package aggregate
