package main

import (
	"io"
	"slices"
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flowd-dev/flowd/internal/analyze"
)

// upgradeAnalyzeArgs rewrites the old single-dash flags of `flowd analyze` (see
// analyze.UpgradeArgs) when analyze is the command of args; other command lines are returned
// as they are. The command is the first argument that is neither a flag nor the value of one.
func upgradeAnalyzeArgs(a *kingpin.Application, args []string, stderr io.Writer) []string {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return args
		case strings.HasPrefix(arg, "--"):
			if name := arg[2:]; !strings.Contains(name, "=") {
				if f := a.GetFlag(name); f != nil && !f.Model().IsBoolFlag() {
					i++ // its value
				}
			}
		case strings.HasPrefix(arg, "-") && arg != "-":
			// -h is the only short flag, and it takes no value
		case arg == "analyze":
			return append(slices.Clip(args[:i+1]), analyze.UpgradeArgs(args[i+1:], stderr)...)
		default:
			return args
		}
	}
	return args
}
