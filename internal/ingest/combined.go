package ingest

import (
	"context"
	"errors"
	"sort"
	"sync"
)

// Combine returns one Source made of several (the CloudWatch Logs poller and Kinesis streams),
// so that the app wires any mix of them as one. A checkpoint holds every source's cut at
// once: each Checkpoint captures inside the previous one's, so that the states and the
// consumer's capture are of one moment for all of them.
func Combine(sources ...Source) Source {
	if len(sources) == 1 {
		return sources[0]
	}
	return combined(sources)
}

type combined []Source

// Run runs every source; the first to fail stops the others. It returns once all returned.
func (c combined) Run(ctx context.Context, out chan<- Batch) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, s := range c {
		wg.Go(func() {
			err := s.Run(ctx, out)
			if err == nil && ctx.Err() == nil {
				err = errors.New("a source stopped unexpectedly")
			}
			if err != nil && ctx.Err() == nil {
				once.Do(func() { first = err })
				cancel()
			}
		})
	}
	wg.Wait()
	return first
}

// Checkpoint nests the sources' checkpoints and calls capture with all their states (by name;
// a name twice keeps the later source's).
func (c combined) Checkpoint(ctx context.Context, capture func(states []SourceState) error) error {
	var all []SourceState
	var nest func(i int) error
	nest = func(i int) error {
		if i == len(c) {
			return capture(uniqueStates(all))
		}
		return c[i].Checkpoint(ctx, func(states []SourceState) error {
			all = append(all, states...)
			return nest(i + 1)
		})
	}
	return nest(0)
}

func uniqueStates(states []SourceState) []SourceState {
	at := map[string]int{}
	var out []SourceState
	for _, s := range states {
		if i, ok := at[s.Name]; ok {
			out[i] = s
			continue
		}
		at[s.Name] = len(out)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Restore gives every source all the states; each takes those it knows.
func (c combined) Restore(states []SourceState) {
	for _, s := range c {
		s.Restore(states)
	}
}

// Stats joins the sources' statistics.
func (c combined) Stats() Stats {
	var out Stats
	for _, s := range c {
		st := s.Stats()
		out.Sources = append(out.Sources, st.Sources...)
		out.Discovery.add(st.Discovery)
		out.API.add(st.API)
		out.EventsRead += st.EventsRead
		out.DuplicatesDropped += st.DuplicatesDropped
		out.LateEvents += st.LateEvents
		out.DedupEntries += st.DedupEntries
		out.DedupBytes += st.DedupBytes
		out.QueueInFlight += st.QueueInFlight
	}
	return out
}

// Parts returns the sources src is made of (src itself if it is not combined).
func Parts(src Source) []Source {
	if c, ok := src.(combined); ok {
		return c
	}
	return []Source{src}
}
