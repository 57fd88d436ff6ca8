package analyze

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// benchInput returns n default-format lines like scripts/bench-analyze.sh makes: 300
// interfaces, skewed service ports, ~10% rejects, 1% NODATA, 10% IPv6, an hour of time.
func benchInput(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	ports := []int{443, 443, 443, 443, 80, 80, 22, 5432, 3306, 6379, 53, 8080, 9092, 123, 25, 3389}
	var b bytes.Buffer
	cube := func() float64 { x := r.Float64(); return x * x * x }
	for i := range n {
		eni := fmt.Sprintf("eni-%017x", int(cube()*300)+4096)
		t := 1700000000 + i*3600/n - r.IntN(60)
		if r.IntN(100) == 0 {
			fmt.Fprintf(&b, "2 123456789012 %s - - - - - - - %d %d - NODATA\n", eni, t, t+60)
			continue
		}
		x := r.Float64()
		svc := ports[int(x*x*16)]
		proto := 6
		if svc == 53 || svc == 123 {
			proto = 17
		}
		c := int(cube() * 5000)
		cli, srv := fmt.Sprintf("198.51.%d.%d", c/250, c%250+1), fmt.Sprintf("10.0.%d.%d", r.IntN(4), r.IntN(250)+1)
		if r.IntN(10) == 0 {
			cli, srv = fmt.Sprintf("2001:db8::%x", c), fmt.Sprintf("2600:1f18::%x", r.IntN(64))
		}
		eph, pk := 32768+r.IntN(28000), 1+r.IntN(100)
		by := pk * (40 + r.IntN(1400))
		act := "ACCEPT"
		if r.IntN(10) == 0 {
			act = "REJECT"
		}
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, "2 123456789012 %s %s %s %d %d %d %d %d %d %d %s OK\n", eni, cli, srv, eph, svc, proto, pk, by, t, t+60, act)
		} else {
			fmt.Fprintf(&b, "2 123456789012 %s %s %s %d %d %d %d %d %d %d %s OK\n", eni, srv, cli, svc, eph, proto, pk, by, t, t+60, act)
		}
	}
	return b.Bytes()
}

// processCPU is the CPU time of the whole process: Run spreads its work over goroutines, and on
// a shared machine CPU time measures the work where wall time measures the neighbours.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRun is a whole analysis of 200,000 lines from memory (reading, parsing, aggregating,
// JSON report), per line; records/cpu-s counts the CPU time of the process.
func BenchmarkRun(b *testing.B) {
	const n = 200_000
	input := benchInput(n)
	opts := DefaultOptions()
	opts.Output = OutputJSON
	b.ReportAllocs()
	b.SetBytes(int64(len(input)))
	cpu0 := processCPU()
	for b.Loop() {
		if err := Run(context.Background(), opts, bytes.NewReader(input), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	cpu := processCPU() - cpu0
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "records/cpu-s")
}
