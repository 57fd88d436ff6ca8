package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/flowd-dev/flowd/internal/memnet"
)

// Start serves the emulator on addr (for example "127.0.0.1:0" for a free port) and returns its
// base URL, for an SDK's BaseEndpoint or AWS_ENDPOINT_URL. stop shuts the listener down
// gracefully (in-flight requests finish or ctx ends) and waits for the serving goroutine.
func (s *Server) Start(addr string) (url string, stop func(ctx context.Context) error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("emulator listen on %q: %w", addr, err)
	}
	return "http://" + ln.Addr().String(), Serve(s, ln), nil
}

// Serve serves h on ln (the emulators of this tree share it) until stop, which shuts the server
// down gracefully (in-flight requests finish or ctx ends, then it closes what is left) and
// waits for the serving goroutine. net/http logs aborted handlers (FaultDisconnect) only for
// panics other than http.ErrAbortHandler, so the default error log stays quiet.
func Serve(h http.Handler, ln net.Listener) (stop func(ctx context.Context) error) {
	srv, done := serve(h, ln)
	return func(ctx context.Context) error {
		shutErr := srv.Shutdown(ctx)
		if shutErr != nil {
			shutErr = errors.Join(shutErr, srv.Close())
		}
		return errors.Join(shutErr, <-done)
	}
}

// StartInMemory serves the emulator over in-memory connections (memnet: net.Pipe) instead of a
// socket and returns a dial function reaching it whatever the address, for an http.Transport's
// DialContext (with keep-alives off, so no idle connection outlives a request). Tests use it
// inside a testing/synctest bubble: a goroutine blocked on a pipe is durably blocked, so virtual
// time advances while requests wait, which a real socket would prevent. stop closes the server
// and its connections and waits for the serving goroutine.
func (s *Server) StartInMemory() (dial func(ctx context.Context, network, addr string) (net.Conn, error), stop func() error) {
	ln := memnet.Listen()
	srv, done := serve(s, ln)
	stop = func() error {
		err := srv.Close()
		return errors.Join(err, <-done)
	}
	return ln.DialContext, stop
}

// serve runs an http.Server for h on ln; done yields what Serve returned (nil once the server is
// closed or shut down).
func serve(h http.Handler, ln net.Listener) (*http.Server, <-chan error) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	return srv, done
}
