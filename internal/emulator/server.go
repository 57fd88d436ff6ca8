package emulator

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

const (
	targetPrefix = "Logs_20140328."
	contentType  = "application/x-amz-json-1.1"
	// maxRequestBytes bounds a request body: a full PutLogEvents batch (1 MB of messages) with
	// JSON escaping and framing fits easily.
	maxRequestBytes = 8 << 20
)

// Server is an in-memory CloudWatch Logs service. It is an http.Handler speaking the AWS JSON 1.1
// protocol, and it offers in-process helpers (CreateLogGroup, PutLogEvents, GroundTruth, SetFault,
// Stats) for tests and the demo. All methods are safe for concurrent use.
type Server struct {
	cfg      Config
	secret   uint64
	delayMs  int64
	retainMs int64

	mu         sync.RWMutex // guards everything below up to seq
	groups     map[string]*group
	groupNames []string // sorted
	seq        uint64   // last put sequence number handed out
	nextExpiry int64    // ms; when the next retention sweep is due

	limiters [numOps]*rate.Limiter // nil = unlimited
	faults   faultTable

	rngMu sync.Mutex
	rng   *rand.Rand

	// deliverMu serializes subscription delivery rounds and guards what only they use.
	deliverMu  sync.Mutex
	deliverRng *rand.Rand // duplicates and Random partition keys, apart from rng so requests do not shift them
	jsonBuf    []byte
	zw         *gzip.Writer

	pageBuffers bufferFreeList

	requestID atomic.Uint64
	stats     counters
}

// New validates cfg and returns an empty server (no log groups).
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	seed := uint64(cfg.Seed)
	s := &Server{
		cfg:        cfg,
		secret:     mix64(seed ^ 0x5eed),
		delayMs:    cfg.VisibilityDelay.Milliseconds(),
		retainMs:   cfg.Retention.Milliseconds(),
		groups:     make(map[string]*group),
		rng:        rand.New(rand.NewPCG(seed, mix64(seed))),
		deliverRng: rand.New(rand.NewPCG(mix64(seed^0xde11), seed)),
	}
	for o := range numOps {
		r, ok := cfg.RateLimits[opNames[o]]
		if !ok || r == 0 {
			r = defaultRates[o]
		}
		if r < 0 {
			continue
		}
		s.limiters[o] = rate.NewLimiter(rate.Limit(r), int(math.Max(1, math.Ceil(r))))
	}
	return s, nil
}

func (s *Server) now() time.Time { return s.cfg.Clock() }

// randFloat and randIntN draw from the seeded source shared by all requests.
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

// call is one decoded request on its way through an operation handler.
type call struct {
	op      op
	body    []byte
	now     time.Time
	s       *Server
	faulted bool   // a scripted fault shaped this call's answer
	release func() // if set, called once the answer is written (returns a pooled buffer)
}

// checkTokenFault applies a scripted invalid/expired-token fault. Only requests that carry a
// token draw it, so "the next N" means the next N continuation requests.
func (c *call) checkTokenFault(hasToken bool) *APIError {
	if !hasToken {
		return nil
	}
	f, ok := c.s.faults.draw(c.op, c.s, true)
	if !ok {
		return nil
	}
	c.faulted = true
	if f.Kind == FaultExpiredToken {
		return expiredToken()
	}
	return invalidToken()
}

type handler func(s *Server, c *call) ([]byte, *APIError)

var handlers = [numOps]handler{
	opCreateLogGroup:     (*Server).handleCreateLogGroup,
	opCreateLogStream:    (*Server).handleCreateLogStream,
	opPutLogEvents:       (*Server).handlePutLogEvents,
	opDescribeLogGroups:  (*Server).handleDescribeLogGroups,
	opDescribeLogStreams: (*Server).handleDescribeLogStreams,
	opFilterLogEvents:    (*Server).handleFilterLogEvents,
	opGetLogEvents:       (*Server).handleGetLogEvents,

	opPutSubscriptionFilter:       (*Server).handlePutSubscriptionFilter,
	opDescribeSubscriptionFilters: (*Server).handleDescribeSubscriptionFilters,
	opDeleteSubscriptionFilter:    (*Server).handleDeleteSubscriptionFilter,
}

