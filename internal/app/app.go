// Package app wires flowd together: ingest sources feed a bounded queue, parse workers turn
// the queue's batches into records for the aggregator, the checkpoint loop persists a
// consistent cut of both, and the metrics server publishes the result. One errgroup owns every
// goroutine; Shutdown (or cancelling Run's context) stops them in a fixed order: pollers, queue
// drain, final aggregate, checkpoint, HTTP.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/metrics"
	"github.com/flowd-dev/flowd/internal/web"
)

// Options are the settings that do not come from the config file.
type Options struct {
	// ConfigFile is re-read on reload; empty disables reloading (the demo builds its config).
	ConfigFile string
	// ListenAddresses of the HTTP server (default ":9820"); port 0 picks a free port.
	ListenAddresses []string
	// WebConfigFile enables TLS and basic auth (exporter-toolkit).
	WebConfigFile string
	// Pprof serves /debug/pprof/.
	Pprof bool
	// Web are the other web flags: limits, route prefix, lifecycle API, systemd socket.
	Web web.Options
	// Shard overrides ingest.shard from the file (the --shard flag), also across reloads.
	Shard *config.Shard
	// Build identifies the binary in flowd_build_info and on the landing page.
	Build metrics.BuildInfo
	// HUP delivers reload requests (SIGHUP) to Run.
	HUP <-chan os.Signal
	// ShutdownTimeout bounds the HTTP server's shutdown (default 5s).
	ShutdownTimeout time.Duration

	// Clients builds the CloudWatch Logs clients (default: the SDK's standard chain).
	Clients ingest.ClientFactory
	// Clock is the time source of ingest, the aggregator and the checkpoint loop (default: wall clock).
	Clock ingest.Clock
	// Handlers are extra HTTP handlers by path; StatusLines adds lines to the landing page.
	Handlers    map[string]http.Handler
	StatusLines func() []string
}

// App is a running flowd.
type App struct {
	opts    Options
	log     *zap.Logger
	clock   ingest.Clock
	clients ingest.ClientFactory
	agg     *aggregate.Aggregator
	srv     *web.Server
	workers int

	cfg     atomic.Pointer[config.Config]
	mgr     atomic.Pointer[ingest.Manager]
	formats atomic.Pointer[formatTable]
	queue   chan ingest.Batch

	// published is the snapshot the collector serves when checkpoints are on: the one
	// captured with the last checkpoint written.
	published       atomic.Pointer[aggregate.Snapshot]
	publishedCounts atomic.Pointer[recordCounts]

	counts        counters
	malformedWarn *warnLimiter
	unmatchedWarn *warnLimiter

	// ckptMu serialises checkpoint writes and ingest restarts.
	ckptMu       sync.Mutex
	ckptLast     atomic.Int64 // Unix ms
	ckptFailures atomic.Uint64
	ckptBytes    atomic.Int64

	reloadMu   sync.Mutex
	reloadOK   atomic.Bool
	reloadTime atomic.Int64 // Unix ms
	restart    chan restartRequest

	quit     chan struct{}
	quitOnce sync.Once
	done     chan struct{}
	started  atomic.Bool
}

// restartRequest replaces the ingest manager after a reload changed the sources.
type restartRequest struct {
	mgr   *ingest.Manager
	table *formatTable
}

