package main

import (
	"fmt"
	"io"

	"github.com/alecthomas/kingpin/v2"
	"go.uber.org/zap"
)

type versionCommand struct{ out io.Writer }

func newVersionCommand(_ *kingpin.CmdClause, out io.Writer) *versionCommand {
	return &versionCommand{out: out}
}

func (c *versionCommand) exec() int {
	fmt.Fprintln(c.out, versionLine())
	return 0
}

// versionLine is what `flowd version` and `flowd --version` print.
func versionLine() string {
	b := buildInfo()
	return fmt.Sprintf("flowd %s (revision %s, %s)", b.Version, b.Revision, b.GoVersion)
}

// logStarting writes the first log line of run and demo: which build is starting.
func logStarting(log *zap.Logger) {
	b := buildInfo()
	log.WithOptions(zap.AddCallerSkip(1)).Info("starting flowd", zap.String("version", b.Version), zap.String("revision", b.Revision), zap.String("go_version", b.GoVersion))
}
