package ingest

import (
	"slices"
)

// dedup remembers, per slice of event time, the 64-bit FNV-1a hashes of the eventIds emitted for
// that slice. A slice's hashes live from its first read to the end of its final pass, so memory is
// bounded by the number of events with timestamps in the last max_delay + late_grace + width.
//
// Each slice keeps a sorted, immutable array of hashes (8 bytes per event) plus a small map of
// hashes added since the last seal. Sealing merges the map into a new array, so a checkpoint
// capture can share the old arrays without copying them.
type dedup struct {
	width   int64
	slices  map[int64]*sliceSet
	entries int64
}

type sliceSet struct {
	sealed []uint64 // sorted, never modified in place
	fresh  map[uint64]struct{}
}

// bytesPerFreshEntry approximates the memory of one map entry (key, bucket overhead).
const bytesPerFreshEntry = 24

func newDedup(width int64) dedup {
	return dedup{width: width, slices: make(map[int64]*sliceSet)}
}

// hashID is FNV-1a 64 over the event id. It is stable across processes (the checkpoint stores
// hashes) and allocation-free.
func hashID(id string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= prime
	}
	return h
}

// seen reports whether hash h was recorded for the slice starting at slice.
func (d *dedup) seen(slice int64, h uint64) bool {
	s := d.slices[slice]
	if s == nil {
		return false
	}
	if _, ok := s.fresh[h]; ok {
		return true
	}
	_, ok := slices.BinarySearch(s.sealed, h)
	return ok
}

// add records hash h for the slice; the caller has checked it is not seen.
func (d *dedup) add(slice int64, h uint64) {
	s := d.slices[slice]
	if s == nil {
		s = &sliceSet{}
		d.slices[slice] = s
	}
	if s.fresh == nil {
		s.fresh = make(map[uint64]struct{})
	}
	s.fresh[h] = struct{}{}
	d.entries++
}

// remove undoes add (a hand-off that did not happen).
func (d *dedup) remove(slice int64, h uint64) {
	if s := d.slices[slice]; s != nil {
		if _, ok := s.fresh[h]; ok {
			delete(s.fresh, h)
			d.entries--
		}
	}
}

// seal merges every fresh map into its sorted array.
func (d *dedup) seal() {
	for _, s := range d.slices {
		if len(s.fresh) == 0 {
			continue
		}
		merged := make([]uint64, 0, len(s.sealed)+len(s.fresh))
		merged = append(merged, s.sealed...)
		for h := range s.fresh {
			merged = append(merged, h)
		}
		slices.Sort(merged)
		s.sealed = merged
		s.fresh = nil
	}
}

// settle drops the slices that end at or before t: their final pass is done.
func (d *dedup) settle(t int64) {
	for start, s := range d.slices {
		if start+d.width <= t {
			d.entries -= int64(len(s.sealed) + len(s.fresh))
			delete(d.slices, start)
		}
	}
}

// bytes approximates the memory held by the hashes.
func (d *dedup) bytes() int64 {
	var b int64
	for _, s := range d.slices {
		b += int64(len(s.sealed))*8 + int64(len(s.fresh))*bytesPerFreshEntry
	}
	return b
}

// export returns the hashes per slice, sorted, for a checkpoint. Sealed arrays are shared.
func (d *dedup) export() []SliceState {
	out := make([]SliceState, 0, len(d.slices))
	for start, s := range d.slices {
		hs := s.sealed
		if len(s.fresh) > 0 {
			hs = make([]uint64, 0, len(s.sealed)+len(s.fresh))
			hs = append(hs, s.sealed...)
			for h := range s.fresh {
				hs = append(hs, h)
			}
			slices.Sort(hs)
		}
		out = append(out, SliceState{Start: start, Hashes: hs})
	}
	slices.SortFunc(out, func(a, b SliceState) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	return out
}

// load adds a checkpoint's hashes, re-keyed to this width (a changed poll interval merges or
// splits nothing that matters: a hash is only looked up in the slice of its event's timestamp,
// and an old slice maps to the new slice containing its start, which may be a coarser one).
func (d *dedup) load(states []SliceState, oldWidth int64) {
	for _, st := range states {
		if oldWidth == d.width {
			if len(st.Hashes) == 0 {
				continue
			}
			hs := slices.Clone(st.Hashes)
			slices.Sort(hs)
			hs = slices.Compact(hs)
			d.slices[st.Start] = &sliceSet{sealed: hs}
			d.entries += int64(len(hs))
			continue
		}
		// Widths differ: an old slice may straddle new slices, so its hashes go to every new
		// slice it overlaps.
		for a := floorTo(st.Start, d.width); a < st.Start+oldWidth; a += d.width {
			for _, h := range st.Hashes {
				if !d.seen(a, h) {
					d.add(a, h)
				}
			}
		}
	}
	d.seal()
}
