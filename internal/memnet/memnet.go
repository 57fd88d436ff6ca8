// Package memnet is an in-memory network for tests that run HTTP servers and clients inside a
// testing/synctest bubble. A goroutine blocked on a real socket is never "durably blocked", so
// a bubble holding a loopback server never advances its virtual clock; connections made of
// net.Pipe block on channels instead, so time moves as soon as every goroutine waits. The
// bytes on the wire are real HTTP/1.1, written and read by net/http on both sides.
package memnet

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// Listener is a net.Listener whose connections come from its own Dial. Create it (and the
// server that serves it) inside the bubble that uses it.
type Listener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// Listen returns a new listener.
func Listen() *Listener {
	return &Listener{conns: make(chan net.Conn), done: make(chan struct{})}
}

type addr struct{}

func (addr) Network() string { return "memnet" }
func (addr) String() string  { return "memnet" }

// Accept waits for the next Dial.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close makes Accept and Dial fail from now on; connections already made stay open.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr is a placeholder address.
func (l *Listener) Addr() net.Addr { return addr{} }

// DialContext connects to the listener, whatever network and address are asked for.
func (l *Listener) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Transport returns an HTTP transport whose every connection is dialled to l.
func (l *Listener) Transport() *http.Transport {
	return &http.Transport{DialContext: l.DialContext, MaxIdleConnsPerHost: 16}
}

// Serve starts an http.Server for h on l and returns a function that closes the server, its
// connections and the listener (call it before the bubble ends).
func Serve(h http.Handler) (*Listener, func()) {
	l := Listen()
	srv := &http.Server{Handler: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l) // returns ErrServerClosed or net.ErrClosed on stop
	}()
	return l, func() {
		_ = srv.Close()
		<-done
	}
}
