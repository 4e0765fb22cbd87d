package domain

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an Error. Each code maps to one HTTP status in one place
// (package httpapi); storage adapters translate driver errors into codes at their edge.
type Code string

// Error codes.
const (
	CodeInvalid       Code = "invalid"       // the request is malformed or breaks a rule
	CodeUnauthorized  Code = "unauthorized"  // no valid credentials
	CodeForbidden     Code = "forbidden"     // valid credentials, not allowed
	CodeNotFound      Code = "not_found"     // the addressed resource does not exist
	CodeConflict      Code = "conflict"      // duplicate key or stale version
	CodePrecondition  Code = "precondition"  // a required version (If-Match) is missing
	CodeTooLarge      Code = "too_large"     // the body is over the limit
	CodeLimit         Code = "limit"         // a documented limit (flags per project ...) is reached
	CodeUnprocessable Code = "unprocessable" // well-formed, but what it refers to does not allow it
	CodeRateLimited   Code = "rate_limited"  // too many attempts
	CodeUnavailable   Code = "unavailable"   // a dependency is down
	CodeInternal      Code = "internal"      // a bug or an unexpected failure
)

// FieldError names one bad field by its JSON path (rules[2].conditions[0].values) and
// says what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type of the application. Message is safe to show a client;
// Err, the cause, is for logs only.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	// Extra holds client-safe facts that help the client recover, such as the current
	// version after a conflict; problem+json shows them as extension members.
	Extra map[string]any
	Err   error
}

// Errorf returns an Error with a formatted client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns the error of bad input: "invalid " + what ("request body", "query",
// "context", "flag"), naming each field at fault and what is wrong with it.
func Invalid(what string, fields ...FieldError) *Error {
	return &Error{Code: CodeInvalid, Message: "invalid " + what, Fields: fields}
}

// InvalidField is Invalid with one field.
func InvalidField(what, field, message string) *Error {
	return Invalid(what, FieldError{Field: field, Message: message})
}

// Wrap returns an Error of the given code whose cause is err.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// RateLimited returns the 429 of a limit: what was limited, and the whole seconds
// until the client may try again (problem+json shows retry_after; the HTTP layer sets
// Retry-After from it).
func RateLimited(what string, wait time.Duration) *Error {
	secs := int(wait.Seconds())
	if time.Duration(secs)*time.Second < wait || secs < 1 {
		secs++
	}
	return &Error{Code: CodeRateLimited, Message: fmt.Sprintf("%s; try again in %d seconds", what, secs),
		Extra: map[string]any{"retry_after": secs}}
}

// LimitReached returns the 422 of a count limit (domain.Max...): a client that hits
// one has to remove something first, so it is not a malformed request.
func LimitReached(field, what string, limit int) *Error {
	return &Error{Code: CodeLimit, Message: fmt.Sprintf("limit reached: at most %d %s", limit, what),
		Fields: []FieldError{{Field: field, Message: fmt.Sprintf("at most %d %s", limit, what)}},
		Extra:  map[string]any{"limit": limit}}
}

// Unprocessable returns the 422 of a request that is well-formed but cannot be done as
// it stands: it names something that is not what it must be (an audit entry that is
// not a configuration change), or what it would restore no longer fits (a variant
// since removed). Each field says which.
func Unprocessable(message string, fields ...FieldError) *Error {
	return &Error{Code: CodeUnprocessable, Message: message, Fields: fields}
}

// Busy returns the 503 of a capacity limit the client cannot fix (this process holds
// as much as it may): the message says which, and the client may retry after wait.
func Busy(message string, wait time.Duration) *Error {
	e := RateLimited(message, wait)
	e.Code = CodeUnavailable
	return e
}

// RetryAfter returns the seconds an error asks the client to wait (a rate limit, a
// capacity limit), or 0.
func RetryAfter(err error) int {
	var e *Error
	if errors.As(err, &e) {
		if s, ok := e.Extra["retry_after"].(int); ok {
			return s
		}
	}
	return 0
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	for _, f := range e.Fields {
		s += "; " + f.Field + ": " + f.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the code of the first Error in err's chain, CodeInternal for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of err: the message of its Error, or a
// generic one for errors that carry no such message.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "internal error"
}

// ErrorExtra returns the extension members of err's Error, if any.
func ErrorExtra(err error) map[string]any {
	var e *Error
	if errors.As(err, &e) {
		return e.Extra
	}
	return nil
}

// ErrorFields returns the field errors of err's Error, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
