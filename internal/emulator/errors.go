package emulator

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes the emulator answers with, spelled as AWS spells them in the X-Amzn-ErrorType
// header and the body's "__type".
const (
	CodeResourceNotFound        = "ResourceNotFoundException"
	CodeResourceAlreadyExists   = "ResourceAlreadyExistsException"
	CodeInvalidParameter        = "InvalidParameterException"
	CodeLimitExceeded           = "LimitExceededException"
	CodeServiceUnavailable      = "ServiceUnavailableException"
	CodeThrottling              = "ThrottlingException"
	CodeUnknownOperation        = "UnknownOperationException"
	CodeMissingAuthToken        = "MissingAuthenticationTokenException"
	CodeSerialization           = "SerializationException"
	CodeInternalFailure         = "InternalFailure"
	CodeServiceUnavailableFront = "ServiceUnavailable"
)

// APIError is an error answer of the CloudWatch Logs API. Over HTTP it becomes the status, the
// X-Amzn-ErrorType header and the body {"__type": Code, "message": Message}; the in-process
// helpers return it as is. Compare codes with errors.Is against the Err* sentinels.
type APIError struct {
	Code       string
	Message    string
	HTTPStatus int
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is an *APIError with the same Code, so that
// errors.Is(err, ErrResourceAlreadyExists) works whatever the message.
func (e *APIError) Is(target error) bool {
	var t *APIError
	return errors.As(target, &t) && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrResourceNotFound      = &APIError{Code: CodeResourceNotFound, HTTPStatus: http.StatusBadRequest}
	ErrResourceAlreadyExists = &APIError{Code: CodeResourceAlreadyExists, HTTPStatus: http.StatusBadRequest}
	ErrInvalidParameter      = &APIError{Code: CodeInvalidParameter, HTTPStatus: http.StatusBadRequest}
	ErrThrottling            = &APIError{Code: CodeThrottling, HTTPStatus: http.StatusBadRequest}
	ErrLimitExceeded         = &APIError{Code: CodeLimitExceeded, HTTPStatus: http.StatusBadRequest}
)

func invalidParam(format string, args ...any) *APIError {
	return &APIError{Code: CodeInvalidParameter, Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusBadRequest}
}

// validationError has the shape AWS gives constraint violations on request members; a nil value
// is a missing member, which AWS writes as "Value null".
func validationError(member string, value any, constraint string) *APIError {
	if value == nil {
		return invalidParam("1 validation error detected: Value null at '%s' failed to satisfy constraint: %s", member, constraint)
	}
	return invalidParam("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

func groupNotFound() *APIError {
	return &APIError{Code: CodeResourceNotFound, Message: "The specified log group does not exist.", HTTPStatus: http.StatusBadRequest}
}

func streamNotFound() *APIError {
	return &APIError{Code: CodeResourceNotFound, Message: "The specified log stream does not exist.", HTTPStatus: http.StatusBadRequest}
}

func invalidToken() *APIError {
	return invalidParam("The specified nextToken is invalid.")
}

func expiredToken() *APIError {
	return invalidParam("The specified nextToken has expired.")
}

var (
	errThrottled = &APIError{Code: CodeThrottling, Message: "Rate exceeded", HTTPStatus: http.StatusBadRequest}
	errInternal  = &APIError{Code: CodeServiceUnavailable, Message: "The service cannot complete the request.", HTTPStatus: http.StatusInternalServerError}
	errFront503  = &APIError{Code: CodeServiceUnavailableFront, Message: "Service Unavailable", HTTPStatus: http.StatusServiceUnavailable}
)

// RejectedEventsError is returned by the in-process PutLogEvents when AWS would have accepted the
// call but refused some of its events (rejectedLogEventsInfo): the others are stored.
type RejectedEventsError struct {
	Group, Stream string
	Rejected      RejectedInfo
	Accepted      int
}

func (e *RejectedEventsError) Error() string {
	return fmt.Sprintf("put log events (group %q, stream %q): %d accepted, rejected %+v", e.Group, e.Stream, e.Accepted, e.Rejected)
}
