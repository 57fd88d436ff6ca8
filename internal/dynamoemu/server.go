// Package dynamoemu is an in-memory Amazon DynamoDB for flowd's tests: the subset the lease
// table needs, spoken over the real wire protocol (AWS JSON 1.0: POST /, X-Amz-Target:
// DynamoDB_20120810.<Operation>, application/x-amz-json-1.0), so aws-sdk-go-v2's dynamodb
// client talks to it unchanged (only the endpoint differs).
//
// Operations: CreateTable, DescribeTable, DeleteTable, GetItem, PutItem, UpdateItem, DeleteItem,
// Scan. Writes are atomic per item and take ConditionExpression (comparisons = <> < <= > >=,
// BETWEEN, IN, attribute_exists, attribute_not_exists, begins_with, contains, AND, OR, NOT,
// parentheses) with ExpressionAttributeNames and ExpressionAttributeValues; a false condition is
// ConditionalCheckFailedException (with the old item when ReturnValuesOnConditionCheckFailure
// is ALL_OLD). UpdateExpression takes SET (with + and -, if_not_exists), REMOVE, ADD and DELETE.
// Names and values given but unused are a ValidationException, as in DynamoDB, which catches
// typos in callers.
//
// Reads: GetItem and Scan with ConsistentRead see every acknowledged write. Without it, and
// with Config.StaleReadProbability > 0, a read may answer the item as it was before its last
// write (DynamoDB's eventually consistent reads lag by up to about a second), so callers that
// need the truth must ask for a consistent read.
//
// Quotas and faults: Config.RequestsPerSecond bounds each table's requests (token bucket on
// the server's clock; beyond it ProvisionedThroughputExceededException, as a provisioned table
// answers), and SetFault scripts throttling (ThrottlingException), HTTP 500 InternalServerError,
// HTTP 503, slow answers and connections closed in the middle of an answer (internal/emufault).
// Answers carry X-Amz-Crc32, which the SDK checks.
//
// Known differences from DynamoDB: no indexes, streams, transactions, batch operations, Query,
// TTL, PartiQL or legacy parameters (Expected, AttributeUpdates, ScanFilter: refused with a
// ValidationException); tables are ACTIVE as soon as they are created; nested document paths in
// expressions are refused; empty L and M values are dropped from answers; item size is checked
// on the JSON form (400 KB); Scan returns items in key order, not hash order; signatures are not
// verified (an Authorization header is required unless Config.AllowUnsigned).
package dynamoemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
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

	"github.com/flowd-dev/flowd/internal/emufault"
)

const (
	targetPrefix    = "DynamoDB_20120810."
	contentType     = "application/x-amz-json-1.0"
	maxRequestBytes = 16 << 20
	maxItemBytes    = 400 << 10
)

// Operation names.
const (
	OpCreateTable   = "CreateTable"
	OpDescribeTable = "DescribeTable"
	OpDeleteTable   = "DeleteTable"
	OpGetItem       = "GetItem"
	OpPutItem       = "PutItem"
	OpUpdateItem    = "UpdateItem"
	OpDeleteItem    = "DeleteItem"
	OpScan          = "Scan"
)

// Config configures a Server. The zero value is valid.
type Config struct {
	// Clock is the server's time (nil = time.Now): table creation times and the quota buckets.
	Clock func() time.Time
	// RequestsPerSecond bounds each table's item requests (0 = unlimited; burst = ceil(rate)).
	RequestsPerSecond float64
	// StaleReadProbability: an eventually consistent read answers the item's previous version
	// with this probability.
	StaleReadProbability float64
	Seed                 uint64
	Region, AccountID    string // us-east-1, 123456789012 for ARNs
	AllowUnsigned        bool
}

// Server is an in-memory DynamoDB; an http.Handler. Safe for concurrent use.
type Server struct {
	cfg    Config
	faults *emufault.Table

	mu     sync.Mutex
	tables map[string]*table
	rng    *rand.Rand

	requestID atomic.Uint64
	calls     sync.Map // op -> *atomic.Int64
}

type table struct {
	name      string
	hashKey   string
	rangeKey  string
	attrTypes map[string]string
	created   time.Time
	items     map[string]*entry
	limiter   *rate.Limiter
}

type entry struct {
	cur, prev Item // cur nil: deleted (prev kept for stale reads)
}

