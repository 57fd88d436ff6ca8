package simulate

import (
	"container/heap"
	"time"
)

// Delivery is the batch of one interface's aggregation interval, handed out when its delivery
// time has come.
type Delivery struct {
	// Stream is the log stream: the interface id and "-all".
	Stream string
	// Interface is the interface id (eni-...).
	Interface string
	// WindowStart and WindowEnd bound the aggregation interval.
	WindowStart, WindowEnd time.Time
	// DeliverAt is when the batch became deliverable: WindowEnd plus the delivery delay (or
	// the release time of a held batch).
	DeliverAt time.Time
	// Events are the records, in timestamp order.
	Events []Event
}

// batch is a generated interval waiting for its delivery time.
type batch struct {
	deliverAt int64 // Unix milliseconds
	iface     int
	k         int64 // window number
	ws, we    int64 // window, Unix seconds
	events    []Event
	sums      []summary
}

// batchQueue is a min-heap of batches by (deliverAt, interface, window): the order Advance
// hands them out in, the same whatever the calls.
type batchQueue []*batch

func (q batchQueue) Len() int { return len(q) }
func (q batchQueue) Less(i, j int) bool {
	a, b := q[i], q[j]
	if a.deliverAt != b.deliverAt {
		return a.deliverAt < b.deliverAt
	}
	if a.iface != b.iface {
		return a.iface < b.iface
	}
	return a.k < b.k
}
func (q batchQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *batchQueue) Push(x any)   { *q = append(*q, x.(*batch)) }
func (q *batchQueue) Pop() any {
	old := *q
	b := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return b
}

var _ heap.Interface = (*batchQueue)(nil)

// delayMillis draws the delivery delay of interface i's window k: DelayMin to DelayMax, skewed
// towards DelayMin (most batches arrive early, some late), or a straggler's delay from
// DelayMax to StragglerMax.
func delayMillis(cfg *Config, i int, k int64) int64 {
	r := seeded(cfg.Seed, saltDelay, uint64(i), uint64(k))
	lo, hi := cfg.DelayMin.Milliseconds(), cfg.DelayMax.Milliseconds()
	if cfg.StragglerFraction > 0 && r.chance(cfg.StragglerFraction) {
		lo, hi = hi, cfg.StragglerMax.Milliseconds()
		return lo + int64(float64(hi-lo)*r.float())
	}
	f := r.float()
	return lo + int64(float64(hi-lo)*f*f)
}
