package simulate

import (
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// BenchmarkGenerate measures generation and rendering: each iteration advances 1,000
// interfaces by one minute (about 20,000 records) with immediate delivery.
func BenchmarkGenerate(b *testing.B) {
	for _, bc := range []struct{ name, spec string }{
		{"v2", parse.DefaultFormat},
		{"seed-v3", SeedFormat},
		{"full-v5", FullV5Format},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Start = testStart
			cfg.Interfaces = 1000
			cfg.DelayMin, cfg.DelayMax, cfg.StragglerFraction = 0, 0, 0
			f, err := parse.Compile(bc.spec)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Format = f
			s, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			at := testStart
			records := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				at = at.Add(time.Minute)
				for _, d := range s.Advance(at) {
					records += len(d.Events)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
