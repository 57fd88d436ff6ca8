// Package kinesisemu is an in-memory Amazon Kinesis Data Streams service for flowd's tests and
// demo, spoken over the real wire protocol: AWS JSON 1.1 (POST /, X-Amz-Target:
// Kinesis_20131202.<Operation>, application/x-amz-json-1.1), which is what aws-sdk-go-v2's
// kinesis client (v1.56) sends; only the endpoint differs. Blobs are base64 and timestamps epoch
// seconds, as in the JSON protocol.
//
// Operations: CreateStream, DescribeStream, DescribeStreamSummary, ListShards, GetShardIterator
// (TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP), GetRecords,
// PutRecord, PutRecords, SplitShard and MergeShards.
//
// What it reproduces, because flowd's exactness and pacing depend on it:
//   - Per-shard read limits: 5 GetRecords calls per second and 2 MB per second (a token bucket
//     of bytes that may go into debt: after a 10 MB answer the shard refuses reads for about
//     4 s), 5 GetShardIterator calls per second; beyond them
//     ProvisionedThroughputExceededException. Writes: 1,000 records and 1 MiB per second per
//     shard (PutRecord answers the exception, PutRecords marks the records).
//   - GetRecords: at most Limit (default and maximum 10,000) records and 10 MiB per answer;
//     NextShardIterator; MillisBehindLatest (0 when caught up, else the age of the last record
//     returned); iterators expire 5 minutes after they were issued (ExpiredIteratorException)
//     and are bound to their shard (a forged or garbled one is InvalidArgumentException).
//   - Resharding: SplitShard and MergeShards close the parents (EndingSequenceNumber set) and
//     open children with ParentShardId and AdjacentParentShardId, hash key ranges split or
//     joined; reading a closed shard to its end answers no NextShardIterator and the
//     ChildShards; writes go to the open shard whose range holds the MD5 of the partition key
//     (or ExplicitHashKey).
//   - Sequence numbers: 56-digit decimal strings, increasing in put order across the stream
//     (so also within each shard).
//   - Faults per operation through SetFault (internal/emufault): throttling (the exception
//     above), HTTP 500 InternalFailure, 503, slow answers, connections dropped mid-answer.
//
// Known differences from AWS: streams are ACTIVE at once and stay ACTIVE while resharding (AWS
// passes through CREATING and UPDATING); no retention trimming (records are kept for the life
// of the server); no enhanced fan-out (SubscribeToShard), encryption, tags, on-demand mode or
// ShardFilter; one account and Region; signatures are not verified (an Authorization header is
// required unless Config.AllowUnsigned).
package kinesisemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowd-dev/flowd/internal/emufault"
)

const (
	targetPrefix    = "Kinesis_20131202."
	contentType     = "application/x-amz-json-1.1"
	maxRequestBytes = 16 << 20
)

// Operation names.
const (
	OpCreateStream          = "CreateStream"
	OpDescribeStream        = "DescribeStream"
	OpDescribeStreamSummary = "DescribeStreamSummary"
	OpListShards            = "ListShards"
	OpGetShardIterator      = "GetShardIterator"
	OpGetRecords            = "GetRecords"
	OpPutRecord             = "PutRecord"
	OpPutRecords            = "PutRecords"
	OpSplitShard            = "SplitShard"
	OpMergeShards           = "MergeShards"
)

// Config configures a Server; the zero value gives AWS's limits.
type Config struct {
	Clock             func() time.Time // nil = time.Now
	Region, AccountID string           // us-east-1, 123456789012
	// ReadCallsPerSecond, ReadBytesPerSecond per shard (5, 2 MB); negative = unlimited.
	ReadCallsPerSecond float64
	ReadBytesPerSecond float64
	// WriteRecordsPerSecond, WriteBytesPerSecond per shard (1000, 1 MiB); negative = unlimited.
	WriteRecordsPerSecond float64
	WriteBytesPerSecond   float64
	// IteratorLifetime (5m).
	IteratorLifetime time.Duration
	Seed             uint64
	AllowUnsigned    bool
}

func (c *Config) normalize() error {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.AccountID == "" {
		c.AccountID = "123456789012"
	}
	var errs []error
	for _, f := range []struct {
		name string
		v    *float64
		def  float64
	}{{"ReadCallsPerSecond", &c.ReadCallsPerSecond, 5}, {"ReadBytesPerSecond", &c.ReadBytesPerSecond, 2 << 20},
		{"WriteRecordsPerSecond", &c.WriteRecordsPerSecond, 1000}, {"WriteBytesPerSecond", &c.WriteBytesPerSecond, 1 << 20}} {
		switch {
		case math.IsNaN(*f.v) || math.IsInf(*f.v, 0):
			errs = append(errs, fmt.Errorf("kinesisemu config: %s %v: must be a finite number", f.name, *f.v))
		case *f.v == 0:
			*f.v = f.def
		}
	}
	if c.IteratorLifetime < 0 {
		errs = append(errs, fmt.Errorf("kinesisemu config: IteratorLifetime %v: must be >= 0", c.IteratorLifetime))
	}
	if c.IteratorLifetime == 0 {
		c.IteratorLifetime = 5 * time.Minute
	}
	return errors.Join(errs...)
}

