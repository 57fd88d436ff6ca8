package ingest

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"go.uber.org/zap"
)

// discoveredGroup is one log group listed by DescribeLogGroups.
type discoveredGroup struct {
	name      string
	createdMS int64
}

// discover re-runs DescribeLogGroups for every DiscoverySpec at the interval, starting pollers
// for new groups of this shard and stopping those whose group vanished.
func (m *Manager) discover(ctx context.Context, out chan<- Batch) {
	clients := make([]Client, len(m.opts.Discovery))
	first := true
	for {
		allOK := true
		for i, spec := range m.opts.Discovery {
			if err := m.discoverOne(ctx, out, i, spec, clients, first); err != nil {
				if ctx.Err() != nil {
					return
				}
				allOK = false
				m.log.Warn("log group discovery failed, keeping the current groups", zap.String("prefix", spec.Prefix), zap.Error(err))
			}
		}
		if allOK && first {
			// Groups in the checkpoint that no longer exist are forgotten.
			m.mu.Lock()
			for name := range m.restored {
				delete(m.restored, name)
			}
			m.mu.Unlock()
			first = false
		}
		if sleep(ctx, m.clock, m.opts.DiscoveryInterval) != nil {
			return
		}
	}
}

func (m *Manager) discoverOne(ctx context.Context, out chan<- Batch, idx int, spec DiscoverySpec, clients []Client, first bool) error {
	if clients[idx] == nil {
		c, err := m.clients.Client(ctx, spec.AWS)
		if err != nil {
			return fmt.Errorf("client: %w", err)
		}
		clients[idx] = m.gated(c, spec.AWS, &m.discovery, m.log.With(zap.String("discovery_prefix", spec.Prefix)))
	}
	groups, err := listGroups(ctx, clients[idx], spec.Prefix)
	if err != nil {
		return err
	}
	final := m.opts.lags[len(m.opts.lags)-1]
	present := make(map[string]bool, len(groups))
	for _, g := range groups {
		name := sourceName(g.name, spec.StreamPrefix)
		if !m.opts.Shard.owns(name) {
			continue
		}
		present[name] = true
		m.mu.Lock()
		_, running := m.pollers[name]
		startMS := m.startMS
		m.mu.Unlock()
		if running {
			continue
		}
		if !first && g.createdMS > 0 {
			// A group created while we run: read it from the earliest timestamp its first
			// events can carry (they arrive up to the final lag after their timestamp).
			startMS = max(startMS, g.createdMS-final)
		}
		if err := m.startPoller(ctx, out, g.name, spec.StreamPrefix, spec.AWS, idx, startMS); err != nil {
			return err
		}
		m.log.Info("log group discovered, polling it", zap.String("log_group", g.name))
	}
	// Stop pollers of this spec whose group is gone.
	m.mu.Lock()
	var gone []*pollerEntry
	var goneNames []string
	for name, e := range m.pollers {
		if e.discoveredBy == idx && !present[name] {
			gone = append(gone, e)
			goneNames = append(goneNames, name)
		}
	}
	m.mu.Unlock()
	for i, e := range gone {
		e.cancel()
		<-e.done
		m.retire(goneNames[i], e)
		m.log.Info("log group no longer listed, stopped its poller", zap.String("source", goneNames[i]))
	}
	return nil
}

// listGroups pages DescribeLogGroups for a name prefix.
func listGroups(ctx context.Context, c Client, prefix string) ([]discoveredGroup, error) {
	in := &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(prefix)}
	pg := cloudwatchlogs.NewDescribeLogGroupsPaginator(c, in, func(o *cloudwatchlogs.DescribeLogGroupsPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	var out []discoveredGroup
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe log groups (prefix %q): %w", prefix, err)
		}
		for _, g := range page.LogGroups {
			out = append(out, discoveredGroup{name: aws.ToString(g.LogGroupName), createdMS: aws.ToInt64(g.CreationTime)})
		}
	}
	return out, nil
}
