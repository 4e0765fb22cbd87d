package switchyard

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

var (
	// ErrNotReady: the client holds no definitions yet. New wraps it when it gives up
	// waiting; the client keeps trying in the background.
	ErrNotReady = errors.New("switchyard: flag definitions not loaded yet")

	// ErrKeyRefused: the evaluator refused the SDK key (401 or 403). The client stops
	// contacting the evaluator; it keeps serving the definitions it holds, if any.
	ErrKeyRefused = errors.New("switchyard: SDK key refused")

	// ErrClosed: the client was closed.
	ErrClosed = errors.New("switchyard: client closed")
)

// StatusError is an answer of the evaluator with an unexpected HTTP status.
type StatusError struct {
	Op         string // "GET /api/v1/flags", "GET /api/v1/stream", "POST /api/v1/events"
	StatusCode int
	// RetryAfter is the delay the evaluator asked for (Retry-After), or zero.
	RetryAfter time.Duration
	// Detail is the beginning of the answer's body, when it had one.
	Detail string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("switchyard: %s: %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	switch e.StatusCode {
	case http.StatusUnauthorized:
		msg += " (the SDK key is unknown, revoked or expired)"
	case http.StatusForbidden:
		msg += " (the SDK key may not do this: downloading definitions needs a key of kind \"server\"; " +
			"a \"client\" key is for browsers and mobile apps, and a server key is refused in a request with an Origin header)"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrKeyRefused) hold for 401 and 403.
func (e *StatusError) Unwrap() error {
	if refused(e.StatusCode) {
		return ErrKeyRefused
	}
	return nil
}

func refused(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden
}

// permanent reports whether an error will not go away by retrying: the key is refused.
func permanent(err error) bool { return errors.Is(err, ErrKeyRefused) }

func statusError(op string, resp *http.Response, body []byte) *StatusError {
	e := &StatusError{Op: op, StatusCode: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	if len(body) > 0 {
		d := string(body)
		if len(d) > 200 {
			d = d[:200] + "…"
		}
		e.Detail = d
	}
	return e
}

// retryAfter reads a Retry-After header in seconds (the evaluator's form), or returns 0.
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return min(time.Duration(s)*time.Second, 10*time.Minute)
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(time.Until(t), 0), 10*time.Minute)
	}
	return 0
}
