package app

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/inventory"
)

// Reload re-reads the config file and applies it atomically: a file that fails to load or
// validate, or that changes settings only a restart can apply, leaves the running config in
// place and sets flowd_config_last_reload_successful to 0. Changed sources or ingest settings
// restart the ingest manager; kept sources resume at their positions.
func (a *App) Reload(ctx context.Context) error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	if err := a.reload(ctx); err != nil {
		a.reloadOK.Store(false)
		a.log.Error("config reload failed, keeping the running config", zap.String("file", a.opts.ConfigFile), zap.Error(err))
		return err
	}
	a.reloadOK.Store(true)
	a.reloadTime.Store(a.clock.Now().UnixMilli())
	return nil
}

func (a *App) reload(ctx context.Context) error {
	if a.opts.ConfigFile == "" {
		return errors.New("flowd was started without a config file: nothing to reload")
	}
	cfg, err := loadConfig(ctx, a.opts.ConfigFile)
	if err != nil {
		return err
	}
	if a.opts.Shard != nil {
		cfg.SetShard(*a.opts.Shard)
	}
	old := a.cfg.Load()
	var fixed []string
	if !reflect.DeepEqual(old.File.Aggregate, cfg.File.Aggregate) {
		fixed = append(fixed, "aggregate")
	}
	if !reflect.DeepEqual(old.File.Checkpoint, cfg.File.Checkpoint) {
		fixed = append(fixed, "checkpoint")
	}
	if old.File.Workers != cfg.File.Workers {
		fixed = append(fixed, "workers")
	}
	if old.File.Ingest.QueueSize != cfg.File.Ingest.QueueSize {
		fixed = append(fixed, "ingest.queue_size")
	}
	if !reflect.DeepEqual(old.Inventory, cfg.Inventory) || !reflect.DeepEqual(old.Inventories, cfg.Inventories) {
		fixed = append(fixed, "inventory (or the discover sources)")
	}
	if names := config.LabelNames(config.LabelSets(cfg.Sources)); !slices.Equal(names, a.labelNames) {
		fixed = append(fixed, fmt.Sprintf("the source label names (%v, were %v)", names, a.labelNames))
	}
	if len(fixed) > 0 {
		return fmt.Errorf("%s changed: restart flowd to apply (or revert)", strings.Join(fixed, ", "))
	}
	if a.inv != nil && cfg.Inventory.IPRangesFile != "" {
		ranges, err := inventory.LoadIPRanges(cfg.Inventory.IPRangesFile)
		if err != nil {
			return fmt.Errorf("inventory.ip_ranges_file: %w", err)
		}
		for _, r := range a.inv.list {
			r.inv.SetIPRanges(ranges)
		}
	}
	if reflect.DeepEqual(old.File.Sources, cfg.File.Sources) && reflect.DeepEqual(old.File.Ingest, cfg.File.Ingest) && old.Ingest.Shard == cfg.Ingest.Shard {
		a.cfg.Store(cfg)
		a.log.Info("config reloaded, no change to apply")
		return nil
	}
	run := a.withDiscovered(cfg)
	table, err := a.newRoutes(run.Sources, a.sets())
	if err != nil {
		return err
	}
	warnFormats(a.log.Named("parse"), cfg.Sources)
	src, err := a.buildSource(ctx, run)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	// Replace a restart still pending from an earlier reload: the newest config wins.
	select {
	case <-a.restart:
	default:
	}
	select {
	case a.restart <- restartRequest{src: src, table: table}:
	case <-ctx.Done():
		return ctx.Err()
	}
	a.cfg.Store(cfg)
	a.log.Info("config reloaded, restarting ingest with the new sources", zap.Int("sources", len(cfg.Sources)))
	return nil
}

// loadConfig loads path in its own goroutine and gives up when ctx ends, so a reload that cannot
// finish (a config path that is a FIFO with no writer, a stalled network file system) never
// holds up shutdown; the loader itself is bounded in size and alias expansion.
func loadConfig(ctx context.Context, path string) (*config.Config, error) {
	type result struct {
		cfg *config.Config
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned load still finishes without blocking
	go func() {
		cfg, err := config.LoadFile(path)
		done <- result{cfg, err}
	}()
	select {
	case r := <-done:
		return r.cfg, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("reload abandoned: %w", ctx.Err())
	}
}