// Server is an in-memory Kinesis Data Streams service; an http.Handler. Safe for concurrent use.
type Server struct {
	cfg    Config
	faults *emufault.Table
	secret uint64

	mu      sync.Mutex
	streams map[string]*stream
	nextN   uint64 // the next record's position in the global order (sequence numbers derive from it)

	requestID atomic.Uint64
	calls     sync.Map // op -> *atomic.Int64
	throttled sync.Map // op -> *atomic.Int64
}

// New validates cfg and returns a server without streams.
func New(cfg Config) (*Server, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, faults: emufault.NewTable(cfg.Seed), secret: cfg.Seed*0x9e3779b97f4a7c15 + 0x5eed,
		streams: map[string]*stream{}, nextN: 1}, nil
}

// SetFault scripts a fault for an operation (an Op* name).
func (s *Server) SetFault(op string, f emufault.Fault) error {
	if _, ok := handlers[op]; !ok {
		return fmt.Errorf("set fault: unknown operation %q", op)
	}
	return s.faults.Set(op, f)
}

// ClearFaults removes every scripted fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// Calls says how many requests of op reached the server; Throttled how many of them were
// refused for a quota (not counting scripted faults).
func (s *Server) Calls(op string) int64     { return load(&s.calls, op) }
func (s *Server) Throttled(op string) int64 { return load(&s.throttled, op) }

func load(m *sync.Map, op string) int64 {
	if v, ok := m.Load(op); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

func add(m *sync.Map, op string) {
	v, _ := m.LoadOrStore(op, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// APIError is an error answer in Kinesis' JSON shape.
type APIError struct {
	Code       string
	Message    string
	HTTPStatus int
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func apiErr(code, format string, args ...any) *APIError {
	return &APIError{Code: code, Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusBadRequest}
}

func invalid(format string, args ...any) *APIError {
	return apiErr("InvalidArgumentException", format, args...)
}

type handler func(s *Server, body []byte) (any, *APIError)

var handlers = map[string]handler{
	OpCreateStream:          (*Server).createStream,
	OpDescribeStream:        (*Server).describeStream,
	OpDescribeStreamSummary: (*Server).describeStreamSummary,
	OpListShards:            (*Server).listShards,
	OpGetShardIterator:      (*Server).getShardIterator,
	OpGetRecords:            (*Server).getRecords,
	OpPutRecord:             (*Server).putRecord,
	OpPutRecords:            (*Server).putRecords,
	OpSplitShard:            (*Server).splitShard,
	OpMergeShards:           (*Server).mergeShards,
}

// ServeHTTP answers one AWS JSON 1.1 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	h, known := handlers[op]
	if r.Method != http.MethodPost || !ok || !known {
		s.writeError(w, &APIError{Code: "UnknownOperationException", Message: "unknown or unsupported operation " + strconv.Quote(r.Header.Get("X-Amz-Target")), HTTPStatus: http.StatusBadRequest})
		return
	}
	add(&s.calls, op)
	if !s.cfg.AllowUnsigned && r.Header.Get("Authorization") == "" {
		s.writeError(w, &APIError{Code: "MissingAuthenticationTokenException", Message: "Missing Authentication Token", HTTPStatus: http.StatusBadRequest})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil || len(body) > maxRequestBytes {
		s.writeError(w, &APIError{Code: "SerializationException", Message: "request body unreadable or too large", HTTPStatus: http.StatusBadRequest})
		return
	}
	if f, hit := s.faults.Draw(op); hit {
		switch f.Kind {
		case emufault.Throttle:
			s.writeError(w, apiErr("ProvisionedThroughputExceededException", "Rate exceeded for the shard (scripted fault)."))
			return
		case emufault.InternalError:
			s.writeError(w, &APIError{Code: "InternalFailure", Message: "Internal service failure.", HTTPStatus: http.StatusInternalServerError})
			return
		case emufault.Unavailable:
			s.writeError(w, &APIError{Code: "ServiceUnavailable", Message: "Service Unavailable", HTTPStatus: http.StatusServiceUnavailable})
			return
		case emufault.Disconnect:
			emufault.Hangup(w, contentType, `{"Items":[{`)
			return
		case emufault.Slow:
			if !emufault.Wait(r, f.Delay) {
				return
			}
		}
	}
	out, e := h(s, body)
	if e != nil {
		if e.Code == "ProvisionedThroughputExceededException" || e.Code == "LimitExceededException" {
			add(&s.throttled, op)
		}
		s.writeError(w, e)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.writeError(w, &APIError{Code: "InternalFailure", Message: "encode answer: " + err.Error(), HTTPStatus: http.StatusInternalServerError})
		return
	}
	s.write(w, http.StatusOK, b)
}

func (s *Server) write(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-RequestId", strconv.FormatUint(s.requestID.Add(1), 10))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client may be gone; nothing to do about it
}

func (s *Server) writeError(w http.ResponseWriter, e *APIError) {
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	b, _ := json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	s.write(w, e.HTTPStatus, b)
}

func decode(body []byte, v any) *APIError {
	if err := json.Unmarshal(body, v); err != nil {
		return &APIError{Code: "SerializationException", Message: err.Error(), HTTPStatus: http.StatusBadRequest}
	}
	return nil
}
