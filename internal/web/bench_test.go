package web

import (
	"io"
	"net/http"
	"sync"
	"testing"
)

// BenchmarkLiveDocument builds and encodes /api/v1/live over the fixture (20 simulated
// minutes of 12 interfaces): the cost of one refresh of the page, beside a scrape.
func BenchmarkLiveDocument(b *testing.B) {
	f := newFixture(b)
	h := newLiveHandler(Config{Inputs: f.inputs, now: nowOf(f)}, f.history, nil, 0)
	rec := discardWriter{h: http.Header{}}
	req, _ := http.NewRequest("GET", LivePath, nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(rec, req)
	}
}

// BenchmarkScrape and BenchmarkScrapeWhileLive time one /metrics request over HTTP, alone and
// while four clients fetch /api/v1/live in a loop: the page must not slow scraping.
func BenchmarkScrape(b *testing.B)          { benchScrape(b, 0) }
func BenchmarkScrapeWhileLive(b *testing.B) { benchScrape(b, 4) }

func benchScrape(b *testing.B, liveClients int) {
	f := newFixture(b)
	_, base := f.start(b, Config{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range liveClients {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if resp, err := http.Get(base + "api/v1/live"); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			}
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get(base + "metrics")
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

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d discardWriter) WriteHeader(int)             {}
