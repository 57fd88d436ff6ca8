// Package lease shares the shards of a Kinesis data stream among flowd replicas through lease
// items in a DynamoDB table, in the manner of the Kinesis Client Library (KCL): one owner per
// shard at a time, a lease counter fencing every write, expiry and takeover, balancing, parents
// before children, and a graceful hand-off on shutdown.
//
// # The lease item
//
// One item per shard, hash key leaseKey (S). The KCL's attribute names and meanings where
// flowd has the attribute, so that the table reads familiarly to anyone who knows the KCL:
//
//	leaseKey                      S   the shard id
//	leaseOwner                    S   the worker holding the lease; absent when free
//	leaseCounter                  N   incremented by every write that changes ownership or
//	                                  progress; every such write is conditional on it
//	checkpoint                    S   a sequence number, or TRIM_HORIZON, LATEST, SHARD_END
//	checkpointSubSequenceNumber   N   always 0 (flowd does not deaggregate KPL records)
//	ownerSwitchesSinceCheckpoint  N   owner changes since the last checkpoint
//	parentShardId                 SS  the parent shard(s): one after a split, two after a merge
//	handoffTo                     S   flowd's: a worker that asked for this lease (see below)
//
// Departures from the KCL, and why:
//   - The table is flowd's own (default name flowd-leases), not shared with a KCL application:
//     a KCL 2.x/3.x worker would not understand handoffTo, and KCL 3.x adds attributes
//     (leaseOwner hints, worker metrics) flowd does not write. Reading the same item shape makes
//     migration and inspection easy; sharing one table is not supported.
//   - No childShardIds, hash key ranges, pendingCheckpoint or throughput attributes: flowd lists
//     the shards (ListShards) on every take round and learns children from their parents' ids,
//     so it does not need them.
//   - Stealing is a request (handoffTo), not a forced take: the KCL 2.x steals by taking a live
//     lease, which makes its holder's next write fail and skips the holder's final checkpoint.
//     flowd's counts are exact only if a batch's checkpoint is written by the replica that
//     counted it, so the holder finishes its batch, checkpoints, and then Transfers the lease
//     (in the spirit of KCL 3.x's graceful hand-off). RequestHandoff is the one write that does
//     not move the counter: it changes nothing the holder depends on.
//
// # Ownership, expiry and fencing
//
// A worker renews every lease it holds each RenewInterval (LeaseDuration/3) by incrementing the
// counter, conditional on the counter it last wrote and on being the owner. Others never read
// clocks from the table: like the KCL, each worker notes, on its own clock, when it last saw a
// lease's counter change, and treats the lease as expired once it has not changed for
// LeaseDuration (10 s by default). Taking a lease (free or expired) is again conditional on
// the counter seen, so of several takers one wins.
//
// Self-fencing closes the window a slow or partitioned holder would otherwise leave: a held
// lease is Valid only until LeaseDuration - CommitMargin after the last successful renewal was
// sent. Any taker waits at least LeaseDuration after it saw that renewal, which it can only see
// after it was sent, so a holder stops committing before anyone can take over (given clocks that
// run at the same rate; no agreement on the time of day is needed). The margin is the time left
// for the checkpoint write of the last batch committed; a write that takes longer fails on the
// counter and is reported (the batch may then be counted again by the next owner, see
// internal/kinesis; it is the one case where exactness rests on timing, and it is counted).
//
// # Balancing
//
// Each TakeInterval a worker lists the shards (creating missing leases; a child's checkpoint
// starts at TRIM_HORIZON, where its parents ended), scans the table with consistent reads, and
// counts the eligible leases: not ended, and every parent either at SHARD_END or gone from the
// table. Its fair share is ceil(eligible / live workers). It takes free and expired leases until
// it has its share (each worker tries them in its own hashed order, to spread contention), and
// if none is free and the most loaded worker holds more than one lease more than it, it asks
// that worker for one lease. Leases at SHARD_END are released and never taken again.
//
// # Stopping
//
// Run returns after ctx is cancelled, once every Worker has returned (each writes a final
// checkpoint) and every lease has been released (owner removed), so that the other replicas
// take them at their next take round instead of waiting LeaseDuration. A killed replica
// releases nothing; its leases expire.
//
// # Tested against two DynamoDBs
//
// The tests run the table and the coordinator against internal/dynamoemu and, as a
// cross-check by an implementation written independently of both, against minidyn
// (github.com/truora/minidyn, its HTTP server and its in-process client): every fenced write
// with its conditional failures, a random sequence of writes by three workers on stale views
// that must give the same outcome and the same stored item on every implementation, and the
// coordinator scenarios without fault injection. minidyn v0.8.2 ignores REMOVE of a top-level
// attribute (DynamoDB removes it; Release, Take and Transfer rely on that) and its in-process
// client answers an empty Item or LastEvaluatedKey where DynamoDB has none; minidyn_test.go
// corrects exactly these and TestMinidynDepartures pins them. The table does not use
// ReturnValuesOnConditionCheckFailure: a lost answer is settled by a consistent GetItem.
package lease
