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
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/flowd-dev/flowd/internal/checkpoint"
	"github.com/flowd-dev/flowd/internal/config"
	"github.com/flowd-dev/flowd/internal/ingest"
	"github.com/flowd-dev/flowd/internal/kinesis"
	"github.com/flowd-dev/flowd/internal/metrics"
	"github.com/flowd-dev/flowd/internal/web"
)

// Options are the settings that do not come from the config file.
type Options struct {
	// ConfigFile is re-read on reload; empty disables reloading (the demo builds its config).
	ConfigFile string
	// ListenAddresses of the HTTP server (the --web.listen-address flag, whose default is the
	// only one); port 0 picks a free port.
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
	// EC2Clients builds the EC2 clients of the inventories (default: the SDK's standard chain).
	EC2Clients EC2ClientFactory
	// KinesisClients builds the Kinesis and DynamoDB clients of the Kinesis sources (default:
	// the SDK's standard chain with the sources' endpoints).
	KinesisClients KinesisClientFactory
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
	// kinesisClients builds the Kinesis sources' clients; owner is this process's lease owner.
	kinesisClients KinesisClientFactory
	ownerOnce      sync.Once
	owner          string
	kinesisMu      sync.Mutex
	kinesisRetired map[string]kinesis.Stats // counters of Kinesis sources replaced by reloads
	srv            *web.Server
	workers        int
	inv            *inventories // nil without inventories

	cfg atomic.Pointer[config.Config]
	src atomic.Pointer[source]
	// formats routes each batch's source to its formats and its label set's aggregator.
	formats atomic.Pointer[formatTable]
	// labelNames are the source label names of every traffic family, fixed for the App's life.
	labelNames []string
	queue      chan ingest.Batch

	// published is the snapshot the collector serves when checkpoints are on: the one
	// captured with the last checkpoint written.
	published       atomic.Pointer[snapshots]
	publishedCounts atomic.Pointer[recordCounts]

	counts        counters
	malformedWarn *warnLimiter
	unmatchedWarn *warnLimiter

	// ckptMu serialises checkpoint writes and ingest restarts.
	ckptMu sync.Mutex
	// ckpt writes the checkpoint file and keeps its statistics; nil without checkpoints.
	ckpt *checkpoint.Writer

	reloadMu   sync.Mutex
	reloadOK   atomic.Bool
	reloadTime atomic.Int64 // Unix ms
	restart    chan restartRequest

	quit     chan struct{}
	quitOnce sync.Once
	done     chan struct{}
	started  atomic.Bool
}

// source is the running ingest.Source (boxed for atomic.Pointer).
type source struct{ ingest.Source }

// restartRequest replaces the source after a reload changed the sources.
type restartRequest struct {
	src   ingest.Source
	table *formatTable
}

