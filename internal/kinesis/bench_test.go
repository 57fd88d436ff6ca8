package kinesis_test

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/aggregate"
	"github.com/flowd-dev/flowd/internal/parse"
	"github.com/flowd-dev/flowd/internal/simulate"
	"github.com/flowd-dev/flowd/internal/subscription"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHotPath is issue 18's hot path on one core: subscription records of simulated
// flow logs (one interface's delivery per record, as CloudWatch Logs batches a log stream) are
// decompressed, decoded, parsed and aggregated. It reports events per CPU-second of the
// benchmark's thread, since wall time on the shared machine measures the neighbours.
func BenchmarkHotPath(b *testing.B) {
	def := simulate.DefaultConfig().FlowsPerInterval
	for _, mult := range []int{1, 20} {
		b.Run(fmt.Sprintf("flows_per_interval=%d", def*mult), func(b *testing.B) { hotPath(b, def*mult) })
	}
}

func hotPath(b *testing.B, flows int) {
	cfg := simulate.DefaultConfig()
	cfg.FlowsPerInterval = flows
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cfg.Start = start
	sim, err := simulate.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var records [][]byte
	events := 0
	for _, d := range sim.Advance(start.Add(30 * time.Minute)) {
		m := subscription.Message{MessageType: subscription.TypeData, Owner: "123456789012", LogGroup: "/vpc/flow", LogStream: d.Stream, SubscriptionFilters: []string{"flowd"}}
		for i, e := range d.Events {
			m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: fmt.Sprintf("%040d%016d", len(records), i), Timestamp: e.Timestamp, Message: e.Message})
		}
		if len(m.LogEvents) == 0 {
			continue
		}
		data, err := subscription.Encode(&m)
		if err != nil {
			b.Fatal(err)
		}
		records = append(records, data)
		events += len(m.LogEvents)
	}
	if len(records) == 0 {
		b.Fatal("the simulator delivered nothing")
	}
	f := parse.MustCompile(parse.DefaultFormat)
	agg, err := aggregate.New(aggregate.DefaultConfig(), fixedClock{start.Add(30 * time.Minute)})
	if err != nil {
		b.Fatal(err)
	}
	var dec subscription.Decoder
	var msg subscription.Message
	batch := make([]parse.Record, 0, 1024)
	run := func(data []byte) int {
		if err := dec.Decode(data, &msg); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
		for i := range msg.LogEvents {
			batch = append(batch, parse.Record{})
			if f.Parse(msg.LogEvents[i].Message, &batch[len(batch)-1]) != nil {
				batch = batch[:len(batch)-1]
			}
		}
		agg.AddBatch(batch)
		return len(msg.LogEvents)
	}
	for _, r := range records { // warm up: every key seen once, buffers grown
		run(r)
	}
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	n := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		n += run(records[i%len(records)])
	}
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(events)/float64(len(records)), "events/record")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "events/cpu-s")
	}
}
