package web

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitConns waits until the limiter tracks n connections in state s.
func waitConns(t *testing.T, l *connLimiter, s http.ConnState, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for l.count(s) != n {
		select {
		case <-l.changed:
		case <-timeout:
			t.Fatalf("%d connections %v, want %d", l.count(s), s, n)
		}
	}
}

// keepAliveGet sends GET path on c and reads the response, leaving c open (keep-alive).
func keepAliveGet(t *testing.T, c net.Conn, r *bufio.Reader, path string) int {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestConnectionLimit: at --web.max-connections, a new client closes the oldest idle
// keep-alive connection, else the oldest silent one, and is served; never more stay open.
func TestConnectionLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s, _ := f.start(t, Config{Options: Options{MaxConnections: 3}})
	s.conns.mu.Lock()
	s.conns.changed = make(chan struct{}, 1)
	s.conns.mu.Unlock()
	addr := s.Addrs()[0].String()
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c, bufio.NewReader(c)
	}
	closed := func(c net.Conn, r *bufio.Reader) bool {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := r.ReadByte()
		return err != nil && !strings.Contains(err.Error(), "timeout")
	}

	// Three idle keep-alive clients fill the slots.
	var idle []net.Conn
	var idleR []*bufio.Reader
	for range 3 {
		c, r := dial()
		if code := keepAliveGet(t, c, r, "/-/healthy"); code != 200 {
			t.Fatalf("healthy: %d", code)
		}
		idle, idleR = append(idle, c), append(idleR, r)
		waitConns(t, s.conns, http.StateIdle, len(idle))
	}
	// A scraper gets through, and the oldest idle client is the one closed.
	c, r := dial()
	if code := keepAliveGet(t, c, r, "/metrics"); code != 200 {
		t.Errorf("scrape at the limit: %d, want 200", code)
	}
	if !closed(idle[0], idleR[0]) {
		t.Error("the oldest idle connection is still open")
	}
	if n := s.conns.open(); n > 3 {
		t.Errorf("%d connections open, limit 3", n)
	}
	waitConns(t, s.conns, http.StateIdle, 3)

	// Silent clients (connected, no request) are closed too, once no idle one is left.
	for range 3 {
		dial()
	}
	waitConns(t, s.conns, http.StateNew, 3)
	if !closed(idle[1], idleR[1]) || !closed(idle[2], idleR[2]) || !closed(c, r) {
		t.Error("the idle connections were not closed for the silent ones")
	}
	c2, r2 := dial()
	if code := keepAliveGet(t, c2, r2, "/metrics"); code != 200 {
		t.Errorf("scrape with silent clients at the limit: %d, want 200", code)
	}
	if n := s.conns.open(); n > 3 {
		t.Errorf("%d connections open, limit 3", n)
	}
}
