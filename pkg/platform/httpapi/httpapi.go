// Package httpapi holds what both services' HTTP layers share: the one mapping from
// errors to HTTP statuses and problem+json bodies, strict JSON decoding that names the
// bad field, request ids, access logs and pagination parameters.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
)

// HeaderRequestID carries the request id in both directions.
const HeaderRequestID = "X-Request-Id"

// StatusClientClosed is the status logged when the client went away (nginx's 499).
const StatusClientClosed = 499

var statuses = map[domain.Code]int{
	domain.CodeInvalid:       http.StatusBadRequest,
	domain.CodeUnauthorized:  http.StatusUnauthorized,
	domain.CodeForbidden:     http.StatusForbidden,
	domain.CodeNotFound:      http.StatusNotFound,
	domain.CodeConflict:      http.StatusConflict,
	domain.CodePrecondition:  http.StatusPreconditionRequired,
	domain.CodeTooLarge:      http.StatusRequestEntityTooLarge,
	domain.CodeLimit:         http.StatusUnprocessableEntity,
	domain.CodeUnprocessable: http.StatusUnprocessableEntity,
	domain.CodeRateLimited:   http.StatusTooManyRequests,
	domain.CodeUnavailable:   http.StatusServiceUnavailable,
	domain.CodeInternal:      http.StatusInternalServerError,
}

// Status returns the HTTP status of an error, the one place codes become statuses. A
// canceled request is 499 and a deadline 504, whatever wraps them.
func Status(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, context.Canceled):
		return StatusClientClosed
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code
	}
	if s, ok := statuses[domain.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem+json body with the field errors of DESIGN.md.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Code      domain.Code         `json:"code"`
	Detail    string              `json:"detail"`
	Errors    []domain.FieldError `json:"errors"`
	RequestID string              `json:"request_id,omitempty"`
	// Extra holds extension members, written beside the standard ones.
	Extra map[string]any `json:"-"`
}

// MarshalJSON writes the extension members at the top level, as RFC 9457 wants.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Extra) == 0 {
		return b, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range p.Extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// codeOfStatus names the code of a status that did not come from a domain error.
func codeOfStatus(status int) domain.Code {
	for c, s := range statuses {
		if s == status {
			return c
		}
	}
	if status >= 500 {
		return domain.CodeInternal
	}
	return domain.CodeInvalid
}

// NewProblem builds the client-safe problem for err. Details of 5xx errors stay out of
// it; the caller logs them.
func NewProblem(err error, requestID string) Problem {
	status := Status(err)
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Code:      domain.ErrorCode(err),
		Detail:    domain.ErrorMessage(err),
		Errors:    domain.ErrorFields(err),
		RequestID: requestID,
		Extra:     domain.ErrorExtra(err),
	}
	var he *echo.HTTPError
	switch {
	case status == StatusClientClosed:
		p.Title, p.Detail = "Client Closed Request", "the request was canceled"
	case status == http.StatusGatewayTimeout:
		p.Detail = "the request took too long"
	case errors.As(err, &he):
		p.Code = codeOfStatus(he.Code)
		if msg, ok := he.Message.(string); ok {
			p.Detail = msg
		} else {
			p.Detail = http.StatusText(he.Code)
		}
	}
	if p.Status == http.StatusRequestEntityTooLarge && len(p.Errors) == 0 {
		p.Errors = []domain.FieldError{{Field: "body", Message: "is larger than the limit"}}
	}
	if p.Title == "" {
		p.Title = http.StatusText(http.StatusInternalServerError)
	}
	if p.Errors == nil {
		p.Errors = []domain.FieldError{}
	}
	return p
}

// ErrorHandler writes every error as problem+json and logs server errors with their
// cause, which clients never see.
func ErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := NewProblem(err, RequestIDOf(c))
		if p.Status >= 500 && p.Status != http.StatusGatewayTimeout {
			logger.ErrorContext(c.Request().Context(), "request failed",
				"request_id", p.RequestID, "method", c.Request().Method, "path", c.Path(), "error", err.Error())
		}
		if p.Status == http.StatusUnauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="switchyard"`)
		}
		if secs, ok := p.Extra["retry_after"].(int); ok {
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		}
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(p.Status)
			return
		}
		_ = c.JSON(p.Status, p)
	}
}

// validRequestID reports whether a client's X-Request-Id is safe to adopt: 1 to 128
// characters from [A-Za-z0-9._:-].
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '.', b == '_', b == ':', b == '-':
		default:
			return false
		}
	}
	return true
}

// Request ids are a random per-process prefix and a counter: unique without a
// random read per request, which showed in profiles under load.
var (
	idPrefix  = newIDPrefix()
	idCounter atomic.Uint64
)

func newIDPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newRequestID returns 24 hex digits: the process prefix, then the counter.
func newRequestID() string {
	var b [24]byte
	copy(b[:], idPrefix)
	n := idCounter.Add(1)
	const digits = "0123456789abcdef"
	for i := 23; i >= 12; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// RequestID adopts the client's X-Request-Id when it is sane, or makes one, echoes it
// in the response, and carries it in the request's context for logs and audit rows.
func RequestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			id := req.Header.Get(HeaderRequestID)
			if !validRequestID(id) {
				id = newRequestID()
			}
			// The answer's header is where the id lives for the request's life: a copy
			// of the request to carry it in its context would cost an allocation of the
			// whole request on every call.
			c.Response().Header()[HeaderRequestID] = []string{id} // canonical already
			return next(c)
		}
	}
}

// RequestIDOf returns the request id of c (RequestID sets it on the answer).
func RequestIDOf(c echo.Context) string {
	if v := c.Response().Header()[HeaderRequestID]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// AccessLog logs one line per request: method, route, status, duration, size and id.
// Headers, and with them credentials, are never logged. Answers below 400 are logged at
// the success level (the evaluator passes Debug: at its request rates a line per
// evaluation costs more than the evaluation, and metrics count them), client errors at
// Info, server errors at Warn.
func AccessLog(logger *slog.Logger, success slog.Level) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err) // write the problem now, so the line shows its status and size
			}
			status := c.Response().Status
			level := success
			switch {
			case status >= 500:
				level = slog.LevelWarn
			case status >= 400:
				level = slog.LevelInfo
			}
			ctx := c.Request().Context()
			if !logger.Enabled(ctx, level) {
				return nil
			}
			logger.LogAttrs(ctx, level, "http",
				slog.String("method", c.Request().Method),
				slog.String("route", c.Path()),
				slog.Int("status", status),
				slog.Duration("duration", time.Since(start)),
				slog.Int64("bytes", c.Response().Size),
				slog.String("request_id", RequestIDOf(c)))
			return nil
		}
	}
}

// JSONSerializer encodes without escaping <, > and &: these are API bodies, not HTML.
type JSONSerializer struct{ echo.DefaultJSONSerializer }

// Serialize writes i as JSON.
func (JSONSerializer) Serialize(c echo.Context, i any, indent string) error {
	enc := json.NewEncoder(c.Response())
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(i)
}

// BodyLimit caps request bodies at n bytes: larger ones fail with 413.
func BodyLimit(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > n {
				return domain.Errorf(domain.CodeTooLarge, "the request body is larger than %d bytes", n)
			}
			// A body of a declared length is read no further than that length by
			// net/http: only one of unknown length (chunked) needs the limiting reader,
			// which costs an allocation.
			if req.ContentLength < 0 {
				req.Body = http.MaxBytesReader(c.Response(), req.Body, n)
			}
			return next(c)
		}
	}
}
