package ec2emu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Start serves the emulator on addr ("127.0.0.1:0" for a free port) and returns its base URL,
// for an SDK's BaseEndpoint or AWS_ENDPOINT_URL_EC2. stop shuts the listener down gracefully
// and waits for the serving goroutine.
func (s *Server) Start(addr string) (url string, stop func(ctx context.Context) error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("ec2 emulator listen on %q: %w", addr, err)
	}
	url, stop = serve(s, ln)
	return url, stop, nil
}

func serve(h http.Handler, ln net.Listener) (string, func(ctx context.Context) error) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	stop := func(ctx context.Context) error {
		shutErr := srv.Shutdown(ctx)
		if shutErr != nil {
			shutErr = errors.Join(shutErr, srv.Close())
		}
		return errors.Join(shutErr, <-done)
	}
	return "http://" + ln.Addr().String(), stop
}

// InMemory serves the emulator over in-memory connections (net.Pipe) and returns an HTTP
// client dialing them, whatever host the URL names, with the base URL to give the SDK. The
// requests are real HTTP/1.1 on the wire, but no socket is involved, so a test inside a
// testing/synctest bubble can drive the SDK against the emulator in virtual time (a goroutine
// blocked on a socket is not durably blocked; one blocked on a pipe is). close stops the
// server and the client's idle connections; call it before the bubble ends.
func (s *Server) InMemory() (client *http.Client, url string, close func()) {
	ln := newPipeListener()
	_, stop := serve(s, ln)
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return ln.dial(ctx)
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}
	client = &http.Client{Transport: tr}
	closeFn := func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stop(ctx) // best effort: a test is ending
	}
	return client, "http://ec2.emulator.invalid", closeFn
}

// pipeListener is a net.Listener whose connections are the server ends of net.Pipe pairs.
type pipeListener struct {
	conns     chan net.Conn
	closeOnce sync.Once
	closed    chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) dial(ctx context.Context) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, errors.New("ec2 emulator: in-memory listener closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "ec2.emulator.invalid" }
