package ec2emu

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes the emulator answers with, as EC2 spells them.
const (
	CodeRequestLimitExceeded        = "RequestLimitExceeded"
	CodeUnauthorizedOperation       = "UnauthorizedOperation"
	CodeInvalidParameterValue       = "InvalidParameterValue"
	CodeInvalidParameterCombination = "InvalidParameterCombination"
	CodeInvalidAction               = "InvalidAction"
	CodeMissingAction               = "MissingAction"
	CodeAuthFailure                 = "AuthFailure"
	CodeDryRunOperation             = "DryRunOperation"
	CodeInternalError               = "InternalError"
	CodeUnavailable                 = "Unavailable"
	CodeInvalidNetworkInterfaceID   = "InvalidNetworkInterfaceID.NotFound"
	CodeInvalidInstanceID           = "InvalidInstanceID.NotFound"
	CodeInvalidSubnetID             = "InvalidSubnetID.NotFound"
	CodeInvalidVpcID                = "InvalidVpcID.NotFound"
)

// APIError is an error answer of the EC2 API. Over HTTP it becomes the status and the body
// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>, which
// is what the SDK's ec2query protocol reads (errors carry no header, unlike AWS JSON).
type APIError struct {
	Code       string
	Message    string
	HTTPStatus int
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is an *APIError with the same Code.
func (e *APIError) Is(target error) bool {
	var t *APIError
	return errors.As(target, &t) && t.Code == e.Code
}

func invalidValue(format string, args ...any) *APIError {
	return &APIError{Code: CodeInvalidParameterValue, Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusBadRequest}
}

func notFound(code, format string, args ...any) *APIError {
	return &APIError{Code: code, Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusBadRequest}
}

var (
	// EC2 answers throttling with 503 and this exact code; the SDK's retryer knows it as a
	// throttle error.
	errThrottled   = &APIError{Code: CodeRequestLimitExceeded, Message: "Request limit exceeded.", HTTPStatus: http.StatusServiceUnavailable}
	errInternal    = &APIError{Code: CodeInternalError, Message: "An internal error has occurred", HTTPStatus: http.StatusInternalServerError}
	errUnavailable = &APIError{Code: CodeUnavailable, Message: "The server is overloaded and can't handle the request.", HTTPStatus: http.StatusServiceUnavailable}
	errDryRun      = &APIError{Code: CodeDryRunOperation, Message: "Request would have succeeded, but DryRun flag is set.", HTTPStatus: http.StatusPreconditionFailed}
)

// unauthorized is EC2's answer to a caller whose policies do not allow the action.
func (s *Server) unauthorized(a action) *APIError {
	name := actionNames[a]
	return &APIError{
		Code: CodeUnauthorizedOperation,
		Message: fmt.Sprintf("You are not authorized to perform this operation. User: arn:aws:sts::%s:assumed-role/flowd/flowd is not authorized to perform: ec2:%s because no identity-based policy allows the ec2:%s action",
			s.cfg.AccountID, name, name),
		HTTPStatus: http.StatusForbidden,
	}
}
