// Command gen writes flowd's Prometheus rule file from its parameters.
//
// Prometheus rule files have no templating, so the thresholds, windows and selectors of the shipped
// rules live in one YAML file (deploy/prometheus/params.yml) and this program renders the rules from
// it. From the repository root:
//
//	go run ./deploy/prometheus/gen -params deploy/prometheus/params.yml -out deploy/prometheus/flowd-rules.yml
//
// A test checks that the committed rule file is what the committed parameters render.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	paramsPath := fs.String("params", "deploy/prometheus/params.yml", "parameter file to read")
	out := fs.String("out", "-", "rule file to write (- for standard output)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := generate(*paramsPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		return 1
	}
	return 0
}

func generate(paramsPath, out string) error {
	f, err := os.Open(paramsPath)
	if err != nil {
		return err
	}
	defer f.Close()
	p, err := LoadParams(f)
	if err != nil {
		return fmt.Errorf("%s: %w", paramsPath, err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, p); err != nil {
		return err
	}
	if out == "-" {
		_, err = os.Stdout.Write(buf.Bytes())
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
