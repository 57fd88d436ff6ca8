package ec2emu

import (
	"bufio"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// FaultKind says how a scripted fault spoils an answer.
type FaultKind int

// Fault kinds.
const (
	// FaultInternalError answers HTTP 500 InternalError (the SDK retries it).
	FaultInternalError FaultKind = iota + 1
	// FaultUnavailable answers HTTP 503 Unavailable.
	FaultUnavailable
	// FaultThrottle answers RequestLimitExceeded whatever the token bucket holds.
	FaultThrottle
	// FaultSlow waits Fault.Delay (on timers: virtual time inside a testing/synctest bubble;
	// cut short if the client gives up), then answers normally.
	FaultSlow
	// FaultDisconnect starts a 200 answer, sends part of the body and closes the connection.
	FaultDisconnect
)

func (k FaultKind) String() string {
	switch k {
	case FaultInternalError:
		return "internal-error"
	case FaultUnavailable:
		return "unavailable"
	case FaultThrottle:
		return "throttle"
	case FaultSlow:
		return "slow"
	case FaultDisconnect:
		return "disconnect"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault scripts a misbehaviour of one action. Which calls it hits: Count > 0, the next Count
// calls (then it clears itself); else Probability > 0, each call with that probability
// (seeded); else every call until ClearFaults. Calls refused earlier (authentication, rate
// limit) do not draw.
type Fault struct {
	Kind        FaultKind
	Count       int
	Probability float64
	Delay       time.Duration // FaultSlow only
}

func (f Fault) validate() error {
	if f.Kind < FaultInternalError || f.Kind > FaultDisconnect {
		return fmt.Errorf("fault kind %v: unknown", f.Kind)
	}
	if f.Count < 0 {
		return fmt.Errorf("fault count %d: must be >= 0", f.Count)
	}
	if !(f.Probability >= 0 && f.Probability <= 1) {
		return fmt.Errorf("fault probability %v: must be in [0, 1]", f.Probability)
	}
	if f.Kind == FaultSlow && f.Delay <= 0 {
		return fmt.Errorf("fault delay %v: a slow fault needs a positive delay", f.Delay)
	}
	return nil
}

type faultTable struct {
	mu     sync.Mutex
	faults [numActions]*Fault
}

func (t *faultTable) draw(a action, s *Server) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.faults[a]
	if f == nil {
		return Fault{}, false
	}
	switch {
	case f.Count > 0:
		f.Count--
		if f.Count == 0 {
			t.faults[a] = nil
		}
	case f.Probability > 0:
		if s.randFloat() >= f.Probability {
			return Fault{}, false
		}
	}
	return *f, true
}

// SetFault scripts a fault for an action (an Action* name), replacing any set before.
func (s *Server) SetFault(actionName string, f Fault) error {
	a, ok := actionByName(actionName)
	if !ok {
		return fmt.Errorf("set fault: unknown action %q", actionName)
	}
	if err := f.validate(); err != nil {
		return fmt.Errorf("set fault (action %s): %w", actionName, err)
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults[a] = &f
	return nil
}

// ClearFaults removes every scripted fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = [numActions]*Fault{}
}

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
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
		}
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
