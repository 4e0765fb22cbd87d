package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{domain.Errorf(domain.CodeInvalid, "x"), 400},
		{domain.Errorf(domain.CodeUnauthorized, "x"), 401},
		{domain.Errorf(domain.CodeForbidden, "x"), 403},
		{domain.Errorf(domain.CodeNotFound, "x"), 404},
		{domain.Errorf(domain.CodeConflict, "x"), 409},
		{domain.Errorf(domain.CodePrecondition, "x"), 428},
		{domain.Errorf(domain.CodeTooLarge, "x"), 413},
		{domain.Errorf(domain.CodeRateLimited, "x"), 429},
		{domain.Errorf(domain.CodeLimit, "x"), 422},
		{domain.Unprocessable("x"), 422},
		{domain.Errorf(domain.CodeUnavailable, "x"), 503},
		{errors.New("boom"), 500},
		{fmt.Errorf("load: %w", context.Canceled), StatusClientClosed},
		{fmt.Errorf("load: %w", context.DeadlineExceeded), 504},
		{echo.ErrMethodNotAllowed, 405},
	}
	for _, tt := range tests {
		if got := Status(tt.err); got != tt.want {
			t.Errorf("Status(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestProblem(t *testing.T) {
	internal := NewProblem(fmt.Errorf("query: %w", errors.New("pq: password authentication failed")), "r1")
	if internal.Detail != "internal error" || internal.Status != 500 {
		t.Errorf("5xx details must not leak: %+v", internal)
	}
	conflict := NewProblem(&domain.Error{Code: domain.CodeConflict, Message: "stale",
		Fields: []domain.FieldError{{Field: "version", Message: "is 3"}}, Extra: map[string]any{"current_version": 3}}, "r2")
	b, err := json.Marshal(conflict)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["current_version"] != float64(3) || m["status"] != float64(409) || m["request_id"] != "r2" || m["code"] != "conflict" {
		t.Errorf("problem: %s", b)
	}
	tooLarge := NewProblem(echo.ErrStatusRequestEntityTooLarge, "")
	if tooLarge.Status != http.StatusRequestEntityTooLarge || len(tooLarge.Errors) != 1 || tooLarge.Errors[0].Field != "body" {
		t.Errorf("413: %+v", tooLarge)
	}
}

func TestRequestID(t *testing.T) {
	e := echo.New()
	var seen []string
	h := RequestID()(func(c echo.Context) error {
		seen = append(seen, RequestIDOf(c))
		return c.NoContent(http.StatusNoContent)
	})
	tests := []struct {
		name, sent string
		adopted    bool
	}{
		{"sane id adopted", "trace-42.a:b_c", true},
		{"none sent", "", false},
		{"unsafe characters", "a b\n", false},
		{"too long", strings.Repeat("a", 129), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.sent != "" {
				req.Header.Set(HeaderRequestID, tt.sent)
			}
			rec := httptest.NewRecorder()
			if err := h(e.NewContext(req, rec)); err != nil {
				t.Fatal(err)
			}
			got := rec.Header().Get(HeaderRequestID)
			if got != seen[len(seen)-1] {
				t.Fatalf("header %q, context %q", got, seen[len(seen)-1])
			}
			if tt.adopted != (got == tt.sent) || !validRequestID(got) {
				t.Fatalf("sent %q, got %q", tt.sent, got)
			}
		})
	}
	ids := map[string]bool{}
	for range 1000 {
		id := newRequestID()
		if len(id) != 24 || ids[id] {
			t.Fatalf("request id %q: wrong length or repeated", id)
		}
		ids[id] = true
	}
}

func TestAccessLogLevels(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e := echo.New()
	for _, tt := range []struct {
		status int
		logged string // the level of the line, or "" when none is written at Info
	}{{200, ""}, {404, "INFO"}, {503, "WARN"}} {
		buf.Reset()
		h := AccessLog(log, slog.LevelDebug)(func(c echo.Context) error { return c.NoContent(tt.status) })
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.Header.Set("Authorization", "Bearer secret-token")
		if err := h(e.NewContext(req, httptest.NewRecorder())); err != nil {
			t.Fatal(err)
		}
		line := buf.String()
		if tt.logged == "" && line != "" || tt.logged != "" && !strings.Contains(line, `"level":"`+tt.logged+`"`) {
			t.Errorf("status %d logged %q, want level %q", tt.status, line, tt.logged)
		}
		if strings.Contains(line, "secret-token") {
			t.Errorf("the credential was logged: %s", line)
		}
	}
}