// New builds every part, restores the checkpoint if one is configured and listens on the
// HTTP addresses; Run starts the work. Each setup error names its step.
func New(cfg *config.Config, logger *zap.Logger, opts Options) (*App, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	if len(opts.ListenAddresses) == 0 {
		opts.ListenAddresses = []string{":9820"}
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = ingest.SystemClock{}
	}
	if opts.Clients == nil {
		opts.Clients = AWSClients(logger)
	}
	if opts.Shard != nil {
		cfg.Ingest.Shard = *opts.Shard
	}
	a := &App{
		opts:    opts,
		log:     logger,
		clock:   opts.Clock,
		clients: opts.Clients,
		queue:   make(chan ingest.Batch, cfg.Ingest.QueueSize),
		restart: make(chan restartRequest, 1),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		workers: cfg.Workers,
	}
	if a.workers == 0 {
		a.workers = runtime.GOMAXPROCS(0)
	}
	a.malformedWarn = newWarnLimiter(logger.Named("parse"), "malformed flow log records (counted in flowd_parse_errors_total)", 30*time.Second)
	a.unmatchedWarn = newWarnLimiter(logger.Named("parse"), "records that fit no configured log format (counted as flowd_records_total{status=\"unmatched\"})", 30*time.Second)
	a.cfg.Store(cfg)
	a.reloadOK.Store(true)
	a.reloadTime.Store(a.clock.Now().UnixMilli())

	var err error
	if a.agg, err = aggregate.New(cfg.Aggregate, a.clock); err != nil {
		return nil, fmt.Errorf("aggregator: %w", err)
	}
	table, err := newFormatTable(cfg.Sources)
	if err != nil {
		return nil, fmt.Errorf("log formats: %w", err)
	}
	warnFormats(logger.Named("parse"), cfg.Sources)
	a.formats.Store(table)
	mgr, err := a.newManager(cfg)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	a.mgr.Store(mgr)
	if cfg.Checkpoint.Path != "" {
		a.restore(mgr, cfg.Checkpoint.Path)
	}

	inputs := a.metricInputs()
	collector := metrics.NewCollector(inputs, opts.Build)
	reg, err := metrics.NewRegistry(collector)
	if err != nil {
		return nil, fmt.Errorf("metrics registry: %w", err)
	}
	var reload func(context.Context) error
	if opts.ConfigFile != "" {
		reload = a.Reload
	}
	a.srv, err = web.NewServer(web.Config{
		ListenAddresses: opts.ListenAddresses,
		WebConfigFile:   opts.WebConfigFile,
		Options:         opts.Web,
		Registry:        reg,
		Inputs:          inputs,
		Ready:           a.ready,
		Reload:          reload,
		Status:          a.status,
		Pprof:           opts.Pprof,
		Extra:           opts.Handlers,
		Logger:          logger.Named("web"),
	})
	if err != nil {
		return nil, fmt.Errorf("http server: %w", err)
	}
	return a, nil
}

// Addrs returns the addresses the HTTP server listens on.
func (a *App) Addrs() []net.Addr { return a.srv.Addrs() }

func (a *App) currentManager() *ingest.Manager { return a.mgr.Load() }

// newManager builds an ingest manager for cfg's sources.
func (a *App) newManager(cfg *config.Config) (*ingest.Manager, error) {
	return ingest.New(ingestOptions(cfg), a.clients, a.clock, a.log.Named("ingest"))
}

// ingestOptions maps the config's sources and ingest section onto ingest.Options.
func ingestOptions(cfg *config.Config) ingest.Options {
	in := cfg.Ingest
	o := ingest.Options{
		DiscoveryInterval: in.DiscoveryInterval,
		PollInterval:      in.PollInterval,
		MaxDefer:          maxDefer(in.MaxDefer),
		EarlyPasses:       in.EarlyPasses,
		MaxDelay:          in.MaxDelay,
		LateGrace:         in.LateGrace,
		RequestsPerSecond: in.RequestsPerSecond,
		MaxInFlight:       in.MaxInFlight,
		StartPosition:     in.StartPosition.String(),
		Shard:             ingest.Shard{Index: in.Shard.Index, Count: in.Shard.Count},
	}
	for _, s := range cfg.Sources {
		spec := ingest.AWSSpec{Region: s.Region, RoleARN: s.RoleARN, ExternalID: s.ExternalID, Endpoint: s.Endpoint}
		switch {
		case s.LogGroup != "":
			o.Groups = append(o.Groups, ingest.GroupSpec{Name: s.LogGroup, StreamPrefix: s.LogStreamPrefix, AWS: spec})
		case s.LogGroupARN != "":
			o.Groups = append(o.Groups, ingest.GroupSpec{Name: s.LogGroupARN, StreamPrefix: s.LogStreamPrefix, AWS: spec})
		default:
			o.Discovery = append(o.Discovery, ingest.DiscoverySpec{Prefix: s.LogGroupPrefix, StreamPrefix: s.LogStreamPrefix, AWS: spec})
		}
	}
	return o
}

