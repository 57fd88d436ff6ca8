package metrics

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/flowd-dev/flowd/internal/aggregate"
)

// BenchmarkScrapeFullCardinality gathers and encodes the domain metrics with the default caps
// filled (every port and interface key in use, full top-K in every window): the cost of one
// scrape, and its size; with the defaults (no dimension on) and with every dimension on.
func BenchmarkScrapeFullCardinality(b *testing.B) {
	b.Run("dimensions=none", func(b *testing.B) { benchScrape(b, nil) })
	b.Run("dimensions=all", func(b *testing.B) { benchScrape(b, aggregate.Dimensions()) })
}

func benchScrape(b *testing.B, dims []aggregate.Dimension) {
	cfg := aggregate.DefaultConfig()
	cfg.Dimensions = dims
	snap := fullSnapshot(b, cfg)
	in := goldenInputs(b)
	in.Snapshot = func() *aggregate.Snapshot { return snap }
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(in, BuildInfo{Version: "bench"}))
	var buf bytes.Buffer
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		buf.Reset()
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				b.Fatal(err)
			}
		}
	}
	// CPU time per scrape (the whole process: Gather's goroutines and the GC included): on a
	// shared machine wall time measures the neighbours, CPU time the work.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/1e6, "cpu-ms/scrape")
	b.ReportMetric(float64(buf.Len()), "bytes/scrape")
	b.ReportMetric(float64(bytes.Count(buf.Bytes(), []byte("\n"))-bytes.Count(buf.Bytes(), []byte("\n#"))), "series/scrape")
}

// processCPU is the CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
