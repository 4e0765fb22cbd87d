package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/tools/internal/adminclient"
)

func TestJudge(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	reset := &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "read", Net: "tcp",
		Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	for _, c := range []struct {
		name string
		in   answer
		want outcome
	}{
		{"the right value", answer{status: 200, value: true}, served},
		{"the wrong value", answer{status: 200, value: false}, wrong},
		{"a string for a boolean", answer{status: 200, value: "true"}, wrong},
		{"no value", answer{status: 200}, wrong},
		{"an unreadable body", answer{status: 200, err: errors.New("invalid character '<'")}, wrong},
		{"404", answer{status: 404}, wrong},
		{"401", answer{status: 401}, wrong},
		{"429", answer{status: 429}, wrong},
		{"500", answer{status: 500}, wrong},
		{"502", answer{status: 502}, again},
		{"503", answer{status: 503}, again},
		{"504", answer{status: 504}, again},
		{"connection refused", answer{err: refused}, again},
		{"connection reset", answer{err: reset}, again},
		{"closed before the answer", answer{err: &url.Error{Op: "Post", Err: io.EOF}}, again},
		{"closed idle connection", answer{err: errors.New(`Post "http://x": http: server closed idle connection`)}, again},
		{"a timeout", answer{err: &url.Error{Op: "Post", Err: context.DeadlineExceeded}}, wrong},
	} {
		if got, reason := judge(c.in); got != c.want {
			t.Errorf("%s: judge = %v (%s), want %v", c.name, got, reason, c.want)
		}
	}
}

// replica answers every request with reply, through a transport: no server needed.
type replica struct {
	reply func() (*http.Response, error)
	calls int
}

func (r *replica) RoundTrip(*http.Request) (*http.Response, error) {
	r.calls++
	return r.reply()
}

func answering(status int, body string) func() (*http.Response, error) {
	return func() (*http.Response, error) {
		return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}, nil
	}
}

func failing(err error) func() (*http.Response, error) {
	return func() (*http.Response, error) { return nil, err }
}

func TestEvaluationRetries(t *testing.T) {
	right := answering(200, `{"value":true}`)
	for _, c := range []struct {
		name            string
		first, second   func() (*http.Response, error)
		failed, retries int
		secondCalls     int
		retryStatus     int
		retryReasonHas  string
	}{
		{"served by the first", right, right, 0, 0, 0, 0, ""},
		{"a wrong value is a failure, not retried", answering(200, `{"value":false}`), right, 1, 0, 0, 0, ""},
		{"a 404 is a failure, not retried", answering(404, `{"errorCode":"FLAG_NOT_FOUND"}`), right, 1, 0, 0, 0, ""},
		{"a 500 is a failure, not retried", answering(500, `{}`), right, 1, 0, 0, 0, ""},
		{"a 503 moves to the other", answering(503, `{}`), right, 0, 1, 1, 503, "503"},
		{"a refused connection moves to the other", failing(os.NewSyscallError("connect", syscall.ECONNREFUSED)), right, 0, 1, 1, 0, "refused"},
		{"both gone is a failure", failing(syscall.ECONNREFUSED), failing(syscall.ECONNREFUSED), 1, 1, 1, 0, "refused"},
		{"the other wrong after a retry is a failure", answering(502, `{}`), answering(200, `{"value":false}`), 1, 1, 1, 502, "502"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := &replica{reply: c.first}, &replica{reply: c.second}
			client := func(rt http.RoundTripper) *adminclient.Client {
				return &adminclient.Client{Base: "http://replica", Token: "k", HTTP: &http.Client{Transport: rt}}
			}
			l := &evalLoad{replicas: []*adminclient.Client{client(a), client(b)}, names: []string{"evaluator-1", "evaluator-2"},
				since: func() time.Duration { return time.Second }}
			l.once("eval-00", "user-1", 0)
			if len(l.ended) != 1 || len(l.failed) != c.failed || len(l.retries) != c.retries || b.calls != c.secondCalls {
				t.Fatalf("ended %d, failed %v, retries %v, second asked %d times; want 1, %d failed, %d retries, %d",
					len(l.ended), l.failed, l.retries, b.calls, c.failed, c.retries, c.secondCalls)
			}
			if c.retries > 0 {
				r := l.retries[0]
				if r.replica != "evaluator-1" || r.status != c.retryStatus || !strings.Contains(r.reason, c.retryReasonHas) {
					t.Errorf("retry %+v, want evaluator-1, status %d, a reason with %q", r, c.retryStatus, c.retryReasonHas)
				}
			}
		})
	}
}