// New builds every part, restores the checkpoint if one is configured and listens on the
// HTTP addresses; Run starts the work. Each setup error names its step.
func New(cfg *config.Config, logger *zap.Logger, opts Options) (*App, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	if len(opts.ListenAddresses) == 0 {
		return nil, errors.New("http server: no listen address")
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
	if opts.KinesisClients == nil {
		opts.KinesisClients = defaultKinesisClients(logger)
	}
	if opts.Shard != nil {
		cfg.SetShard(*opts.Shard)
	}
	a := &App{
		opts:           opts,
		log:            logger,
		clock:          opts.Clock,
		clients:        opts.Clients,
		kinesisClients: opts.KinesisClients,
		queue:          make(chan ingest.Batch, cfg.Ingest.QueueSize),
		restart:        make(chan restartRequest, 1),
		quit:           make(chan struct{}),
		done:           make(chan struct{}),
		workers:        cfg.Workers,
	}
	a.malformedWarn = newWarnLimiter(logger.Named("parse"), "malformed flow log records (counted in flowd_parse_errors_total)", 30*time.Second)
	a.unmatchedWarn = newWarnLimiter(logger.Named("parse"), "records that fit no configured log format (counted as flowd_records_total{status=\"unmatched\"})", 30*time.Second)
	a.cfg.Store(cfg)
	a.reloadOK.Store(true)
	a.reloadTime.Store(a.clock.Now().UnixMilli())

	a.labelNames = config.LabelNames(config.LabelSets(cfg.Sources))
	table, err := a.newRoutes(cfg.Sources, nil)
	if err != nil {
		return nil, err
	}
	warnFormats(logger.Named("parse"), cfg.Sources)
	a.formats.Store(table)
	if a.inv, err = a.newInventories(cfg); err != nil {
		return nil, err
	}
	src, err := a.buildSource(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	a.src.Store(&source{src})
	if cfg.Checkpoint.Path != "" {
		a.ckpt = checkpoint.NewWriter(cfg.Checkpoint.Path, a.clock.Now)
		removed, err := checkpoint.RemoveStale(cfg.Checkpoint.Path)
		if len(removed) > 0 {
			a.log.Info("removed temporary files of interrupted checkpoint writes", zap.Strings("files", removed))
		}
		if err != nil {
			a.log.Warn("could not remove temporary files of interrupted checkpoint writes", zap.Error(err))
		}
		a.restore(src, cfg.Checkpoint.Path)
	}

	inputs := a.metricInputs()
	collector := metrics.NewCollector(inputs, opts.Build)
	reg, err := metrics.NewRegistry(collector)
	if err != nil {
		return nil, fmt.Errorf("metrics registry: %w", err)
	}
	if err := reg.Register(metrics.NewKinesisCollector(a.kinesisViews)); err != nil {
		return nil, fmt.Errorf("metrics registry: %w", err)
	}
	if a.inv != nil {
		ic := metrics.NewInventoryCollector(a.inv.views, a.clock.Now).WithAddresses(topAddresses(a.metricInputs().Snapshot))
		if err := reg.Register(ic); err != nil {
			return nil, fmt.Errorf("metrics registry: %w", err)
		}
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

func (a *App) currentSource() ingest.Source { return a.src.Load().Source }

// newSource builds the source of cfg's sources, through the ingest.Source boundary only: the
// CloudWatch Logs poller for the polled groups, and one leased reader per Kinesis stream.
func (a *App) newSource(ctx context.Context, cfg *config.Config) (ingest.Source, error) {
	var srcs []ingest.Source
	polled := len(cfg.IngestOptions.Groups) > 0 || len(cfg.IngestOptions.Discovery) > 0
	if polled || !hasKinesis(cfg.Sources) {
		m, err := ingest.New(cfg.IngestOptions, a.clients, a.clock, a.log.Named("ingest"))
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, m)
	}
	for _, s := range cfg.Sources {
		if s.Kinesis == nil {
			continue
		}
		kctx, cancel := context.WithTimeout(ctx, cfg.Ingest.RequestTimeout)
		k, err := a.newKinesisSource(kctx, cfg, s)
		cancel()
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, k)
	}
	return ingest.Combine(srcs...), nil
}

func hasKinesis(sources []config.Source) bool {
	for _, s := range sources {
		if s.Kinesis != nil {
			return true
		}
	}
	return false
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
	if a.inv != nil {
		for _, r := range a.inv.list {
			g.Go(func() error { return r.inv.Run(gctx) })
		}
		if a.inv.hasDiscovery() {
			g.Go(func() error { a.runDiscovery(gctx); return nil })
		}
	}
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
	if a.ckpt != nil {
		loops.Go(func() { a.checkpointLoop(ctx) })
	}
	err := a.superviseIngest(ctx)
	loops.Wait()
	// Every poller has returned: nothing sends any more, so the queue can be closed and drained.
	close(a.queue)
	workers.Wait()
	if a.ckpt != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if cerr := a.saveCheckpoint(cctx); cerr != nil {
			closeStreams(a.currentSource())
			a.log.Error("final checkpoint failed; the next start re-reads from the previous one", zap.Error(cerr))
		} else {
			a.log.Info("final checkpoint written", zap.String("path", a.ckpt.Path()))
		}
	}
	return err
}

// superviseIngest runs the current source until ctx ends, replacing it when a reload changed
// the sources.
func (a *App) superviseIngest(ctx context.Context) error {
	for {
		src := a.currentSource()
		mctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() { errc <- src.Run(mctx, a.queue) }()
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
			if err := a.switchSource(ctx, src, req); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("ingest restart: %w", err)
			}
		}
	}
}

// switchSource hands the positions and duplicate filters of the stopped source to the new one
// (sources kept by the reload resume exactly where they were, without re-counting), once every
// batch it produced is acknowledged.
//
// With a checkpoint file the hand-over is a checkpoint written at that cut: a Kinesis source
// moves its lease checkpoints only past counts a written checkpoint holds, also when it stops
// for a reload.
func (a *App) switchSource(ctx context.Context, old ingest.Source, req restartRequest) error {
	a.ckptMu.Lock()
	defer a.ckptMu.Unlock()
	var err error
	if a.ckpt != nil {
		err = a.writeCheckpoint(ctx, old, req.src.Restore)
	} else {
		err = old.Checkpoint(ctx, func(states []ingest.SourceState) error {
			req.src.Restore(states)
			return nil
		})
	}
	if err != nil {
		closeStreams(old)
		return err
	}
	a.formats.Store(req.table)
	// One step for a scrape: the old source, or the new one with the old one's counters.
	a.kinesisMu.Lock()
	a.src.Store(&source{req.src})
	a.retireStreams(old)
	a.kinesisMu.Unlock()
	a.log.Info("ingest restarted with the reloaded sources", zap.Int("sources", len(a.cfg.Load().Sources)))
	return nil
}
