package app

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/inventory"
	"github.com/flowd-dev/flowd/internal/metrics"
	"github.com/flowd-dev/flowd/internal/parse"
)

// EC2ClientFactory builds the EC2 client of an inventory rule (the seam the demo and tests use;
// the default is inventory.NewAWSClient with the SDK's standard chain).
type EC2ClientFactory func(ctx context.Context, rule config.InventoryRule) (inventory.API, error)

// runningInventory is one EC2 inventory and the rule it serves.
type runningInventory struct {
	rule config.InventoryRule
	inv  *inventory.Inventory
}

// inventories owns the EC2 inventories and the sources their flow logs become.
type inventories struct {
	list []runningInventory
	lims inventory.Limiters

	mu         sync.Mutex
	discovered []config.Source // the discovered sources the running ingest source reads
	overlap    map[string]bool // discovered groups skipped because a configured source reads them (warned once)
}

// newInventories builds one inventory per rule of cfg (none: nil).
func (a *App) newInventories(cfg *config.Config) (*inventories, error) {
	if len(cfg.Inventories) == 0 {
		return nil, nil
	}
	var ranges *inventory.IPRanges
	if path := cfg.Inventory.IPRangesFile; path != "" {
		var err error
		if ranges, err = inventory.LoadIPRanges(path); err != nil {
			return nil, fmt.Errorf("inventory.ip_ranges_file: %w", err)
		}
	}
	clients := a.opts.EC2Clients
	if clients == nil {
		clients = func(ctx context.Context, r config.InventoryRule) (inventory.API, error) {
			return inventory.NewAWSClient(ctx, inventory.ClientSpec{Region: r.AWS.Region, RoleARN: r.AWS.RoleARN, ExternalID: r.AWS.ExternalID, Endpoint: r.AWS.Endpoint})
		}
	}
	out := &inventories{overlap: map[string]bool{}}
	for _, rule := range cfg.Inventories {
		api, err := clients(context.Background(), rule)
		if err != nil {
			return nil, fmt.Errorf("inventory %s: %w", rule.Name, err)
		}
		spec := inventory.ClientSpec{Region: rule.AWS.Region, RoleARN: rule.AWS.RoleARN, Endpoint: rule.AWS.Endpoint}
		opts := inventory.Options{
			RefreshInterval: cfg.Inventory.RefreshInterval,
			MaxInterfaces:   cfg.Inventory.MaxInterfaces,
			Limiter:         out.lims.For(spec.LimiterKey(), cfg.Inventory.RequestsPerSecond, inventory.DefaultBurst),
			IPRanges:        ranges,
		}
		inv, err := inventory.New(api, opts, a.clock, a.log.Named("inventory").With(zap.String("inventory", rule.Name)))
		if err != nil {
			return nil, fmt.Errorf("inventory %s: %w", rule.Name, err)
		}
		out.list = append(out.list, runningInventory{rule: rule, inv: inv})
	}
	return out, nil
}

// views is what the inventory collector reads at each scrape.
func (s *inventories) views() []metrics.InventoryView {
	if s == nil {
		return nil
	}
	out := make([]metrics.InventoryView, len(s.list))
	for i, r := range s.list {
		out[i] = metrics.InventoryView{Name: r.rule.Name, Snapshot: r.inv.Snapshot(), Stats: r.inv.Stats()}
	}
	return out
}

// hasDiscovery reports whether some inventory's flow logs become sources.
func (s *inventories) hasDiscovery() bool {
	if s == nil {
		return false
	}
	for _, r := range s.list {
		if r.rule.Discover {
			return true
		}
	}
	return false
}

// discoveryCheck is how often the app compares the discovered sources with the running ones
// (no API call: it reads the inventories' snapshots, which refresh on their own interval).
const discoveryCheck = 5 * time.Second

