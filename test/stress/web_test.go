//go:build stress

package stress

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/flowd-dev/flowd/internal/emulator"
)

// Defaults of the web limits (internal/web), which the scenarios below run with.
const (
	maxConnections = 512
	maxRequests    = 40
)

// startLoadedFlowd starts flowd over a backlog of n records with distinct ports, interfaces
// and sources, enough to fill the default caps: every scrape is then as big as the caps allow.
func startLoadedFlowd(t *testing.T, r *result, group string, n int, web *webSetup) *flowd {
	t.Helper()
	c := newCloud(t, emulator.Config{Seed: 9}, group, nil)
	const chunk = 2000
	ts := time.Now().Add(-30 * time.Second).UnixMilli()
	for k := range n / chunk {
		events := make([]emulator.InputEvent, chunk)
		for j := range events {
			i := k*chunk + j
			action := "ACCEPT"
			if i%5 == 0 {
				action = "REJECT"
			}
			events[j] = emulator.InputEvent{Timestamp: ts, Message: fmt.Sprintf(
				"2 123456789012 eni-%017x 100.%d.%d.%d 10.1.%d.%d %d %d 6 3 180 %d %d %s OK",
				i, 64+i>>16, i>>8&255, i&255, i>>8&255, i&255, 1024+i%64000, 1024+(i*7919)%64000, ts/1000, ts/1000+30, action)}
		}
		if err := c.sink.put(fmt.Sprintf("stress-%02d", k%20), events); err != nil {
			r.fatal("put: %v", err)
		}
	}
	p := ingestParams{PollInterval: "2s", MaxDelay: "10s", LateGrace: "5s", EarlyPasses: "[]", MaxDefer: "0s",
		StartPosition: "-2m", RequestsPerSecond: 50, MaxInFlight: 4, CheckpointInterval: "1s"}
	f := startFlowdWeb(t, c, p, web)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := f.waitSettled(ctx, c.group, c.sink.maxTS.Load(), 3*time.Minute)
	if err != nil {
		r.fatal("%v", err)
	}
	r.set("series", s.series)
	r.set("exposition_bytes", s.size)
	return f
}

// openFDs counts the process's open file descriptors.
func (f *flowd) openFDs() int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", f.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

