package aggregate

import (
	"fmt"
	"slices"
)

// networkState adds the network context to s; the caller holds the lock.
func (a *Aggregator) networkState(s *State) {
	m := &a.mutable
	if m.dims.enabled() {
		for _, d := range Dimensions() {
			if m.dims.on[d] {
				s.Dimensions = append(s.Dimensions, d)
				s.DimensionFolds = append(s.DimensionFolds, m.dims.vals[d].fold.state())
			}
		}
		for i, k := range m.dims.keys {
			sn := StateNetwork{Counts: m.dims.counts[i]}
			for _, d := range s.Dimensions {
				sn.Values = append(sn.Values, m.dims.vals[d].ids[k.vals[d]])
			}
			s.Network = append(s.Network, sn)
		}
		s.NetworkFold = m.dims.fold.state()
	}
	for i, k := range m.rejects.keys {
		s.Rejected = append(s.Rejected, StateRejected{Interface: m.ifaces.ids[k.iface], PortKey: m.ports.keys[k.port], Leg: k.leg, Counts: m.rejects.counts[i]})
	}
	s.RejectedFold = m.rejects.fold.state()
}

// restoreNetwork restores the network context of a version 3 state into m, whose ports and
// interfaces are restored. Network counts are restored only when the same dimensions are on (a
// different set makes different series, which start at zero).
func (a *Aggregator) restoreNetwork(m *mutable, s *State) error {
	if m.dims.enabled() && slices.Equal(s.Dimensions, sortedDims(a.cfg.Dimensions)) {
		if len(s.DimensionFolds) != len(s.Dimensions) {
			return &StateError{Field: "DimensionFolds", Reason: fmt.Sprintf("has %d folds for %d dimensions", len(s.DimensionFolds), len(s.Dimensions))}
		}
		for i, d := range s.Dimensions {
			if err := restoreFold(fmt.Sprintf("DimensionFolds[%d]", i), s.DimensionFolds[i], &m.dims.vals[d].fold); err != nil {
				return err
			}
		}
		if err := restoreFold("NetworkFold", s.NetworkFold, &m.dims.fold); err != nil {
			return err
		}
		for i, sn := range s.Network {
			field := fmt.Sprintf("Network[%d]", i)
			if len(sn.Values) != len(s.Dimensions) {
				return &StateError{Field: field + ".Values", Reason: fmt.Sprintf("has %d values for %d dimensions", len(sn.Values), len(s.Dimensions))}
			}
			var k dimKey
			for d := range k.vals {
				k.vals[d] = -1
			}
			for j, d := range s.Dimensions {
				k.vals[d] = m.dims.vals[d].internIndex(sn.Values[j])
			}
			if _, dup := m.dims.index[k]; dup {
				return &StateError{Field: field + ".Values", Reason: fmt.Sprintf("%q repeats an earlier key", sn.Values)}
			}
			m.dims.counts[m.dims.add(k)] = sn.Counts
		}
	}
	if err := restoreFold("RejectedFold", s.RejectedFold, &m.rejects.fold); err != nil {
		return err
	}
	ifaceIndex := make(map[string]int32, len(m.ifaces.ids))
	for i, id := range m.ifaces.ids {
		ifaceIndex[id] = int32(i)
	}
	portIndex := make(map[uint32]int32, len(m.ports.keys))
	for i, k := range m.ports.keys {
		portIndex[k] = int32(i)
	}
	for i, r := range s.Rejected {
		field := fmt.Sprintf("Rejected[%d]", i)
		ii, ok := ifaceIndex[r.Interface]
		if !ok {
			return &StateError{Field: field + ".Interface", Reason: fmt.Sprintf("%q is not in Interfaces", r.Interface)}
		}
		pi, ok := portIndex[r.PortKey]
		if !ok {
			return &StateError{Field: field + ".PortKey", Reason: fmt.Sprintf("%#x is not in Ports", r.PortKey)}
		}
		if r.Leg >= numLegs {
			return &StateError{Field: field + ".Leg", Reason: fmt.Sprintf("%d is not a leg", r.Leg)}
		}
		k := rejectKey{iface: ii, port: pi, leg: r.Leg}
		if _, dup := m.rejects.index[k]; dup {
			return &StateError{Field: field, Reason: "repeats an earlier key"}
		}
		m.rejects.counts[m.rejects.add(k)] = r.Counts
	}
	return nil
}

// sortedDims returns ds in label order.
func sortedDims(ds []Dimension) []Dimension {
	out := slices.Clone(ds)
	slices.Sort(out)
	return out
}

// internIndex returns the index of id, interning it past the cap if need be (restoring).
func (t *ifaceTable) internIndex(id string) int32 {
	switch id {
	case OtherInterface:
		return ifaceOther
	case NoInterface, "":
		return ifaceNone
	}
	w := words(id)
	if s := t.find(id, &w); s.idx1 != 0 {
		return s.idx1 - 1
	}
	return t.insert(id, w).idx1 - 1
}

// indexOf returns the index of an interned id, the "-" key for "" and "-", and the "other" key
// for ids not interned (a restored scan target whose interface was folded).
func (t *ifaceTable) indexOf(id string) int32 {
	if id == "" || id == NoInterface {
		return ifaceNone
	}
	w := words(id)
	if s := t.find(id, &w); s.idx1 != 0 {
		return s.idx1 - 1
	}
	return ifaceOther
}
