package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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
