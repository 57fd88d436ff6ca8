package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/alecthomas/kingpin/v2"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/flowd-dev/flowd/internal/metrics"
	"github.com/flowd-dev/flowd/internal/web"
)

// commonFlags are the flags of every long-running subcommand.
type commonFlags struct {
	logLevel, logFormat *string
	pprof               *bool
}

func addCommonFlags(a *kingpin.Application) *commonFlags {
	return &commonFlags{
		logLevel:  a.Flag("log.level", "Only log messages with this severity or above: debug, info, warn, error.").Default("info").Enum("debug", "info", "warn", "error"),
		logFormat: a.Flag("log.format", "Log format: json (default, for log collectors), logfmt (as Prometheus logs) or console (for people).").Default("json").Enum("json", "logfmt", "console"),
		pprof:     a.Flag("web.enable-pprof", "Serve Go profiles on /debug/pprof/.").Bool(),
	}
}

// webFlags are the HTTP server's flags: exporter-toolkit's (--web.listen-address,
// --web.config.file, --web.systemd-socket) and flowd's own.
type webFlags struct {
	toolkit                     *toolkitweb.FlagConfig
	externalURL, routePrefix    *string
	maxConnections, maxRequests *int
	enableLifecycle             *bool
}

// addWebFlags adds the web flags to c; lifecycle adds --web.enable-lifecycle (for commands
// that can reload a config file).
func addWebFlags(c *kingpin.CmdClause, lifecycle bool) *webFlags {
	f := &webFlags{
		toolkit:         kingpinflag.AddFlags(c, defaultListen),
		externalURL:     c.Flag("web.external-url", "The URL under which flowd is reached, e.g. through a reverse proxy (https://example.com/flowd/). Its path is the default --web.route-prefix.").PlaceHolder("URL").String(),
		routePrefix:     c.Flag("web.route-prefix", "Path prefix of every endpoint (/metrics becomes <prefix>/metrics). Defaults to the path of --web.external-url, else /.").PlaceHolder("PATH").String(),
		maxConnections:  c.Flag("web.max-connections", "Most open HTTP connections; at the limit a new one closes the oldest idle (or still silent) connection. 0 or less: no limit.").Default(strconv.Itoa(web.DefaultMaxConnections)).Int(),
		maxRequests:     c.Flag("web.max-requests", "Most concurrent /metrics (and /api/v1/live) requests; more get 503 at once. 0 or less: no limit.").Default(strconv.Itoa(web.DefaultMaxRequests)).Int(),
		enableLifecycle: func() *bool { b := false; return &b }(),
	}
	if lifecycle {
		f.enableLifecycle = c.Flag("web.enable-lifecycle", "Enable reloading the configuration with POST /-/reload (SIGHUP always works).").Bool()
	}
	return f
}

// options are the server options the flags set.
func (f *webFlags) options() web.Options {
	o := web.Options{
		SystemdSocket:   *f.toolkit.WebSystemdSocket,
		ExternalURL:     *f.externalURL,
		RoutePrefix:     *f.routePrefix,
		EnableLifecycle: *f.enableLifecycle,
		MaxConnections:  *f.maxConnections,
		MaxRequests:     *f.maxRequests,
	}
	// 0 means "no limit" on the command line; web.Options reads 0 as "the default".
	if o.MaxConnections <= 0 {
		o.MaxConnections = -1
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = -1
	}
	return o
}

// logger builds the one zap logger of the process.
func (f *commonFlags) logger() (*zap.Logger, error) {
	var level zapcore.Level
	if err := level.Set(*f.logLevel); err != nil {
		return nil, err
	}
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(level)
	cfg.Encoding = *f.logFormat
	cfg.EncoderConfig.TimeKey = "ts"
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	if *f.logFormat == "console" {
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
	}
	cfg.DisableStacktrace = true
	var opts []zap.Option
	if *f.logFormat == "logfmt" { // a core of its own, which zap's config cannot name
		cfg.Encoding = "json"
		opts = append(opts, zap.WrapCore(func(zapcore.Core) zapcore.Core {
			return zapcore.NewSamplerWithOptions(newLogfmtCore(os.Stderr, cfg.Level), time.Second, cfg.Sampling.Initial, cfg.Sampling.Thereafter)
		}))
	}
	l, err := cfg.Build(opts...)
	if err != nil {
		return nil, fmt.Errorf("build logger: %w", err)
	}
	return l, nil
}

// buildInfo is the version this binary was built as; the revision falls back to the VCS
// stamp go build records.
func buildInfo() metrics.BuildInfo {
	b := metrics.BuildInfo{Version: version, Revision: revision, GoVersion: runtime.Version()}
	if b.Revision == "" {
		if info, ok := debug.ReadBuildInfo(); ok {
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" {
					b.Revision = s.Value
				}
			}
		}
	}
	if b.Revision == "" {
		b.Revision = "unknown"
	}
	return b
}
