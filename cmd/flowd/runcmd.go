package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	shard      *string
	web        *webFlags
	stderr     io.Writer
}

func newRunCommand(c *kingpin.CmdClause, common *commonFlags, stderr io.Writer) *runCommand {
	return &runCommand{
		common:     common,
		configFile: c.Flag("config.file", "flowd configuration file.").Default("flowd.yaml").String(),
		shard:      c.Flag("shard", "This replica's share of the log groups, i/n (overrides ingest.shard).").String(),
		web:        addWebFlags(c, true),
		stderr:     stderr,
	}
}

func (c *runCommand) exec() int {
	log, err := c.common.logger()
	if err != nil {
		fmt.Fprintf(c.stderr, "flowd: %v\n", err)
		return 1
	}
	defer func() { _ = log.Sync() }()
	cfg, err := config.LoadFile(*c.configFile)
	if err != nil {
		log.Error("invalid configuration", zap.Error(err))
		return 1
	}
	opts := app.Options{
		ConfigFile:      *c.configFile,
		ListenAddresses: *c.web.toolkit.WebListenAddresses,
		WebConfigFile:   *c.web.toolkit.WebConfigFile,
		Web:             c.web.options(),
		Pprof:           *c.common.pprof,
		Build:           buildInfo(),
	}
	if *c.shard != "" {
		sh, err := config.ParseShard(*c.shard)
		if err != nil {
			log.Error("invalid --shard", zap.Error(err))
			return 1
		}
		opts.Shard = &sh
	}
	return serve(log, cfg, opts)
}

// serve runs an app until SIGINT or SIGTERM; SIGHUP reloads its config.
func serve(log *zap.Logger, cfg *config.Config, opts app.Options) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	opts.HUP = hup
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