// maxDefer maps the config's max_defer (0: no deferral) onto ingest's (0: default, < 0: none).
func maxDefer(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// Run serves and processes until ctx is cancelled or Shutdown is called, then stops in order:
// pollers, queue drain, final aggregate, checkpoint, HTTP. It returns the first error that
// stopped it (nil on a requested stop).
func (a *App) Run(ctx context.Context) error {
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("app: Run called twice")
	}
	defer close(a.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	pipelineDone := make(chan struct{})

	g.Go(func() error {
		select {
		case <-a.quit:
			cancel()
		case <-gctx.Done():
		}
		return nil
	})
	g.Go(func() error {
		if err := a.srv.Serve(); err != nil {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		// HTTP stops last, so the final counts stay scrapeable until the checkpoint is written.
		<-gctx.Done()
		<-pipelineDone
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.ShutdownTimeout)
		defer scancel()
		if err := a.srv.Shutdown(sctx); err != nil {
			a.log.Warn("http server shutdown", zap.Error(err))
		}
		return nil
	})
	g.Go(func() error {
		defer close(pipelineDone)
		return a.runPipeline(gctx)
	})
	if a.opts.HUP != nil {
		g.Go(func() error {
			for {
				select {
				case <-gctx.Done():
					return nil
				case <-a.opts.HUP:
					_ = a.Reload(gctx) // Reload logs its outcome and sets the reload metrics
				}
			}
		})
	}
	a.log.Info("flowd started", zap.Int("sources", len(a.cfg.Load().Sources)), zap.Int("workers", a.workers))
	err := g.Wait()
	a.log.Info("flowd stopped")
	return err
}

// Shutdown stops Run and waits for it to return, or for ctx to end.
func (a *App) Shutdown(ctx context.Context) error {
	a.quitOnce.Do(func() { close(a.quit) })
	if !a.started.Load() {
		return a.srv.Shutdown(ctx)
	}
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runPipeline runs ingest, the parse workers and the checkpoint loop; on ctx's end it stops
// the pollers, drains the queue through the workers and writes the final checkpoint.
func (a *App) runPipeline(ctx context.Context) error {
	var workers sync.WaitGroup
	for range a.workers {
		workers.Go(func() { a.runWorker(a.queue) })
	}
	var loops sync.WaitGroup
	path := a.cfg.Load().Checkpoint.Path
	if path != "" {
		loops.Go(func() { a.checkpointLoop(ctx, path) })
	}
	err := a.superviseIngest(ctx)
	loops.Wait()
	// Every poller has returned: nothing sends any more, so the queue can be closed and drained.
	close(a.queue)
	workers.Wait()
	if path != "" {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if cerr := a.saveCheckpoint(cctx, path); cerr != nil {
			a.log.Error("final checkpoint failed; the next start re-reads from the previous one", zap.Error(cerr))
		} else {
			a.log.Info("final checkpoint written", zap.String("path", path))
		}
	}
	return err
}

// superviseIngest runs the current ingest manager until ctx ends, replacing it when a reload
// changed the sources.
func (a *App) superviseIngest(ctx context.Context) error {
	for {
		mgr := a.mgr.Load()
		mctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() { errc <- mgr.Run(mctx, a.queue) }()
		select {
		case err := <-errc:
			cancel()
			if ctx.Err() != nil {
				return nil
			}
			if err == nil {
				err = errors.New("stopped unexpectedly")
			}
			return fmt.Errorf("ingest: %w", err)
		case <-ctx.Done():
			cancel()
			<-errc
			return nil
		case req := <-a.restart:
			cancel()
			<-errc
			if err := a.switchManager(ctx, mgr, req); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("ingest restart: %w", err)
			}
		}
	}
}

// switchManager hands the positions and duplicate filters of the stopped manager's sources to
// the new one (sources kept by the reload resume exactly where they were, without re-counting),
// once every batch it produced is aggregated.
func (a *App) switchManager(ctx context.Context, old *ingest.Manager, req restartRequest) error {
	a.ckptMu.Lock()
	defer a.ckptMu.Unlock()
	cp, err := old.Checkpoint(ctx, nil)
	if err != nil {
		return err
	}
	req.mgr.Restore(cp)
	a.formats.Store(req.table)
	a.mgr.Store(req.mgr)
	a.log.Info("ingest restarted with the reloaded sources", zap.Int("sources", len(a.cfg.Load().Sources)))
	return nil
}
