package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

var discard = slog.New(slog.DiscardHandler)

type count int

func (c *count) Inc() { *c++ }

// TestRecover: a panic is answered as a problem+json 500 carrying the request id,
// counted, and logged with the request id, never with the headers.
func TestRecover(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	var panics count
	e := echo.New()
	e.HTTPErrorHandler = ErrorHandler(log)
	e.Use(RequestID(), Recover(log, &panics))
	e.GET("/boom", func(echo.Context) error { panic("nil map somewhere") })
	req := httptest.NewRequest(http.MethodGet, "/boom", nil)
	req.Header.Set("Authorization", "Bearer super-secret-credential")
	req.Header.Set(HeaderRequestID, "trace-7")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)

	var p Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("not a problem: %s", rec.Body)
	}
	if rec.Code != 500 || rec.Header().Get("Content-Type") != "application/problem+json" || p.RequestID != "trace-7" || p.Detail != "internal error" {
		t.Errorf("answer %d %s", rec.Code, rec.Body)
	}
	if panics != 1 {
		t.Errorf("%d panics counted, want 1", panics)
	}
	line := logs.String()
	for _, want := range []string{`"msg":"panic"`, `"request_id":"trace-7"`, `"route":"/boom"`, `nil map somewhere`, `"stack":`} {
		if !strings.Contains(line, want) {
			t.Errorf("the log lacks %s: %s", want, line)
		}
	}
	if strings.Contains(line, "super-secret-credential") {
		t.Errorf("the credential was logged: %s", line)
	}
}
