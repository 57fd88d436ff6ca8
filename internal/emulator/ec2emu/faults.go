package ec2emu

import (
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
		emufault.Hangup(w, "text/xml;charset=UTF-8", partialAnswer)
	}
	return true
}

const partialAnswer = xmlHeaderLine + `<DescribeNetworkInterfacesResponse xmlns="` + xmlNamespace + `"><requestId>`

const xmlHeaderLine = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
