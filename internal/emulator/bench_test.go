package emulator

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

const benchMessage = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"

// benchServer holds n flow-log-sized events spread over streams, all visible.
func benchServer(b testing.TB, streams, perStream int) *env {
	b.Helper()
	e := newEnv(b, Config{})
	base := e.clock.Now().Add(-time.Hour).UnixMilli()
	for s := 0; s < streams; s++ {
		evs := make([]InputEvent, perStream)
		for i := range evs {
			evs[i] = InputEvent{Timestamp: base + int64(i)*3 + int64(s%3), Message: benchMessage}
		}
		e.mustPut(b, testGroup, fmt.Sprintf("eni-%04d-all", s), evs)
	}
	return e
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkFilterLogEventsServe measures the server alone: full 10,000-event pages across 100
// streams, from the request body to the encoded answer.
func BenchmarkFilterLogEventsServe(b *testing.B) {
	e := benchServer(b, 100, 2000)
	body := `{"logGroupName":"` + testGroup + `","limit":10000}`
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "Logs_20140328.FilterLogEvents")
		req.Header.Set("Authorization", "x")
		e.srv.ServeHTTP(w, req)
	}
	b.StopTimer()
	// Flow-log-sized records: the 1 MB cut (message + 26 bytes each) ends a page before 10,000.
	st := e.srv.Stats()
	if want := int64(b.N) * int64((1<<20)/(len(benchMessage)+eventOverhead)); st.EventsReturned != want {
		b.Fatalf("returned %d events in %d pages, want %d", st.EventsReturned, b.N, want)
	}
	b.ReportMetric(float64(st.EventsReturned)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkFilterLogEventsSDK reads 200,000 events through the real SDK client over HTTP, as the
// ingest tests do.
func BenchmarkFilterLogEventsSDK(b *testing.B) {
	e := benchServer(b, 100, 2000)
	b.ReportAllocs()
	b.ResetTimer()
	events := 0
	for i := 0; i < b.N; i++ {
		p := cloudwatchlogs.NewFilterLogEventsPaginator(e.client, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(testGroup)})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				b.Fatalf("iteration %d after %d events (%v): %v", i, events, b.Elapsed(), err)
			}
			events += len(page.Events)
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// A page's cost must not grow with its size: the answer buffer is pooled and events are encoded
// in place (a regression here once cost 11 MB per page).
func TestFilterPageAllocations(t *testing.T) {
	e := benchServer(t, 10, 2000)
	body := `{"logGroupName":"` + testGroup + `","limit":10000}`
	w := &discardWriter{h: http.Header{}}
	serve := func() {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "Logs_20140328.FilterLogEvents")
		req.Header.Set("Authorization", "x")
		e.srv.ServeHTTP(w, req)
	}
	serve() // warm the buffer pool
	if allocs := testing.AllocsPerRun(5, serve); allocs > 200 {
		t.Errorf("%v allocations per 7,000-event page, want a few dozen", allocs)
	}
	// Without the pool each page regrows a 2 MB buffer from 64 KB: over 4 MB allocated.
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	const pages = 10
	for i := 0; i < pages; i++ {
		serve()
	}
	runtime.ReadMemStats(&m1)
	if per := (m1.TotalAlloc - m0.TotalAlloc) / pages; per > 2<<20 {
		t.Errorf("%d bytes allocated per page, want well under the page's 2 MB", per)
	}
}
