package web

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// BenchmarkLiveDocument builds and encodes /api/v1/live over the fixture (23 simulated
// minutes of 12 interfaces): the cost of one build, done at most once per second however many
// pages refresh.
func BenchmarkLiveDocument(b *testing.B) {
	f := newFixture(b)
	h := newLiveHandler(Config{Inputs: f.inputs, now: nowOf(f)}, f.history, nil, 0)
	b.ReportAllocs()
	for b.Loop() {
		if err := json.NewEncoder(io.Discard).Encode(h.b.build()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScrape times one /metrics request over HTTP alone; BenchmarkScrapeWhileLive while 8
// clients each fetch /api/v1/live every 100 ms (80 refreshes/s: 400 open pages refreshing every
// 5 s); BenchmarkScrapeWhileLiveFlood while 4 clients fetch it in a tight loop (a CPU flood,
// not a page). The page must not slow scraping.
func BenchmarkScrape(b *testing.B)               { benchScrape(b, 0, 0) }
func BenchmarkScrapeWhileLive(b *testing.B)      { benchScrape(b, 8, 100*time.Millisecond) }
func BenchmarkScrapeWhileLiveFlood(b *testing.B) { benchScrape(b, 4, 0) }

func benchScrape(b *testing.B, liveClients int, every time.Duration) {
	f := newFixture(b)
	_, base := f.start(b, Config{})
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range liveClients {
		wg.Go(func() {
			var tick <-chan time.Time
			if every > 0 {
				t := time.NewTicker(every)
				defer t.Stop()
				tick = t.C
			}
			for {
				if tick != nil {
					select {
					case <-stop:
						return
					case <-tick:
					}
				}
				select {
				case <-stop:
					return
				default:
				}
				if resp, err := client.Get(base + "api/v1/live"); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			}
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Get(base + "metrics")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
}
