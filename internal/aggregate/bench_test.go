package aggregate

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
)

// threadCPU is the CPU time of the calling OS thread. The benchmarks lock their goroutine to its
// thread and report records per CPU-second beside records per wall-second: on a shared, busy
// machine wall time measures the neighbours, CPU time measures the work.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures one benchmark's thread CPU time.
type cpuMeter struct{ start time.Duration }

func startCPU() cpuMeter {
	runtime.LockOSThread()
	return cpuMeter{start: threadCPU()}
}

// report adds records/s (wall) and records/cpu-s metrics for n records.
func (m cpuMeter) report(b *testing.B, n int) {
	cpu := threadCPU() - m.start
	runtime.UnlockOSThread()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	if cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "records/cpu-s")
	}
}

// benchLines returns n default-format lines of the realistic mix (300 interfaces, skewed ports,
// about 10% rejects, IPv6, NODATA and SKIPDATA), over the 15 minutes before t0, in the order a
// delivery brings them: time moves forward, each record up to 60s out of order.
func benchLines(b *testing.B, n int) (*parse.Format, []string) {
	b.Helper()
	f, err := parse.Compile(parse.DefaultFormat)
	if err != nil {
		b.Fatal(err)
	}
	g := newGenerator(11, 300, t0, 15*time.Minute)
	lines := make([]string, n)
	var r parse.Record
	var buf []byte
	span := int64(15 * time.Minute / time.Second)
	for i := range lines {
		g.next(&r)
		r.Start = t0.Unix() - span + span*int64(i)/int64(n) - g.r.Int64N(60)
		r.End = r.Start + 60
		buf = f.Append(buf[:0], &r)
		lines[i] = string(buf)
	}
	return f, lines
}

// BenchmarkParseAggregate is the daemon's per-record work: parse a line into a batch of records,
// add the batch under one lock.
func BenchmarkParseAggregate(b *testing.B) {
	f, lines := benchLines(b, 1<<16)
	a, _ := newTestAggregator(b, nil)
	benchParseAggregate(b, f, lines, a)
}

// benchParseAggregate parses lines (a power of two of them) into batches of 512 records and
// adds each batch to a, after a warm-up in which every key and bucket is seen once.
func benchParseAggregate(b *testing.B, f *parse.Format, lines []string, a *Aggregator) {
	batch := make([]parse.Record, 512)
	for i := range lines {
		_ = f.Parse(lines[i], &batch[0])
		a.Add(&batch[0])
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	n := 0
	for i := 0; b.Loop(); i++ {
		if f.Parse(lines[i&(len(lines)-1)], &batch[n]) == nil {
			n++
		}
		if n == len(batch) {
			a.AddBatch(batch)
			n = 0
		}
	}
	a.AddBatch(batch[:n])
	cpu.report(b, b.N)
}

// BenchmarkAggregate is AddBatch alone, over parsed records.
func BenchmarkAggregate(b *testing.B) {
	f, lines := benchLines(b, 1<<16)
	records := make([]parse.Record, len(lines))
	for i := range lines {
		if err := f.Parse(lines[i], &records[i]); err != nil {
			b.Fatal(err)
		}
	}
	a, _ := newTestAggregator(b, nil)
	a.AddBatch(records)
	b.ReportAllocs()
	b.ResetTimer()
	const batch = 512
	done := 0
	cpu := startCPU()
	for i := 0; b.Loop(); i++ {
		j := (i * batch) & (len(records) - 1)
		a.AddBatch(records[j : j+batch])
		done += batch
	}
	cpu.report(b, done)
}

// BenchmarkSnapshot is the cost of one snapshot (a scrape) with full windows.
func BenchmarkSnapshot(b *testing.B) {
	a, _ := newTestAggregator(b, nil)
	a.AddBatch(generated(12, 200_000))
	b.ReportAllocs()
	for b.Loop() {
		_ = a.Snapshot()
	}
}

// BenchmarkSnapshotLocked is the part of a snapshot that holds the lock (ingestion waits for
// it): copying the counters and the windows' buckets.
func BenchmarkSnapshotLocked(b *testing.B) {
	a, _ := newTestAggregator(b, nil)
	a.AddBatch(generated(12, 200_000))
	b.ReportAllocs()
	for b.Loop() {
		a.mu.Lock()
		f := a.freeze()
		a.mu.Unlock()
		_ = f
	}
}

// BenchmarkCardinalityAttack reports the heap an aggregator with the default caps holds after a
// million records with distinct sources, destinations, ports, protocols and interface ids.
func BenchmarkCardinalityAttack(b *testing.B) {
	batch := make([]parse.Record, 1000)
	ifaces := make([][]byte, len(batch))
	for j := range ifaces {
		ifaces[j] = make([]byte, 0, 32)
	}
	var heap uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a, _ := newTestAggregator(b, nil)
		for i := 0; i < 1_000_000; i += len(batch) {
			for j := range batch {
				attack(i+j, ifaces[j], &batch[j])
			}
			a.AddBatch(batch)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(a)
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
}

// BenchmarkTalkerSketch is one bucket's top-talkers sketch fed a long tail: a few heavy pairs
// among pairs that are nearly all new (the worst case of a heavy-hitter sketch), per record.
func BenchmarkTalkerSketch(b *testing.B) {
	for _, capacity := range []int{80, 160} {
		b.Run(fmt.Sprintf("capacity=%d", capacity), func(b *testing.B) {
			s := newSpaceSaving[struct{}](capacity, 1)
			keys := make([]pairKey, 1<<16)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range keys {
				x := r.Uint32()
				if i%8 == 0 {
					x &= 15 // a heavy pair
				}
				keys[i] = newPairKey(netip.AddrFrom4([4]byte{10, byte(x >> 16), byte(x >> 8), byte(x)}), netip.AddrFrom4([4]byte{192, 0, 2, byte(x >> 24)}))
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				s.add(keys[i&(len(keys)-1)], uint64(40+i&1023))
			}
		})
	}
}

// BenchmarkAddTGW measures counting transit gateway records (by attachment, port and lost
// packets) with AddBatch, from records parsed by the real parser.
func BenchmarkAddTGW(b *testing.B) {
	f := parse.MustCompile(parse.TransitGatewayDefaultFormat)
	const n = 4096
	lines := make([]string, n)
	r := rand.New(rand.NewPCG(7, 8))
	for i := range lines {
		lines[i] = fmt.Sprintf("6 TransitGatewayAttachment 123456789012 tgw-1 tgw-attach-%017d 123456789012 - vpc-1 - subnet-1 - eni-1 - use1-az1 - - 10.0.0.1 10.1.0.1 %d %d 6 %d %d %d %d OK IPv4 %d %d 0 0 2 us-east-1 %s - -",
			r.IntN(64), 32768+r.IntN(20000), []int{443, 80, 5432}[r.IntN(3)], 1+r.IntN(100), 100+r.IntN(100000),
			t0.Unix()-600, t0.Unix()-540, r.IntN(2), r.IntN(2), []string{"ingress", "egress"}[r.IntN(2)])
	}
	batch := make([]parse.Record, n)
	for i, l := range lines {
		if err := f.Parse(l, &batch[i]); err != nil {
			b.Fatal(err)
		}
	}
	a, _ := newTestAggregator(b, nil)
	a.AddBatch(batch) // every key seen: the loop measures the steady state
	b.ReportAllocs()
	b.ResetTimer()
	done := 0
	m := startCPU()
	for b.Loop() {
		a.AddBatch(batch)
		done += n
	}
	m.report(b, done)
}