// ServeHTTP answers one AWS JSON 1.1 request: POST /, X-Amz-Target: Logs_20140328.<Operation>.
// The order of checks follows AWS's front end: operation, authentication, rate limit, then the
// operation itself (with any scripted fault in between).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.writeError(w, &APIError{Code: CodeUnknownOperation, Message: "Only POST / is served", HTTPStatus: http.StatusNotFound})
		return
	}
	name, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	o, known := opByName(name)
	if !ok || !known {
		s.writeError(w, &APIError{Code: CodeUnknownOperation, Message: "Unknown or unsupported operation " + strconv.Quote(r.Header.Get("X-Amz-Target")), HTTPStatus: http.StatusBadRequest})
		return
	}
	st := &s.stats.ops[o]
	st.calls.Add(1)
	if !s.cfg.AllowUnsigned && r.Header.Get("Authorization") == "" {
		st.errors.Add(1)
		s.writeError(w, &APIError{Code: CodeMissingAuthToken, Message: "Missing Authentication Token", HTTPStatus: http.StatusBadRequest})
		return
	}
	now := s.now()
	if lim := s.limiters[o]; lim != nil && !lim.AllowN(now, 1) {
		st.throttled.Add(1)
		s.writeError(w, errThrottled)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		st.errors.Add(1)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, &APIError{Code: CodeInvalidParameter, Message: "Request body exceeds " + strconv.Itoa(maxRequestBytes) + " bytes", HTTPStatus: http.StatusRequestEntityTooLarge})
		}
		return // the client went away mid-request: nobody to answer
	}
	// Faults act after the body is read: only then does net/http watch the connection, so that a
	// slow answer ends as soon as the client gives up.
	if f, drawn := s.faults.draw(o, s, false); drawn {
		st.faulted.Add(1)
		if done := s.applyFault(w, r, f); done {
			return
		}
	}
	c := &call{op: o, now: now, s: s, body: body}
	out, apiErr := handlers[o](s, c)
	if c.faulted {
		st.faulted.Add(1)
	}
	if apiErr != nil {
		st.errors.Add(1)
		s.writeError(w, apiErr)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
	if c.release != nil {
		c.release()
	}
}

func (s *Server) setHeaders(w http.ResponseWriter, n int) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-Requestid", s.newRequestID())
	h.Set("Content-Length", strconv.Itoa(n))
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, body []byte) {
	s.setHeaders(w, len(body))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a failed write means the client left; there is nobody to tell
}

// writeError sends AWS's JSON error shape: the code in X-Amzn-ErrorType and in "__type".
func (s *Server) writeError(w http.ResponseWriter, e *APIError) {
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{e.Code, e.Message})
	w.Header().Set("X-Amzn-Errortype", e.Code)
	s.writeJSON(w, e.HTTPStatus, body)
}

// newRequestID returns a UUID-shaped request id, as AWS puts in x-amzn-RequestId.
func (s *Server) newRequestID() string {
	n := s.requestID.Add(1)
	v := mix64(n ^ s.secret)
	const hexdigits = "0123456789abcdef"
	var b [36]byte
	x := [2]uint64{v, mix64(v)}
	j := 0
	for i := range b {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			b[i] = '-'
			continue
		}
		w := x[j/16]
		b[i] = hexdigits[(w>>(4*(j%16)))&0xf]
		j++
	}
	return string(b[:])
}

// decode unmarshals a request body; malformed JSON is a SerializationException, as AWS answers.
func decode(body []byte, v any) *APIError {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &APIError{Code: CodeSerialization, Message: "Malformed request body: " + err.Error(), HTTPStatus: http.StatusBadRequest}
	}
	return nil
}

func marshal(v any) ([]byte, *APIError) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &APIError{Code: CodeInternalFailure, Message: "encode response: " + err.Error(), HTTPStatus: http.StatusInternalServerError}
	}
	return b, nil
}
