package main

import (
	"fmt"
	"io"

	"github.com/alecthomas/kingpin/v2"
)

type versionCommand struct{ out io.Writer }

func newVersionCommand(_ *kingpin.CmdClause, out io.Writer) *versionCommand {
	return &versionCommand{out: out}
}

func (c *versionCommand) exec() int {
	b := buildInfo()
	fmt.Fprintf(c.out, "flowd %s (revision %s, %s)\n", b.Version, b.Revision, b.GoVersion)
	return 0
}
