// Package emufault scripts misbehaviour for flowd's AWS emulators (internal/kinesisemu,
// internal/dynamoemu, internal/emulator/ec2emu): throttling, server errors, slow answers and connections dropped in the
// middle of an answer, per operation, for the next N calls, with a probability, or always.
// Each emulator writes throttling and server errors in its own service's error shape.
package emufault

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Kind says how a fault spoils an answer.
type Kind int

// Fault kinds.
const (
	// Throttle answers the service's throttling error whatever its quotas say.
	Throttle Kind = iota + 1
	// InternalError answers HTTP 500 in the service's shape (the SDK retries it).
	InternalError
	// Unavailable answers HTTP 503, as an overloaded front end does.
	Unavailable
	// Slow waits Fault.Delay on the server's timers (virtual inside a synctest bubble) and then
	// answers normally; a client that gives up first sees its own timeout.
	Slow
	// Disconnect starts a 200 answer, sends part of it and closes the connection.
	Disconnect
)

func (k Kind) String() string {
	switch k {
	case Throttle:
		return "throttle"
	case InternalError:
		return "internal-error"
	case Unavailable:
		return "unavailable"
	case Slow:
		return "slow"
	case Disconnect:
		return "disconnect"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Fault scripts one operation's misbehaviour. Count > 0: the next Count calls (then it clears
// itself); else Probability > 0: each call with that probability; else every call until Clear.
type Fault struct {
	Kind        Kind
	Count       int
	Probability float64
	Delay       time.Duration // Slow only
}

// Validate names the bad field.
func (f Fault) Validate() error {
	switch {
	case f.Kind < Throttle || f.Kind > Disconnect:
		return fmt.Errorf("fault kind %d: unknown", int(f.Kind))
	case f.Count < 0:
		return fmt.Errorf("fault count %d: must be >= 0", f.Count)
	case !(f.Probability >= 0 && f.Probability <= 1):
		return fmt.Errorf("fault probability %v: must be in [0, 1]", f.Probability)
	case f.Kind == Slow && f.Delay <= 0:
		return fmt.Errorf("fault delay %v: a slow fault needs a positive delay", f.Delay)
	}
	return nil
}

// Table holds at most one fault per operation name. The zero value is unusable; use NewTable.
type Table struct {
	mu     sync.Mutex
	faults map[string]*Fault
	rng    *rand.Rand
	hits   map[string]int
}

// NewTable returns an empty table drawing probabilities from a source seeded with seed.
func NewTable(seed uint64) *Table {
	return &Table{faults: make(map[string]*Fault), hits: make(map[string]int), rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Set scripts f for op, replacing what was set before.
func (t *Table) Set(op string, f Fault) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("set fault (operation %s): %w", op, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults[op] = &f
	return nil
}

// Clear removes every fault.
func (t *Table) Clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.faults)
}

// Hits returns how many calls of op a fault has hit.
func (t *Table) Hits(op string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hits[op]
}

// Draw decides whether op's fault hits this call.
func (t *Table) Draw(op string) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.faults[op]
	if f == nil {
		return Fault{}, false
	}
	switch {
	case f.Count > 0:
		f.Count--
		if f.Count == 0 {
			delete(t.faults, op)
		}
	case f.Probability > 0:
		if t.rng.Float64() >= f.Probability {
			return Fault{}, false
		}
	}
	t.hits[op]++
	return *f, true
}

// Wait sleeps for a Slow fault; it returns false if the client went away first.
func Wait(r *http.Request, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// Hangup closes the connection in the middle of a 200 answer of contentType whose
// Content-Length promises more than partial, the start of a body, ever delivers. Over HTTP/1 it
// hijacks the connection and writes raw bytes; where hijacking is impossible (HTTP/2) it sends
// the partial body and aborts the handler, which net/http turns into a reset stream.
func Hangup(w http.ResponseWriter, contentType, partial string) {
	if hj, ok := w.(http.Hijacker); ok {
		conn, buf, err := hj.Hijack()
		if err == nil {
			_, _ = fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: 4096\r\n\r\n%s", contentType, partial)
			_ = buf.Flush()
			_ = conn.Close() // closing is the point; its error changes nothing
			return
		}
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", "4096")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(partial))
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	panic(http.ErrAbortHandler)
}
