package ec2emu

import (
	"bufio"
	"fmt"
	"net/http"

	"github.com/flowd-dev/flowd/internal/emufault"
)

// FaultKind says how a scripted fault spoils an answer (emufault's kinds, shared by every
// emulator here).
type FaultKind = emufault.Kind

// Fault kinds.
const (
	// FaultInternalError answers HTTP 500 InternalError (the SDK retries it).
	FaultInternalError = emufault.InternalError
	// FaultUnavailable answers HTTP 503 Unavailable.
	FaultUnavailable = emufault.Unavailable
	// FaultThrottle answers RequestLimitExceeded whatever the token bucket holds.
	FaultThrottle = emufault.Throttle
	// FaultSlow waits Fault.Delay (on timers: virtual time inside a testing/synctest bubble;
	// cut short if the client gives up), then answers normally.
	FaultSlow = emufault.Slow
	// FaultDisconnect starts a 200 answer, sends part of the body and closes the connection.
	FaultDisconnect = emufault.Disconnect
)

// Fault scripts a misbehaviour of one action. Which calls it hits: Count > 0, the next Count
// calls (then it clears itself); else Probability > 0, each call with that probability
// (seeded by Config.Seed); else every call until ClearFaults. Calls refused earlier
// (authentication, rate limit) do not draw.
type Fault = emufault.Fault

// SetFault scripts a fault for an action (an Action* name), replacing any set before.
func (s *Server) SetFault(actionName string, f Fault) error {
	if _, ok := actionByName(actionName); !ok {
		return fmt.Errorf("set fault: unknown action %q", actionName)
	}
	return s.faults.Set(actionName, f)
}

// ClearFaults removes every scripted fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// applyFault acts out a fault; it reports whether the answer is done (a slow fault returns
// false once its delay has passed, and the call proceeds).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f.Kind {
	case FaultInternalError:
		s.writeError(w, errInternal)
	case FaultUnavailable:
		s.writeError(w, errUnavailable)
	case FaultThrottle:
		s.writeError(w, errThrottled)
	case FaultSlow:
		return !emufault.Wait(r, f.Delay)
	case FaultDisconnect:
		disconnect(w)
	}
	return true
}

const partialAnswer = xmlHeaderLine + `<DescribeNetworkInterfacesResponse xmlns="` + xmlNamespace + `"><requestId>`

const xmlHeaderLine = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// disconnect closes the connection in the middle of a 200 answer whose Content-Length promises
// more. Over HTTP/1 it hijacks the connection; otherwise it aborts the handler.
func disconnect(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		conn, buf, err := hj.Hijack()
		if err == nil {
			writeRawPartial(buf)
			_ = conn.Close() // closing is the point
			return
		}
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", "4096")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(partialAnswer))
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	panic(http.ErrAbortHandler)
}

func writeRawPartial(buf *bufio.ReadWriter) {
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/xml;charset=UTF-8\r\nContent-Length: 4096\r\n\r\n" + partialAnswer)
	_ = buf.Flush()
}
