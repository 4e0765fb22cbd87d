package testinfra

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Client sends JSON requests to a service under test with a credential.
type Client struct {
	T    testing.TB
	URL  string // base URL
	Auth string // the Authorization header sent by default
	// Check, when set, sees every response; an error fails the test (the harnesses
	// validate responses against the OpenAPI document this way).
	Check func(req *http.Request, r Response) error
}

// Response is a service's answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object, failing the test when it is not one.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object (%d): %s", r.Status, r.Body)
	}
	return m
}

// Fields returns the field names of a problem's errors.
func (r Response) Fields(t testing.TB) []string {
	t.Helper()
	var p struct {
		Errors []struct{ Field, Message string }
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("not a problem: %s", r.Body)
	}
	out := make([]string, len(p.Errors))
	for i, e := range p.Errors {
		out[i] = e.Field
	}
	return out
}

// Do sends a request; body is JSON-encoded unless it is a string or []byte. Extra
// headers come as name, value pairs; an empty value removes the header.
func (c *Client) Do(method, path string, body any, headers ...string) Response {
	c.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.T.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.URL+path, rd)
	if err != nil {
		c.T.Fatal(err)
	}
	req.Header.Set("Authorization", c.Auth)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.T.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := Response{Status: res.StatusCode, Header: res.Header, Body: raw}
	if c.Check != nil {
		if err := c.Check(req, r); err != nil {
			c.T.Errorf("response does not match the OpenAPI document: %v", err)
		}
	}
	return r
}

// Must is Do, failing the test unless the status is want.
func (c *Client) Must(want int, method, path string, body any, headers ...string) Response {
	c.T.Helper()
	r := c.Do(method, path, body, headers...)
	if r.Status != want {
		c.T.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// Eventually retries cond until it holds, failing the test after timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", timeout, what)
}

// CheckOperationsListener: metrics and profiles answer on the operations listener
// only; on the public port they are 404.
func CheckOperationsListener(t testing.TB, public, ops, metric string) {
	t.Helper()
	get := func(url string) (int, string) {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/cmdline"} {
		if status, _ := get(public + path); status != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404", path, status)
		}
	}
	if status, body := get(ops + "/metrics"); status != http.StatusOK || !strings.Contains(body, metric) || !strings.Contains(body, "_http_panics_total 0") {
		t.Errorf("ops /metrics: %d, want 200 with %s and the panic counter", status, metric)
	}
	if status, body := get(ops + "/debug/pprof/"); status != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("ops /debug/pprof/: %d", status)
	}
}

// ValidatingTransport checks every response that passes through it, as Client.Check
// does, for clients the test does not build itself (an SDK, a load stream): each
// response is read, checked, and handed on whole. A failed check fails the test.
type ValidatingTransport struct {
	T     testing.TB
	Check func(req *http.Request, r Response) error
	Base  http.RoundTripper // nil: http.DefaultTransport
	// Checked counts the responses checked, so a test can show it saw some.
	Checked int64
	mu      sync.Mutex
}

// RoundTrip implements http.RoundTripper.
func (v *ValidatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := v.Base
	if base == nil {
		base = http.DefaultTransport
	}
	res, err := base.RoundTrip(req)
	if err != nil {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	if cerr := v.Check(req, Response{Status: res.StatusCode, Header: res.Header, Body: body}); cerr != nil {
		v.T.Errorf("%v", cerr)
	}
	v.mu.Lock()
	v.Checked++
	v.mu.Unlock()
	return res, nil
}

// Count returns the responses checked so far.
func (v *ValidatingTransport) Count() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.Checked
}

// SyncBuffer collects what a service under test writes (its log lines), safely for the
// goroutines that write while the test reads.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
