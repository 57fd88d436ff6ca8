package inventory

import "time"

// Stats are the inventory's own numbers, for the metrics package to expose (this package does
// not import Prometheus). Counters are monotonic.
type Stats struct {
	// Calls counts API attempts by [Operation][Outcome]; Retries, attempts after the first.
	Calls   [NumOperations][NumOutcomes]uint64
	Retries [NumOperations]uint64
	// Unauthorized says which operations the last refresh was refused (UnauthorizedOperation).
	Unauthorized [NumOperations]bool
	// Refreshes and RefreshFailures count refreshes, and those with a failed part.
	Refreshes, RefreshFailures uint64
	// FlowLogChanges counts flow logs that appeared, vanished or changed format after the first refresh.
	FlowLogChanges uint64
	// LastRefresh is when the current snapshot was taken (zero: never); LastAttempt, when the
	// latest refresh started.
	LastRefresh, LastAttempt time.Time
	// Sizes of the current snapshot.
	Interfaces, Subnets, VPCs, FlowLogs, FailedFlowLogs int
	// DroppedInterfaces are those beyond the MaxInterfaces cap at the last listing.
	DroppedInterfaces int
	// MaxInterfaces is the cap (the worst case of flowd_interface_info).
	MaxInterfaces int
}

// Age is how old the snapshot is at now (0 if there is none).
func (s Stats) Age(now time.Time) time.Duration {
	if s.LastRefresh.IsZero() {
		return 0
	}
	return now.Sub(s.LastRefresh)
}

// Stats returns the current numbers.
func (inv *Inventory) Stats() Stats {
	var st Stats
	for op := range NumOperations {
		for oc := range NumOutcomes {
			st.Calls[op][oc] = inv.gate.calls[op][oc].Load()
		}
		st.Retries[op] = inv.gate.retries[op].Load()
	}
	snap := inv.snap.Load()
	inv.mu.Lock()
	st.Unauthorized = inv.denied
	st.Refreshes, st.RefreshFailures, st.FlowLogChanges = inv.refreshes, inv.failures, inv.changes
	st.LastAttempt = inv.lastAttempt
	inv.mu.Unlock()
	st.LastRefresh = snap.Taken
	st.Interfaces, st.Subnets, st.VPCs, st.FlowLogs = len(snap.Interfaces), len(snap.Subnets), len(snap.VPCs), len(snap.FlowLogs)
	for i := range snap.FlowLogs {
		if snap.FlowLogs[i].Failed() {
			st.FailedFlowLogs++
		}
	}
	st.DroppedInterfaces = snap.DroppedInterfaces
	st.MaxInterfaces = inv.opts.MaxInterfaces
	return st
}
