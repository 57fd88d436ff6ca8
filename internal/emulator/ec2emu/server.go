package ec2emu

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/flowd-dev/flowd/internal/emufault"
)

// maxRequestBytes bounds a request body; Describe requests are a few hundred bytes.
const maxRequestBytes = 1 << 20

// Server is an in-memory EC2 API (the Describe actions flowd uses). It is an http.Handler
// speaking the EC2 Query protocol, and it offers in-process helpers to load and change the
// inventory, deny actions and script faults. All methods are safe for concurrent use.
type Server struct {
	cfg    Config
	secret uint64

	mu sync.RWMutex // guards st
	st store

	limiters [numActions]*rate.Limiter // nil = unlimited
	faults   *emufault.Table           // by action name
	denied   [numActions]atomic.Bool

	rngMu sync.Mutex
	rng   *rand.Rand

	requestID atomic.Uint64
	stats     [numActions]actionCounters
}

// New validates cfg and returns a server with an empty inventory.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	seed := uint64(cfg.Seed)
	s := &Server{
		cfg:    cfg,
		secret: seed*0x9e3779b97f4a7c15 ^ 0xec2,
		st:     newStore(),
		rng:    rand.New(rand.NewPCG(seed, seed^0xec2ec2)),
		faults: emufault.NewTable(seed ^ 0xfa017),
	}
	for a := range numActions {
		r := cfg.RateLimits[actionNames[a]]
		if r == 0 {
			r = DefaultRate
		}
		if r < 0 {
			continue
		}
		s.limiters[a] = rate.NewLimiter(rate.Limit(r), max(1, cfg.Burst)) // starts full
	}
	for _, name := range cfg.Denied {
		a, _ := actionByName(name)
		s.denied[a].Store(true)
	}
	return s, nil
}

// SetDenied makes an action answer UnauthorizedOperation (deny=true) or serve again.
func (s *Server) SetDenied(actionName string, deny bool) error {
	a, ok := actionByName(actionName)
	if !ok {
		return fmt.Errorf("set denied: unknown action %q", actionName)
	}
	s.denied[a].Store(deny)
	return nil
}

func (s *Server) randFloat() float64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64()
}

func (s *Server) randIntN(n int) int {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.IntN(n)
}

func (s *Server) randUint32() uint32 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Uint32()
}

// newRequestID returns a request id in AWS's UUID shape.
func (s *Server) newRequestID() string {
	n := s.requestID.Add(1)
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(s.secret), n)
}

// ServeHTTP answers one EC2 Query request: POST / with a form body Action=...&Version=...
// The checks run in EC2's order: action and version, authentication, rate limit, scripted
// faults, permission (UnauthorizedOperation), DryRun, then the parameters and the action.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.writeError(w, &APIError{Code: CodeInvalidAction, Message: "Only POST requests with a form body are served", HTTPStatus: http.StatusBadRequest})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, invalidValue("The request body exceeds %d bytes", maxRequestBytes))
		}
		return // the client went away mid-request
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.writeError(w, invalidValue("The request body is not a valid form: %v", err))
		return
	}
	name := form.Get("Action")
	if name == "" {
		s.writeError(w, &APIError{Code: CodeMissingAction, Message: "The request must contain the parameter Action", HTTPStatus: http.StatusBadRequest})
		return
	}
	a, ok := actionByName(name)
	if !ok {
		s.writeError(w, &APIError{Code: CodeInvalidAction, Message: "The action " + name + " is not valid for this web service.", HTTPStatus: http.StatusBadRequest})
		return
	}
	if v := form.Get("Version"); v != APIVersion {
		s.writeError(w, &APIError{Code: "NoSuchVersion", Message: "The requested version (" + v + ") of service AmazonEC2 does not exist", HTTPStatus: http.StatusBadRequest})
		return
	}
	st := &s.stats[a]
	st.calls.Add(1)
	if !s.cfg.AllowUnsigned && r.Header.Get("Authorization") == "" {
		st.errors.Add(1)
		s.writeError(w, &APIError{Code: CodeAuthFailure, Message: "AWS was not able to validate the provided access credentials", HTTPStatus: http.StatusUnauthorized})
		return
	}
	if lim := s.limiters[a]; lim != nil && !lim.AllowN(s.cfg.Clock(), 1) {
		st.throttled.Add(1)
		s.writeError(w, errThrottled)
		return
	}
	if f, drawn := s.faults.Draw(actionNames[a]); drawn {
		st.faulted.Add(1)
		if done := s.applyFault(w, r, f); done {
			return
		}
	}
	if s.denied[a].Load() {
		st.denied.Add(1)
		s.writeError(w, s.unauthorized(a))
		return
	}
	req, apiErr := parseParams(a, form)
	if apiErr == nil && req.dryRun {
		apiErr = errDryRun
	}
	var ans answer
	if apiErr == nil {
		ans, apiErr = handlers[a](s, req)
	}
	if apiErr != nil {
		st.errors.Add(1)
		s.writeError(w, apiErr)
		return
	}
	out, err := marshalAnswer(a, s.newRequestID(), ans)
	if err != nil {
		st.errors.Add(1)
		s.writeError(w, &APIError{Code: CodeInternalError, Message: "encode answer: " + err.Error(), HTTPStatus: http.StatusInternalServerError})
		return
	}
	st.ok.Add(1)
	if ans.next != "" {
		st.pagesWithToken.Add(1)
	}
	s.write(w, http.StatusOK, out)
}

func (s *Server) write(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml;charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Date", s.cfg.Clock().UTC().Format(http.TimeFormat))
	h.Set("Server", "AmazonEC2")
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client gone mid-answer is not the server's problem
}

// writeError writes EC2's error document.
func (s *Server) writeError(w http.ResponseWriter, e *APIError) {
	var doc xmlErrorResponse
	doc.Errors.Error.Code = e.Code
	doc.Errors.Error.Message = e.Message
	doc.RequestID = s.newRequestID()
	out, err := xml.Marshal(doc)
	if err != nil { // cannot happen for strings; answer something well-formed anyway
		out = []byte("<Response><Errors><Error><Code>InternalError</Code></Error></Errors></Response>")
	}
	s.write(w, e.HTTPStatus, append([]byte(xml.Header), out...))
}

// actionCounters counts the calls of one action by what became of them.
type actionCounters struct {
	calls, ok, throttled, faulted, denied, errors, pagesWithToken atomic.Uint64
}

// ActionStats counts the calls of one action. Calls = OK + Throttled + Denied + Errors +
// faulted answers (a slow fault that then answered counts in Faulted and in its outcome).
type ActionStats struct {
	Calls, OK, Throttled, Faulted, Denied, Errors uint64
	// PagesWithToken counts successful answers that carried a nextToken.
	PagesWithToken uint64
}

// Stats returns the call counts by action name.
func (s *Server) Stats() map[string]ActionStats {
	out := make(map[string]ActionStats, numActions)
	for a := range numActions {
		c := &s.stats[a]
		out[actionNames[a]] = ActionStats{
			Calls: c.calls.Load(), OK: c.ok.Load(), Throttled: c.throttled.Load(), Faulted: c.faulted.Load(),
			Denied: c.denied.Load(), Errors: c.errors.Load(), PagesWithToken: c.pagesWithToken.Load(),
		}
	}
	return out
}

// Now returns the server's clock reading (for tests that drive it).
func (s *Server) Now() time.Time { return s.cfg.Clock() }
