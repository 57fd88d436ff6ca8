package app

import (
	"fmt"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/metrics"
	"github.com/flowd-dev/flowd/internal/sourcelabel"
)

// labelSet is one distinct set of source labels and the aggregator its sources' records go to.
type labelSet struct {
	labels sourcelabel.Set
	// values are the values of the App's label names, in their order ("" for a name the set lacks).
	values []string
	agg    *aggregate.Aggregator
}

// labelSets are the label sets in use, in the order of their first source; immutable once
// built (a reload builds new ones, keeping the aggregators of the sets it keeps).
type labelSets struct {
	list  []*labelSet
	byKey map[string]*labelSet
}

// newLabelSets returns the label sets of sources, each with the aggregator of the set of the
// same key in prev (so a reload keeps its counters) or a new one.
func newLabelSets(sources []config.Source, names []string, cfg aggregate.Config, clock aggregate.Clock, prev *labelSets) (*labelSets, error) {
	out := &labelSets{byKey: map[string]*labelSet{}}
	for _, set := range config.LabelSets(sources) {
		key := set.Key()
		ls := &labelSet{labels: set, values: make([]string, len(names))}
		for i, n := range names {
			ls.values[i] = set.Value(n)
		}
		if prev != nil && prev.byKey[key] != nil {
			ls.agg = prev.byKey[key].agg
		} else {
			agg, err := aggregate.New(cfg, clock)
			if err != nil {
				return nil, fmt.Errorf("aggregator: %w", err)
			}
			ls.agg = agg
		}
		out.list = append(out.list, ls)
		out.byKey[key] = ls
	}
	return out, nil
}

// newRoutes builds the format table of sources with their label sets' aggregators, kept from
// prev's sets where the set is unchanged.
func (a *App) newRoutes(sources []config.Source, prev *labelSets) (*formatTable, error) {
	table, err := newFormatTable(sources)
	if err != nil {
		return nil, fmt.Errorf("log formats: %w", err)
	}
	if table.sets, err = newLabelSets(sources, a.labelNames, a.cfg.Load().Aggregate, a.clock, prev); err != nil {
		return nil, err
	}
	return table, nil
}

// sets returns the label sets in use.
func (a *App) sets() *labelSets { return a.formats.Load().sets }

// primary is the set the live view and the inventory's top addresses read: the one without
// labels if there is one, else the first.
func (s *labelSets) primary() *labelSet {
	if ls := s.byKey[""]; ls != nil {
		return ls
	}
	return s.list[0]
}

// snapshots are every set's snapshots, taken at one time, and the primary set's.
type snapshots struct {
	all     []metrics.LabeledSnapshot
	primary *aggregate.Snapshot
}

// snapshots takes every set's snapshot now.
func (s *labelSets) snapshots() *snapshots {
	out := &snapshots{all: make([]metrics.LabeledSnapshot, len(s.list))}
	p := s.primary()
	for i, ls := range s.list {
		out.all[i] = metrics.LabeledSnapshot{Values: ls.values, Snapshot: ls.agg.Snapshot()}
		if ls == p {
			out.primary = out.all[i].Snapshot
		}
	}
	return out
}
