package main

import (
	"context"
	"io"
	"log/slog"
	"slices"

	"go.uber.org/zap/zapcore"
)

// logfmtCore is a zap core that writes logfmt (key=value pairs, as Prometheus and its exporters
// log with --log.format=logfmt) through the standard library's slog.TextHandler, which quotes
// and escapes values as logfmt parsers expect. The keys are those of flowd's JSON log: ts,
// level, msg, then logger, caller and the fields.
type logfmtCore struct {
	zapcore.LevelEnabler
	h slog.Handler
}

// logfmtTime is the layout of ts, as zapcore.ISO8601TimeEncoder writes it in the JSON log.
const logfmtTime = "2006-01-02T15:04:05.000Z0700"

func newLogfmtCore(w io.Writer, level zapcore.LevelEnabler) zapcore.Core {
	h := slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.Level(-1 << 20), // zap's level decides (Check); the handler takes all
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("ts", a.Value.Time().Format(logfmtTime))
			case slog.LevelKey:
				if l, ok := a.Value.Any().(slog.Level); ok {
					return slog.String(slog.LevelKey, zapcore.Level(l/4).String())
				}
			}
			return a
		},
	})
	return &logfmtCore{LevelEnabler: level, h: h}
}

// slogLevel maps zap's levels (debug -1 ... fatal 5) onto slog's spacing of 4 (debug -4,
// info 0, warn 4, error 8); ReplaceAttr maps them back to zap's names.
func slogLevel(l zapcore.Level) slog.Level { return slog.Level(4 * int(l)) }

func (c *logfmtCore) With(fields []zapcore.Field) zapcore.Core {
	return &logfmtCore{LevelEnabler: c.LevelEnabler, h: c.h.WithAttrs(logfmtAttrs(fields))}
}

func (c *logfmtCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *logfmtCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	r := slog.NewRecord(e.Time, slogLevel(e.Level), e.Message, 0)
	if e.LoggerName != "" {
		r.AddAttrs(slog.String("logger", e.LoggerName))
	}
	if e.Caller.Defined {
		r.AddAttrs(slog.String("caller", e.Caller.TrimmedPath()))
	}
	r.AddAttrs(logfmtAttrs(fields)...)
	if e.Stack != "" {
		r.AddAttrs(slog.String("stacktrace", e.Stack))
	}
	return c.h.Handle(context.Background(), r)
}

func (c *logfmtCore) Sync() error { return nil }

// logfmtAttrs turns zap fields into slog attributes, in the order of the fields. A field may
// add several keys (zap.Error with a verbose error); those are sorted.
func logfmtAttrs(fields []zapcore.Field) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(fields))
	for _, f := range fields {
		enc := zapcore.NewMapObjectEncoder()
		f.AddTo(enc)
		keys := make([]string, 0, len(enc.Fields))
		for k := range enc.Fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			attrs = append(attrs, slog.Any(k, enc.Fields[k]))
		}
	}
	return attrs
}
