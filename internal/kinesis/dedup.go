package kinesis

import (
	"hash/maphash"
	"time"
)

// dedup remembers log event ids for a horizon, in buckets of horizon/8 so that expiry is a map
// drop, not a scan. Ids are kept as 64-bit hashes (maphash, seeded per process): with n ids in
// the horizon the chance that two different ids collide is about n²/2⁶⁵ (3·10⁻⁸ at 10⁶ ids);
// a collision drops one event as a duplicate, which is counted. Not safe for concurrent use.
type dedup struct {
	seed    maphash.Seed
	width   time.Duration
	buckets []dedupBucket // ring; oldest first after rotation
	max     int           // entries cap across buckets (0 = none)
	n       int
}

type dedupBucket struct {
	start time.Time
	ids   map[uint64]struct{}
}

func newDedup(horizon time.Duration, maxEntries int) *dedup {
	return &dedup{seed: maphash.MakeSeed(), width: horizon / 8, max: maxEntries}
}

// seen reports whether id was seen within the horizon, and remembers it.
func (d *dedup) seen(id string, now time.Time) bool {
	if d.width <= 0 {
		return false
	}
	h := maphash.String(d.seed, id)
	for i := range d.buckets {
		if _, ok := d.buckets[i].ids[h]; ok {
			return true
		}
	}
	d.expire(now)
	if len(d.buckets) == 0 || now.Sub(d.buckets[len(d.buckets)-1].start) >= d.width {
		d.buckets = append(d.buckets, dedupBucket{start: now, ids: map[uint64]struct{}{}})
	}
	if d.max > 0 && d.n >= d.max && len(d.buckets) > 1 {
		d.n -= len(d.buckets[0].ids) // over the cap: forget the oldest bucket early
		d.buckets = d.buckets[1:]
	}
	d.buckets[len(d.buckets)-1].ids[h] = struct{}{}
	d.n++
	return false
}

func (d *dedup) expire(now time.Time) {
	for len(d.buckets) > 0 && now.Sub(d.buckets[0].start) >= 8*d.width+d.width {
		d.n -= len(d.buckets[0].ids)
		d.buckets = d.buckets[1:]
	}
}

// forget removes id (its batch was not committed and will be read again).
func (d *dedup) forget(id string) {
	h := maphash.String(d.seed, id)
	for i := range d.buckets {
		if _, ok := d.buckets[i].ids[h]; ok {
			delete(d.buckets[i].ids, h)
			d.n--
		}
	}
}

func (d *dedup) len() int { return d.n }
