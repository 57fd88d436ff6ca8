//go:build stress

package stress

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// result collects one scenario's figures and failures and prints its one result line,
// "PASS|FAIL scenario=<name> key=value ...", when the test ends (also after t.Fatal).
type result struct {
	t        *testing.T
	name     string
	mu       sync.Mutex
	keys     []string
	vals     map[string]string
	failures []string
}

// resultsMu serialises appends to the -results file across parallel scenarios.
var resultsMu sync.Mutex

func newResult(t *testing.T, name string) *result {
	r := &result{t: t, name: name, vals: map[string]string{}}
	t.Cleanup(r.print)
	return r
}

// set records a figure; a key set twice keeps its first position and its last value.
func (r *result) set(key string, v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.vals[key]; !ok {
		r.keys = append(r.keys, key)
	}
	switch x := v.(type) {
	case float64:
		r.vals[key] = trimFloat(x)
	default:
		r.vals[key] = fmt.Sprint(v)
	}
}

// check fails the scenario with the message unless ok.
func (r *result) check(ok bool, format string, args ...any) bool {
	if !ok {
		r.fail(format, args...)
	}
	return ok
}

// fail records a failure (t.Errorf) without stopping the test.
func (r *result) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.failures = append(r.failures, msg)
	r.mu.Unlock()
	r.t.Helper()
	r.t.Errorf("%s: %s", r.name, msg)
}

// fatal records a failure and stops the test.
func (r *result) fatal(format string, args ...any) {
	r.t.Helper()
	r.fail(format, args...)
	r.t.FailNow()
}

func (r *result) print() {
	r.mu.Lock()
	defer r.mu.Unlock()
	status := "PASS"
	if len(r.failures) > 0 || r.t.Failed() {
		status = "FAIL"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s scenario=%s mode=%s", status, r.name, mode())
	for _, k := range r.keys {
		fmt.Fprintf(&b, " %s=%s", k, r.vals[k])
	}
	if len(r.failures) > 0 {
		fmt.Fprintf(&b, " failures=%d", len(r.failures))
	}
	line := b.String()
	r.t.Log(line)
	fmt.Println(line)
	if *results != "" {
		resultsMu.Lock()
		defer resultsMu.Unlock()
		f, err := os.OpenFile(*results, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			r.t.Errorf("results file: %v", err)
			return
		}
		defer f.Close()
		if _, err := fmt.Fprintln(f, line); err != nil {
			r.t.Errorf("results file: %v", err)
		}
	}
}

// trimFloat prints a float with at most 3 decimals and no trailing zeros.
func trimFloat(x float64) string {
	s := fmt.Sprintf("%.3f", x)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
