package main

import (
	"fmt"
	"io"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flowd-dev/flowd/internal/config"
)

type checkConfigCommand struct {
	files       *[]string
	configFile  *string
	stdout, err io.Writer
}

func newCheckConfigCommand(c *kingpin.CmdClause, stdout, stderr io.Writer) *checkConfigCommand {
	return &checkConfigCommand{
		configFile: c.Flag("config.file", "Config file to check.").String(),
		files:      c.Arg("file", "More config files to check.").Strings(),
		stdout:     stdout, err: stderr,
	}
}

// exec validates every file, prints each effective config, and fails if any file is bad.
func (c *checkConfigCommand) exec() int {
	files := *c.files
	if *c.configFile != "" {
		files = append([]string{*c.configFile}, files...)
	}
	if len(files) == 0 {
		fmt.Fprintln(c.err, "flowd check-config: name a file: --config.file=flowd.yaml")
		return 2
	}
	code := 0
	for _, f := range files {
		cfg, err := config.LoadFile(f)
		if err != nil {
			fmt.Fprintf(c.err, "FAILED: %v\n", err)
			code = 1
			continue
		}
		out, err := cfg.File.YAML()
		if err != nil {
			fmt.Fprintf(c.err, "FAILED: %s: print effective config: %v\n", f, err)
			code = 1
			continue
		}
		for i, s := range cfg.Sources {
			for _, fm := range s.Formats {
				for _, w := range fm.Warnings() {
					fmt.Fprintf(c.err, "WARNING: %s: sources[%d] (%s): log format %q: %s\n", f, i, s.Name(), fm, w)
				}
			}
		}
		fmt.Fprintf(c.stdout, "# %s: OK (%d sources). Effective config, defaults included, secrets masked:\n%s\n", f, len(cfg.Sources), out)
	}
	return code
}
