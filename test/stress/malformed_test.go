//go:build stress

package stress

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/emulator"
	"github.com/flowd-dev/flowd/internal/parse"
)

// badLine returns garbage of kind k: k cycles over binary bytes, a wrong field count and each
// parse error a 14-field line can have; every 50th is a huge line (200 KB of words, or a
// 14-field line with a 150,000-digit number), few enough that pages stay mostly records.
func badLine(k int, rng *rand.Rand, ts int64) string {
	good := func(fields ...string) string {
		f := []string{"2", "123456789012", "eni-0123456789abcdef0", "198.51.100.7", "10.0.0.5", "49152", "443", "6", "10", "5000",
			fmt.Sprint(ts), fmt.Sprint(ts + 30), "ACCEPT", "OK"}
		for i := 0; i+1 < len(fields); i += 2 {
			var idx int
			_, _ = fmt.Sscan(fields[i], &idx)
			f[idx] = fields[i+1]
		}
		return strings.Join(f, " ")
	}
	if k%50 == 49 {
		if k/50%2 == 0 {
			return strings.Repeat("garbage ", 25_000)
		}
		return good("9", strings.Repeat("9", 150_000))
	}
	switch k % 6 {
	case 0: // binary: control bytes and invalid UTF-8, no whitespace: one field
		b := make([]byte, 20+rng.IntN(200))
		for i := range b {
			for {
				c := byte(rng.IntN(256))
				if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f' {
					b[i] = c
					break
				}
			}
		}
		return string(b)
	case 1:
		return "2 123456789012 eni-0123456789abcdef0 this is not a flow log record"
	case 2:
		return good("3", "999.1.2.3") // bad address
	case 3:
		return good("8", "12x") // bad number
	case 4:
		return good("5", "70000") // port out of range
	default:
		return good("12", "MAYBE") // bad action
	}
}

// TestMalformedFlood: 10 % of the records are garbage (binary bytes, wrong field counts, bad
// addresses, numbers, ports and actions, 200 KB lines), mixed with good records. flowd must count
// every good record, count every bad one by what it is (flowd_records_total{status="unmatched"}
// for lines that fit no format, status="malformed" plus flowd_parse_errors_total{reason} for the
// others, as the parse package classifies the same line), and neither panic nor die.
func TestMalformedFlood(t *testing.T) {
	t.Parallel()
	r := newResult(t, "malformed-flood")
	c := newCloud(t, emulator.Config{Seed: 6}, "/stress/malformed", nil)
	p := ingestParams{PollInterval: "2s", MaxDelay: "10s", LateGrace: "5s", EarlyPasses: "[4s]", MaxDefer: "0s",
		StartPosition: "-1m", RequestsPerSecond: 5, MaxInFlight: 4, CheckpointInterval: "1s"}
	t0 := time.Now()
	f := startFlowd(t, c, p)
	format, err := parse.Compile(parse.DefaultFormat)
	if err != nil {
		r.fatal("%v", err)
	}
	matcher, err := parse.NewMatcher(format)
	if err != nil {
		r.fatal("%v", err)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	total := scale(50_000, 500_000)
	feedFor := scale(20*time.Second, 2*time.Minute)
	const chunk = 1000
	chunks := total / chunk
	interval := feedFor / time.Duration(chunks)
	var good, bad, okFlows, huge int
	status := map[string]int{}
	reasons := map[string]int{}
	var rec parse.Record
	next := time.Now()
	for k := range chunks {
		ts := time.Now().Add(-2 * time.Second).Unix()
		events := make([]emulator.InputEvent, chunk)
		for j := range events {
			var line string
			if rng.IntN(10) == 0 {
				line = badLine(bad, rng, ts)
				bad++
				if len(line) > 100_000 {
					huge++
				}
			} else {
				i := k*chunk + j
				line = fmt.Sprintf("2 123456789012 eni-%017x 198.51.100.%d 10.0.%d.%d %d %d 6 %d %d %d %d ACCEPT OK",
					i%300, i%250+1, i%4, i%250+1, 32768+i%20000, []int{443, 80, 22, 5432}[i%4], 1+i%50, 100+i%9000, ts, ts+30)
				good++
			}
			events[j] = emulator.InputEvent{Timestamp: ts * 1000, Message: line}
			// The expected classification: what the parse package makes of the line.
			f := matcher.Match(line)
			switch {
			case f == nil:
				status["unmatched"]++
			default:
				if err := f.Parse(line, &rec); err != nil {
					status["malformed"]++
					var pe *parse.Error
					if errors.As(err, &pe) {
						reasons[pe.Reason()]++
					}
				} else {
					status["ok"]++
					okFlows++
				}
			}
		}
		if err := c.sink.put(fmt.Sprintf("stress-%02d", k%20), events); err != nil {
			r.fatal("put: %v", err)
		}
		next = next.Add(interval)
		time.Sleep(time.Until(next))
	}
	r.check(status["ok"] == good, "the parse package accepts %d lines, %d were generated good: the generator is wrong", status["ok"], good)
	ctx := context.Background()
	s, err := f.waitSettled(ctx, c.group, c.sink.maxTS.Load(), 3*time.Minute)
	if err != nil {
		r.fatal("%v", err)
	}
	r.set("records", total)
	r.set("good", good)
	r.set("bad", bad)
	r.set("huge", huge)
	for _, st := range []string{"ok", "malformed", "unmatched", "nodata", "skipdata"} {
		g := s.value("flowd_records_total", "status", st)
		r.set(st, g)
		r.check(g == float64(status[st]), "flowd_records_total{status=%q}: flowd %.0f, want %d", st, g, status[st])
	}
	for reason, n := range reasons {
		g := s.value("flowd_parse_errors_total", "reason", reason)
		r.set("reason_"+reason, g)
		r.check(g == float64(n), "flowd_parse_errors_total{reason=%q}: flowd %.0f, want %d", reason, g, n)
	}
	r.check(s.value("flowd_parse_errors_total") == float64(status["malformed"]), "parse errors sum %.0f, malformed %d", s.value("flowd_parse_errors_total"), status["malformed"])
	flows := s.value("flowd_flows_total")
	r.set("flowd_flows", flows)
	r.check(flows == float64(okFlows), "flowd_flows_total %.0f, want %d (every good record)", flows, okFlows)
	r.set("panics", s.value("flowd_worker_panics_total"))
	r.check(s.value("flowd_worker_panics_total") == 0 && f.logCount("panic") == 0, "panic on bad input")
	r.check(f.alive(), "flowd died")
	_, peak, _ := f.memory()
	r.set("peak_rss_mib", float64(peak)/(1<<20))
	code, err := f.stop()
	r.set("exit_code", code)
	r.check(err == nil && code == 0, "SIGTERM: exit code %d, %v", code, err)
	r.set("duration_s", time.Since(t0).Seconds())
}
