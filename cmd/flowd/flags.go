package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/flowd-dev/flowd/internal/metrics"
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