// runDiscovery restarts ingest whenever the discovered sources change, until ctx ends.
func (a *App) runDiscovery(ctx context.Context) {
	for {
		discovered := a.inv.discoveredSources(a.cfg.Load().Sources, a.log.Named("inventory"))
		a.inv.mu.Lock()
		changed := !sameSources(discovered, a.inv.discovered)
		a.inv.mu.Unlock()
		if changed {
			if err := a.restartWithDiscovered(ctx, discovered); err != nil {
				if ctx.Err() != nil {
					return
				}
				a.log.Warn("discovered flow logs could not be read; retrying", zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-a.clock.After(min(discoveryCheck, a.cfg.Load().Inventory.RefreshInterval)):
		}
	}
}

// restartWithDiscovered restarts ingest with the configured sources plus discovered ones.
func (a *App) restartWithDiscovered(ctx context.Context, discovered []config.Source) error {
	a.reloadMu.Lock() // a reload and a discovery never build a source at the same time
	defer a.reloadMu.Unlock()
	cfg := a.cfg.Load().WithSources(discovered)
	table, err := a.newRoutes(cfg.Sources, a.sets())
	if err != nil {
		return err
	}
	src, err := a.buildSource(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-a.restart:
	default:
	}
	select {
	case a.restart <- restartRequest{src: src, table: table}:
	case <-ctx.Done():
		return ctx.Err()
	}
	a.inv.mu.Lock()
	a.inv.discovered = discovered
	a.inv.mu.Unlock()
	groups := make([]string, 0, len(discovered))
	for _, s := range discovered {
		groups = append(groups, s.Name()+map[bool]string{true: "#" + s.LogStreamPrefix}[s.LogStreamPrefix != ""])
	}
	a.log.Info("discovered flow logs changed, restarting ingest", zap.Strings("discovered", groups))
	return nil
}

// withDiscovered adds the running discovered sources to a reloaded config.
func (a *App) withDiscovered(cfg *config.Config) *config.Config {
	if a.inv == nil {
		return cfg
	}
	a.inv.mu.Lock()
	defer a.inv.mu.Unlock()
	if len(a.inv.discovered) == 0 {
		return cfg
	}
	return cfg.WithSources(a.inv.discovered)
}

// buildSource is newSource, or a source that waits when only discovery will name groups.
func (a *App) buildSource(ctx context.Context, cfg *config.Config) (ingest.Source, error) {
	if len(cfg.IngestOptions.Groups) == 0 && len(cfg.IngestOptions.Discovery) == 0 && a.inv.hasDiscovery() {
		return &waitingSource{}, nil
	}
	return a.newSource(ctx, cfg)
}

// waitingSource reads nothing: it stands in until the inventory discovers a flow log. It keeps
// the states a checkpoint restored, so that they reach the source that replaces it.
type waitingSource struct {
	mu     sync.Mutex
	states []ingest.SourceState
}

func (w *waitingSource) Run(ctx context.Context, _ chan<- ingest.Batch) error {
	<-ctx.Done()
	return nil
}

func (w *waitingSource) Checkpoint(_ context.Context, capture func([]ingest.SourceState) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return capture(w.states)
}

func (w *waitingSource) Restore(states []ingest.SourceState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.states = states
}

func (w *waitingSource) Stats() ingest.Stats { return ingest.Stats{} }

// discoveredSources turns the discover inventories' flow logs into sources: one per log group
// with all its formats when they differ in field count (the parse matcher tells them apart);
// else one per interface stream (log_stream_prefix = the interface id), each with the format of
// the flow log writing it. Groups a configured source already reads are left out (they would
// be counted twice).
func (s *inventories) discoveredSources(configured []config.Source, log *zap.Logger) []config.Source {
	var out []config.Source
	for _, r := range s.list {
		if !r.rule.Discover {
			continue
		}
		srcs, overlaps := discoveredFrom(r.rule, r.inv.Snapshot(), configured, log)
		out = append(out, srcs...)
		for _, g := range overlaps {
			s.mu.Lock()
			if !s.overlap[g] {
				s.overlap[g] = true
				log.Warn("discovered flow log group is also configured as a source: reading it once, with the configured format", zap.String("log_group", g))
			}
			s.mu.Unlock()
		}
	}
	return out
}

// discoveredFrom turns one inventory's flow logs into sources (see discoveredSources); overlaps
// are the groups left out because a configured source reads them.
func discoveredFrom(rule config.InventoryRule, snap *inventory.Snapshot, configured []config.Source, log *zap.Logger) (out []config.Source, overlaps []string) {
	for _, g := range snap.LogGroups() {
		base := config.Source{LogGroup: g.Name, Region: rule.AWS.Region, RoleARN: rule.AWS.RoleARN, ExternalID: rule.AWS.ExternalID, Endpoint: rule.LogsEndpoint, Labels: rule.Labels}
		if readByConfigured(configured, base) {
			overlaps = append(overlaps, g.Name)
			continue
		}
		formats, specs, ok := compileAll(g.Formats, log, g.Name)
		if !ok {
			continue
		}
		if _, err := parse.NewMatcher(formats...); err == nil {
			src := base
			src.Formats, src.FormatSpecs = formats, specs
			out = append(out, src)
			continue
		}
		// Formats of one field count: split the group by interface stream.
		for i := range snap.Interfaces {
			n := &snap.Interfaces[i]
			fl, ok := snap.FlowLogForStream(&g, n.ID+"-all")
			if !ok {
				continue
			}
			f, err := parse.Compile(fl.Format)
			if err != nil {
				continue
			}
			src := base
			src.LogStreamPrefix = n.ID
			src.Formats, src.FormatSpecs = []*parse.Format{f}, []string{fl.Format}
			out = append(out, src)
		}
	}
	return out, overlaps
}

func compileAll(specs []string, log *zap.Logger, group string) ([]*parse.Format, []string, bool) {
	var formats []*parse.Format
	for _, spec := range specs {
		f, err := parse.Compile(spec)
		if err != nil {
			log.Warn("discovered flow log format does not compile: the group is not read", zap.String("log_group", group), zap.String("log_format", spec), zap.Error(err))
			return nil, nil, false
		}
		formats = append(formats, f)
	}
	return formats, specs, true
}

func readByConfigured(configured []config.Source, s config.Source) bool {
	for _, c := range configured {
		if c.Discover == "" && c.LogGroup == s.LogGroup && c.Region == s.Region && c.Endpoint == s.Endpoint && c.RoleARN == s.RoleARN {
			return true
		}
	}
	return false
}

// sameSources compares discovered source lists by what ingest and parse see.
func sameSources(a, b []config.Source) bool {
	key := func(l []config.Source) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = fmt.Sprint(s.LogGroup, "\x00", s.LogStreamPrefix, "\x00", s.Region, "\x00", s.Endpoint, "\x00", s.RoleARN, "\x00", s.FormatSpecs)
		}
		slices.Sort(out)
		return out
	}
	return reflect.DeepEqual(key(a), key(b))
}

// topAddresses lists the addresses of the published snapshot's top-K families.
func topAddresses(snapshot func() *aggregate.Snapshot) func() []netip.Addr {
	return func() []netip.Addr { return metrics.TopAddresses(snapshot()) }
}
