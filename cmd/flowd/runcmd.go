package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"go.uber.org/zap"

	"github.com/flowd-dev/flowd/internal/app"
	"github.com/flowd-dev/flowd/internal/config"
)

// defaultListen is flowd's port.
const defaultListen = ":9820"

type runCommand struct {
	common     *commonFlags
	configFile *string
	fileSet    bool // --config.file was given (it has a default)
	configEnv  *string
	shard      *string
	web        *webFlags
	stderr     io.Writer
}

func newRunCommand(c *kingpin.CmdClause, common *commonFlags, stderr io.Writer) *runCommand {
	r := &runCommand{common: common, stderr: stderr}
	r.configFile = c.Flag("config.file", "flowd configuration file.").Default("flowd.yaml").IsSetByUser(&r.fileSet).String()
	r.configEnv = addConfigEnvFlag(c)
	r.shard = c.Flag("shard", "This replica's share of the log groups, i/n (overrides ingest.shard).").String()
	r.web = addWebFlags(c, true)
	return r
}

func (c *runCommand) exec() int {
	src := configSource{file: *c.configFile, env: *c.configEnv}
	if c.fileSet && src.env != "" {
		fmt.Fprintf(c.stderr, "flowd run: %v\n", errConfigSources)
		return 2
	}
	log, err := c.common.logger()
	if err != nil {
		fmt.Fprintf(c.stderr, "flowd: %v\n", err)
		return 1
	}
	defer func() { _ = log.Sync() }()
	logStarting(log)
	cfg, err := src.load()
	if err != nil {
		log.Error("invalid configuration", zap.String("source", src.String()), zap.String("error", redactURLs(err.Error())))
		return 1
	}
	opts := app.Options{
		ListenAddresses: *c.web.toolkit.WebListenAddresses,
		WebConfigFile:   *c.web.toolkit.WebConfigFile,
		Web:             c.web.options(),
		Pprof:           *c.common.pprof,
		Build:           buildInfo(),
	}
	if src.env == "" {
		opts.ConfigFile = src.file // app re-reads it on reload
	}
	if *c.shard != "" {
		sh, err := config.ParseShard(*c.shard)
		if err != nil {
			log.Error("invalid --shard", zap.Error(err))
			return 1
		}
		opts.Shard = &sh
	}
	return serve(log, cfg, opts, src)
}

// serve runs an app until SIGINT or SIGTERM; SIGHUP reloads its config from src.
func serve(log *zap.Logger, cfg *config.Config, opts app.Options, src configSource) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if src.env == "" {
		opts.HUP = hup
	} else {
		var wg sync.WaitGroup
		wctx, cancel := context.WithCancel(ctx)
		wg.Go(func() { watchEnvReloads(wctx, log, src, hup) })
		defer wg.Wait()
		defer cancel()
	}
	a, err := app.New(cfg, log, opts)
	if err != nil {
		log.Error("cannot start", zap.Error(err))
		return 1
	}
	if err := a.Run(ctx); err != nil {
		log.Error("stopped on error", zap.Error(err))
		return 1
	}
	return 0
}
