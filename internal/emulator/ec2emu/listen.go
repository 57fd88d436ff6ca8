package ec2emu

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/flowd-dev/flowd/internal/emulator"
	"github.com/flowd-dev/flowd/internal/memnet"
)

// Start serves the emulator on addr ("127.0.0.1:0" for a free port) and returns its base URL,
// for an SDK's BaseEndpoint or AWS_ENDPOINT_URL_EC2. stop shuts the listener down gracefully
// and waits for the serving goroutine.
func (s *Server) Start(addr string) (url string, stop func(ctx context.Context) error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("ec2 emulator listen on %q: %w", addr, err)
	}
	return "http://" + ln.Addr().String(), emulator.Serve(s, ln), nil
}

// InMemory serves the emulator over in-memory connections (memnet: net.Pipe) and returns an
// HTTP client dialing them, whatever host the URL names, with the base URL to give the SDK.
// The requests are real HTTP/1.1 on the wire, but no socket is involved, so a test inside a
// testing/synctest bubble can drive the SDK against the emulator in virtual time (a goroutine
// blocked on a socket is not durably blocked; one blocked on a pipe is). close stops the
// server and the client's idle connections; call it before the bubble ends.
func (s *Server) InMemory() (client *http.Client, url string, close func()) {
	ln := memnet.Listen()
	stop := emulator.Serve(s, ln)
	tr := &http.Transport{DialContext: ln.DialContext, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second}
	closeFn := func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stop(ctx) // best effort: a test is ending
	}
	return &http.Client{Transport: tr}, "http://ec2.emulator.invalid", closeFn
}