// tlsAuthSetup writes a self-signed certificate for 127.0.0.1, a web config with TLS and
// basic auth, and returns the flags and a transport that trusts the certificate.
func tlsAuthSetup(t *testing.T) *webSetup {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "flowd stress"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("stress-pass"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	webCfg := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webCfg, []byte(fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prom: %s\n", certPath, keyPath, hash)), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &webSetup{
		args:      []string{"--web.config.file=" + webCfg},
		transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		user:      "prom", pass: "stress-pass",
	}
}

// percentile is the p-th percentile (0-100) of ds, 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// TestIdleConnections: an idle-connection attack. Thousands of clients (5,000 in CI, 19,000
// in the long version: the test process's descriptor limit is 20,000) each send one request
// and keep the connection open, idle, as the 21,000 of the attack in issue 20 did. flowd must
// keep its open descriptors near --web.max-connections (512), keep answering scrapes, and
// keep writing checkpoints (no "too many open files").
func TestIdleConnections(t *testing.T) {
	r := newResult(t, "idle-connections")
	t0 := time.Now()
	f := startLoadedFlowd(t, r, "/stress/idle", 20_000, nil)
	before, err := f.scrape()
	if err != nil {
		r.fatal("%v", err)
	}
	fdsBefore := f.openFDs()
	attackers := scale(5_000, 19_000)

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	var maxFDs int
	var scrapeTimes []time.Duration
	scrapeErrs := 0
	refused := 0
	for i := range attackers {
		c, err := net.Dial("tcp", f.addr)
		if err != nil {
			refused++
			continue
		}
		conns = append(conns, c)
		// One keep-alive request, then silence; every tenth client never sends anything.
		if i%10 != 0 {
			if _, err := io.WriteString(c, "GET /-/healthy HTTP/1.1\r\nHost: flowd\r\n\r\n"); err == nil {
				if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			}
		}
		if i%250 == 0 {
			maxFDs = max(maxFDs, f.openFDs())
			s, err := f.scrape()
			if err != nil {
				scrapeErrs++
			} else {
				scrapeTimes = append(scrapeTimes, s.duration)
			}
		}
	}
	// While the attackers hold their connections: scrapes, and checkpoints go on.
	for range 20 {
		s, err := f.scrape()
		if err != nil {
			scrapeErrs++
		} else {
			scrapeTimes = append(scrapeTimes, s.duration)
		}
		maxFDs = max(maxFDs, f.openFDs())
	}
	after, err := f.scrape()
	if err != nil {
		r.fatal("scrape after the attack: %v", err)
	}
	_, peak, _ := f.memory()
	r.set("attackers", attackers)
	r.set("dial_errors", refused)
	r.set("fds_before", fdsBefore)
	r.set("max_fds", maxFDs)
	r.set("scrapes", len(scrapeTimes))
	r.set("scrape_errors", scrapeErrs)
	r.set("p50_scrape_ms", ms(percentile(scrapeTimes, 50)))
	r.set("p95_scrape_ms", ms(percentile(scrapeTimes, 95)))
	r.set("max_scrape_ms", ms(percentile(scrapeTimes, 100)))
	ckFail := after.value("flowd_checkpoint_failures_total") - before.value("flowd_checkpoint_failures_total")
	ckAdvanced := after.value("flowd_checkpoint_last_success_timestamp_seconds") > before.value("flowd_checkpoint_last_success_timestamp_seconds")
	r.set("checkpoint_failures", ckFail)
	r.set("peak_rss_mib", float64(peak)/(1<<20))
	r.check(scrapeErrs == 0, "%d scrapes failed during the attack", scrapeErrs)
	r.check(maxFDs <= fdsBefore+maxConnections+64, "%d open descriptors, want at most %d", maxFDs, fdsBefore+maxConnections+64)
	r.check(ckFail == 0 && ckAdvanced, "checkpoints: %v failures, advanced %v", ckFail, ckAdvanced)
	r.check(f.logCount("too many open files") == 0, "'too many open files' in the log")
	r.check(peak <= rssBound, "peak RSS %d MiB, bound %d MiB", peak>>20, rssBound>>20)
	r.set("duration_s", time.Since(t0).Seconds())
}

// TestConcurrentScrapes: 200 clients scrape /metrics in a loop at once over TLS with basic
// auth (the attack of issue 20), over a state that fills the caps. flowd serves --web.max-requests (40) at a time and
// answers 503 to the rest at once; concurrent scrapes share one gather. Its peak RSS must stay
// under the documented bound (384 MiB). Then /metrics latency is measured alone, while 40
// clients fetch /api/v1/live every second (about 200 open live views), and while 20 clients
// fetch / and /api/v1/live in a tight loop (a flood).
func TestConcurrentScrapes(t *testing.T) {
	r := newResult(t, "concurrent-scrapes")
	t0 := time.Now()
	const scrapers = 200
	web := tlsAuthSetup(t)
	f := startLoadedFlowd(t, r, "/stress/scrapes", 200_000, web)
	attackFor := scale(20*time.Second, 60*time.Second)
	transport := web.transport.Clone()
	transport.MaxIdleConnsPerHost, transport.MaxConnsPerHost = scrapers, scrapers
	client := &http.Client{Transport: transport, Timeout: 60 * time.Second}
	defer transport.CloseIdleConnections()

	var mu sync.Mutex
	var okTimes []time.Duration
	var ok, busy, failed atomic.Int64
	var maxRSS int64
	ctx, cancel := context.WithTimeout(context.Background(), attackFor)
	defer cancel()
	var wg sync.WaitGroup
	for range scrapers {
		wg.Go(func() {
			for ctx.Err() == nil {
				start := time.Now()
				resp, err := f.get(client, "/metrics")
				if err != nil {
					failed.Add(1)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				d := time.Since(start)
				switch {
				case err != nil:
					failed.Add(1)
				case resp.StatusCode == http.StatusOK:
					ok.Add(1)
					mu.Lock()
					okTimes = append(okTimes, d)
					mu.Unlock()
				case resp.StatusCode == http.StatusServiceUnavailable:
					busy.Add(1)
				default:
					failed.Add(1)
				}
			}
		})
	}
	wg.Go(func() {
		for ctx.Err() == nil {
			if rss, _, err := f.memory(); err == nil {
				mu.Lock()
				maxRSS = max(maxRSS, rss)
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
	wg.Wait()
	_, peak, _ := f.memory()
	r.set("scrapers", scrapers)
	r.set("attack_s", attackFor.Seconds())
	r.set("ok", ok.Load())
	r.set("busy_503", busy.Load())
	r.set("failed", failed.Load())
	r.set("p50_ok_ms", ms(percentile(okTimes, 50)))
	r.set("p95_ok_ms", ms(percentile(okTimes, 95)))
	r.set("max_ok_ms", ms(percentile(okTimes, 100)))
	r.set("max_rss_mib", float64(maxRSS)/(1<<20))
	r.set("peak_rss_mib", float64(peak)/(1<<20))
	r.check(failed.Load() == 0, "%d scrapes failed (neither 200 nor 503)", failed.Load())
	r.check(ok.Load() > 0, "no scrape succeeded")
	r.check(peak <= rssBound, "peak RSS %d MiB, bound %d MiB", peak>>20, rssBound>>20)

	// /metrics latency alone, then while the live view refreshes.
	measure := func(n int) []time.Duration {
		var ds []time.Duration
		for range n {
			s, err := f.scrape()
			if err != nil {
				r.fail("scrape: %v", err)
				continue
			}
			ds = append(ds, s.duration)
		}
		return ds
	}
	alone := measure(50)
	// withLive measures while pages clients each fetch /api/v1/live every period (0: in a
	// tight loop, with / as well: a flood rather than pages).
	withLive := func(pages int, period time.Duration) ([]time.Duration, float64) {
		lctx, lcancel := context.WithCancel(context.Background())
		var lwg sync.WaitGroup
		var reqs atomic.Int64
		for range pages {
			lwg.Go(func() {
				paths := []string{"/api/v1/live"}
				if period == 0 {
					paths = []string{"/", "/api/v1/live"}
				}
				var tick <-chan time.Time
				if period > 0 {
					tk := time.NewTicker(period)
					defer tk.Stop()
					tick = tk.C
				}
				for lctx.Err() == nil {
					for _, p := range paths {
						resp, err := f.get(client, p)
						if err == nil {
							_, _ = io.Copy(io.Discard, resp.Body)
							_ = resp.Body.Close()
							reqs.Add(1)
						}
					}
					if tick != nil {
						select {
						case <-lctx.Done():
						case <-tick:
						}
					}
				}
			})
		}
		t1 := time.Now()
		ds := measure(50)
		rate := float64(reqs.Load()) / time.Since(t1).Seconds()
		lcancel()
		lwg.Wait()
		return ds, rate
	}
	pages, pagesRate := withLive(40, time.Second) // about 200 open pages refreshing every 5 s
	flood, floodRate := withLive(20, 0)
	r.set("scrape_alone_p50_ms", ms(percentile(alone, 50)))
	r.set("scrape_alone_p95_ms", ms(percentile(alone, 95)))
	r.set("scrape_with_pages_p50_ms", ms(percentile(pages, 50)))
	r.set("scrape_with_pages_p95_ms", ms(percentile(pages, 95)))
	r.set("page_requests_per_s", pagesRate)
	r.set("scrape_with_flood_p50_ms", ms(percentile(flood, 50)))
	r.set("scrape_with_flood_p95_ms", ms(percentile(flood, 95)))
	r.set("flood_requests_per_s", floodRate)
	r.set("duration_s", time.Since(t0).Seconds())
}