// New validates cfg and returns an empty server.
func New(cfg Config) (*Server, error) {
	var errs []error
	if cfg.RequestsPerSecond < 0 || math.IsNaN(cfg.RequestsPerSecond) {
		errs = append(errs, fmt.Errorf("dynamoemu config: RequestsPerSecond %v: must be >= 0", cfg.RequestsPerSecond))
	}
	if !(cfg.StaleReadProbability >= 0 && cfg.StaleReadProbability <= 1) {
		errs = append(errs, fmt.Errorf("dynamoemu config: StaleReadProbability %v: must be in [0, 1]", cfg.StaleReadProbability))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "123456789012"
	}
	return &Server{cfg: cfg, faults: emufault.NewTable(cfg.Seed), tables: map[string]*table{}, rng: rand.New(rand.NewPCG(cfg.Seed, 7))}, nil
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

// FaultHits says how many calls of op a fault has spoiled.
func (s *Server) FaultHits(op string) int { return s.faults.Hits(op) }

// Calls says how many requests of op reached the server.
func (s *Server) Calls(op string) int64 {
	if v, ok := s.calls.Load(op); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// APIError is an error answer in DynamoDB's shape.
type APIError struct {
	Code       string
	Message    string
	HTTPStatus int
	Item       Item // ConditionalCheckFailedException with ReturnValuesOnConditionCheckFailure=ALL_OLD
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func validation(format string, args ...any) *APIError {
	return &APIError{Code: "ValidationException", Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusBadRequest}
}

var errNotFound = &APIError{Code: "ResourceNotFoundException", Message: "Requested resource not found", HTTPStatus: http.StatusBadRequest}

type handler func(s *Server, body []byte) (any, *APIError)

var handlers = map[string]handler{
	OpCreateTable:   (*Server).createTable,
	OpDescribeTable: (*Server).describeTable,
	OpDeleteTable:   (*Server).deleteTable,
	OpGetItem:       (*Server).getItem,
	OpPutItem:       (*Server).putItem,
	OpUpdateItem:    (*Server).updateItem,
	OpDeleteItem:    (*Server).deleteItem,
	OpScan:          (*Server).scan,
}

// ServeHTTP answers one AWS JSON 1.0 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	h, known := handlers[op]
	if r.Method != http.MethodPost || !ok || !known {
		s.writeError(w, &APIError{Code: "UnknownOperationException", Message: "unknown or unsupported operation " + strconv.Quote(r.Header.Get("X-Amz-Target")), HTTPStatus: http.StatusBadRequest})
		return
	}
	c, _ := s.calls.LoadOrStore(op, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	if !s.cfg.AllowUnsigned && r.Header.Get("Authorization") == "" {
		s.writeError(w, &APIError{Code: "MissingAuthenticationTokenException", Message: "Request is missing Authentication Token", HTTPStatus: http.StatusBadRequest})
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
			s.writeError(w, &APIError{Code: "ThrottlingException", Message: "Rate of requests exceeds the allowed throughput.", HTTPStatus: http.StatusBadRequest})
			return
		case emufault.InternalError:
			s.writeError(w, &APIError{Code: "InternalServerError", Message: "Internal server error", HTTPStatus: http.StatusInternalServerError})
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
	out, apiErr := h(s, body)
	if apiErr != nil {
		s.writeError(w, apiErr)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.writeError(w, &APIError{Code: "InternalServerError", Message: "encode answer: " + err.Error(), HTTPStatus: http.StatusInternalServerError})
		return
	}
	s.write(w, http.StatusOK, b)
}

func (s *Server) write(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-RequestId", strconv.FormatUint(s.requestID.Add(1), 10))
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client may be gone; nothing to do about it
}

func (s *Server) writeError(w http.ResponseWriter, e *APIError) {
	ns := "com.amazonaws.dynamodb.v20120810#"
	if e.Code == "ValidationException" || e.Code == "SerializationException" {
		ns = "com.amazon.coral.validate#"
	}
	body := map[string]any{"__type": ns + e.Code, "message": e.Message}
	if e.Item != nil {
		body["Item"] = e.Item
	}
	b, _ := json.Marshal(body)
	s.write(w, e.HTTPStatus, b)
}

func decode(body []byte, v any) *APIError {
	if err := json.Unmarshal(body, v); err != nil {
		return &APIError{Code: "SerializationException", Message: err.Error(), HTTPStatus: http.StatusBadRequest}
	}
	return nil
}

// table looks up a table and charges one request to its quota; the caller holds s.mu.
func (s *Server) table(name string) (*table, *APIError) {
	if name == "" {
		return nil, validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	t, ok := s.tables[name]
	if !ok {
		return nil, errNotFound
	}
	if t.limiter != nil && !t.limiter.AllowN(s.cfg.Clock(), 1) {
		return nil, &APIError{Code: "ProvisionedThroughputExceededException", Message: "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.", HTTPStatus: http.StatusBadRequest}
	}
	return t, nil
}
