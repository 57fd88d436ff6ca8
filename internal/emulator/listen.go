package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Start serves the emulator on addr (for example "127.0.0.1:0" for a free port) and returns its
// base URL, for an SDK's BaseEndpoint or AWS_ENDPOINT_URL. stop shuts the listener down
// gracefully (in-flight requests finish or ctx ends) and waits for the serving goroutine.
func (s *Server) Start(addr string) (url string, stop func(ctx context.Context) error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("emulator listen on %q: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// net/http logs aborted handlers (FaultDisconnect) only for panics other than
		// http.ErrAbortHandler, so the default error log stays quiet.
	}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	stop = func(ctx context.Context) error {
		shutErr := srv.Shutdown(ctx)
		if shutErr != nil {
			shutErr = errors.Join(shutErr, srv.Close())
		}
		return errors.Join(shutErr, <-done)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// StartInMemory serves the emulator over in-memory connections (net.Pipe) instead of a socket
// and returns a dial function reaching it whatever the address, for an http.Transport's
// DialContext (with keep-alives off, so no idle connection outlives a request). Tests use it
// inside a testing/synctest bubble: a goroutine blocked on a pipe is durably blocked, so virtual
// time advances while requests wait, which a real socket would prevent. stop closes the server
// and its connections and waits for the serving goroutine.
func (s *Server) StartInMemory() (dial func(ctx context.Context, network, addr string) (net.Conn, error), stop func() error) {
	ln := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	stop = func() error {
		err := srv.Close()
		return errors.Join(err, <-done)
	}
	return ln.dial, stop
}

// pipeListener is a net.Listener whose connections are the server ends of net.Pipe pairs.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial hands the server end of a new pipe to Accept and returns the client end.
func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
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

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "emulator.in-memory" }
