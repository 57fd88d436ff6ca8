package ingest

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// errorClass is what the retry gate and the pollers branch on.
type errorClass int

const (
	classOK errorClass = iota
	// classThrottled: the service asked us to slow down; retried with back-off.
	classThrottled
	// classTransient: 5xx, dropped connections, truncated bodies; retried with back-off.
	classTransient
	// classNotFound: the log group does not exist (any more).
	classNotFound
	// classInvalidParameter: a bad request; with a nextToken, the token has expired.
	classInvalidParameter
	// classCanceled: our own context ended.
	classCanceled
	// classPermanent: anything else (access denied, validation); not retried by the gate.
	classPermanent
)

// throttleCodes are the error codes AWS services use for "slow down". FilterLogEvents answers
// ThrottlingException in practice; the others are listed so that a proxy or another partition
// answering differently is still treated as throttling, never as a hard failure.
var throttleCodes = map[string]bool{
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"ThrottledException":                     true,
	"RequestThrottledException":              true,
	"RequestThrottled":                       true,
	"TooManyRequestsException":               true,
	"RequestLimitExceeded":                   true,
	"LimitExceededException":                 true,
	"ProvisionedThroughputExceededException": true,
	"SlowDown":                               true,
	"PriorRequestNotComplete":                true,
	"BandwidthLimitExceeded":                 true,
	"EC2ThrottledException":                  true,
}

// transientCodes are server-side failures worth retrying.
var transientCodes = map[string]bool{
	"ServiceUnavailableException": true,
	"ServiceUnavailable":          true,
	"InternalFailure":             true,
	"InternalServerError":         true,
	"InternalError":               true,
	"RequestTimeout":              true,
	"RequestTimeoutException":     true,
}

// classify maps an error from the SDK to an errorClass. Errors without an API error code that
// are not our own cancellation (connection resets, EOF, truncated bodies) are transient.
func classify(ctx context.Context, err error) errorClass {
	if err == nil {
		return classOK
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ctx.Err())) {
		return classCanceled
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		switch {
		case throttleCodes[code]:
			return classThrottled
		case transientCodes[code]:
			return classTransient
		case code == "ResourceNotFoundException":
			return classNotFound
		case code == "InvalidParameterException":
			return classInvalidParameter
		}
		if c, ok := statusClass(err); ok {
			return c
		}
		return classPermanent
	}
	if c, ok := statusClass(err); ok {
		return c
	}
	var se *smithy.SerializationError
	if errors.As(err, &se) {
		return classPermanent
	}
	return classTransient
}

// statusClass classifies err by the HTTP status of its response, when it has an error status:
// 429 is throttling, 5xx transient, other 4xx permanent.
func statusClass(err error) (errorClass, bool) {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		return 0, false
	}
	switch status := re.HTTPStatusCode(); {
	case status == 429:
		return classThrottled, true
	case status >= 500:
		return classTransient, true
	case status >= 400:
		return classPermanent, true
	}
	return 0, false
}

// ErrLogGroupNotFound is returned by a CloudWatch source whose log group does not exist.
var ErrLogGroupNotFound = errors.New("log group not found")

// OptionError names an invalid field of Options and why it is invalid.
type OptionError struct {
	Field  string
	Value  any
	Reason string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("ingest options: %s = %v: %s", e.Field, e.Value, e.Reason)
}
