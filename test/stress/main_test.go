//go:build stress

package stress

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var (
	longRun = flag.Bool("long", false, "run the long version: bigger volumes, longer storms (about 20 minutes)")
	shortCI = flag.Bool("short-ci", false, "run the CI version (the default; stated explicitly by scripts/ci.d/80-stress.sh)")
	soakFor = flag.Duration("soak", 0, "run TestSoak for this long at a steady rate (e.g. 30m); 0 skips it")
	results = flag.String("results", "", "also append every result line to this file")
)

// flowdBin is the flowd binary built once by TestMain.
var flowdBin string

// TestMain builds the real flowd binary once, into a temporary directory, and runs the scenarios
// against it.
func TestMain(m *testing.M) {
	flag.Parse()
	if *longRun && *shortCI {
		fmt.Fprintln(os.Stderr, "stress: -long and -short-ci exclude each other")
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "flowd-stress-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "stress:", err)
		os.Exit(1)
	}
	flowdBin = filepath.Join(dir, "flowd")
	t0 := time.Now()
	build := exec.Command("go", "build", "-o", flowdBin, "github.com/flowd-dev/flowd/cmd/flowd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "stress: build flowd:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "stress: built flowd in %.1fs (%s version)\n", time.Since(t0).Seconds(), mode())
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// mode names the version being run, for the result lines.
func mode() string {
	if *longRun {
		return "long"
	}
	return "ci"
}

// scale picks the CI or the long value of a parameter.
func scale[T any](ci, long T) T {
	if *longRun {
		return long
	}
	return ci
}
