package emulator

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/flowd-dev/flowd/internal/emufault"
)

// FaultKind says how a scripted fault spoils an answer.
type FaultKind int

// Fault kinds.
const (
	// FaultInternalError answers HTTP 500 ServiceUnavailableException (the modeled CloudWatch Logs
	// server fault; the SDK retries it).
	FaultInternalError FaultKind = iota + 1
	// FaultUnavailable answers HTTP 503 ServiceUnavailable, as an overloaded AWS front end does.
	FaultUnavailable
	// FaultSlow waits Fault.Delay (real time, cut short if the client gives up) and then answers
	// normally.
	FaultSlow
	// FaultDisconnect starts a 200 answer, sends part of the body and closes the connection.
	FaultDisconnect
	// FaultThrottle answers ThrottlingException whatever the token bucket holds.
	FaultThrottle
	// FaultInvalidToken answers InvalidParameterException "The specified nextToken is invalid."
	// to requests that carry a nextToken (FilterLogEvents, GetLogEvents, Describe*).
	FaultInvalidToken
	// FaultExpiredToken answers InvalidParameterException for an expired nextToken, likewise.
	FaultExpiredToken
)

func (k FaultKind) String() string {
	switch k {
	case FaultInternalError:
		return "internal-error"
	case FaultUnavailable:
		return "unavailable"
	case FaultSlow:
		return "slow"
	case FaultDisconnect:
		return "disconnect"
	case FaultThrottle:
		return "throttle"
	case FaultInvalidToken:
		return "invalid-token"
	case FaultExpiredToken:
		return "expired-token"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

func (k FaultKind) isToken() bool { return k == FaultInvalidToken || k == FaultExpiredToken }

// Fault scripts a misbehaviour of one operation. Which calls it hits:
//   - Count > 0: the next Count eligible calls (then the fault clears itself);
//   - else Probability > 0: each eligible call with that probability (seeded by Config.Seed);
//   - else: every eligible call until ClearFaults.
//
// Eligible calls are all calls of the operation that pass the rate limit, except for the token
// kinds, whose eligible calls are those carrying a nextToken.
type Fault struct {
	Kind        FaultKind
	Count       int
	Probability float64
	Delay       time.Duration // FaultSlow only
}

func (f Fault) validate() error {
	if f.Kind < FaultInternalError || f.Kind > FaultExpiredToken {
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

// faultTable holds at most one scripted fault per operation.
type faultTable struct {
	mu     sync.Mutex
	faults [numOps]*Fault
}

// draw decides whether the op's fault hits this call; token selects the token kinds (drawn by the
// handler once it knows the request carries a token) or the others (drawn before the handler).
func (t *faultTable) draw(o op, s *Server, token bool) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.faults[o]
	if f == nil || f.Kind.isToken() != token {
		return Fault{}, false
	}
	switch {
	case f.Count > 0:
		f.Count--
		if f.Count == 0 {
			t.faults[o] = nil
		}
	case f.Probability > 0:
		if s.randFloat() >= f.Probability {
			return Fault{}, false
		}
	}
	return *f, true
}

// SetFault scripts a fault for an operation (an Op* name), replacing any fault set for it before.
func (s *Server) SetFault(opName string, f Fault) error {
	o, ok := opByName(opName)
	if !ok {
		return fmt.Errorf("set fault: unknown operation %q", opName)
	}
	if err := f.validate(); err != nil {
		return fmt.Errorf("set fault (operation %s): %w", opName, err)
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults[o] = &f
	return nil
}

// ClearFaults removes every scripted fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = [numOps]*Fault{}
}

// applyFault acts out a fault drawn before the handler. It reports whether the answer is done;
// a slow fault returns false once its delay has passed, and the call proceeds normally.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f.Kind {
	case FaultInternalError:
		s.writeError(w, errInternal)
	case FaultUnavailable:
		s.writeError(w, errFront503)
	case FaultThrottle:
		s.writeError(w, errThrottled)
	case FaultSlow:
		return !emufault.Wait(r, f.Delay)
	case FaultDisconnect:
		emufault.Hangup(w, contentType, partialAnswer)
	}
	return true
}

// partialAnswer is what a FaultDisconnect sends before closing: the start of a 200 answer whose
// Content-Length promises more than will ever come.
const partialAnswer = `{"events":[{"eventId":"`
