package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeStreams answers GET /api/v1/stream as the evaluator does: the current version at
// once, then each version sent on next, with a chunked, flushed body; the key "full"
// is refused as a key past its limit is.
func fakeStreams(t *testing.T, next <-chan int64) *httptest.Server {
	t.Helper()
	var open atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/stream" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		switch r.Header.Get("Authorization") {
		case "Bearer full":
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"title":"Too Many Requests","status":429,"code":"rate_limited",`+
				`"detail":"too many open streams for this SDK key (STREAMS_PER_KEY); close some or use another key; try again in 5 seconds","retry_after":5}`)
			return
		case "Bearer good":
		default:
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		open.Add(1)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "retry: 1000\n\nid: 3\ndata: {\"version\":3}\n\n")
		w.(http.Flusher).Flush()
		for {
			select {
			case v, ok := <-next:
				if !ok {
					return // the evaluator ends the stream
				}
				fmt.Fprintf(w, ": heartbeat\n\nid: %d\ndata: {\"version\":%d}\n\n", v, v)
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDialReadsEventsUntilTheStreamEnds(t *testing.T) {
	next := make(chan int64)
	srv := fakeStreams(t, next)
	ep, err := parseEndpoint(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	s, ref, err := dial(context.Background(), ep, "good", 5*time.Second)
	if err != nil || ref != nil {
		t.Fatalf("dial: %v, %v", ref, err)
	}
	defer s.close()
	if got := s.latest.Load(); got != 3 {
		t.Fatalf("first event: version %d, want 3", got)
	}
	go s.read()
	next <- 5
	waitFor(t, func() bool { return s.latest.Load() == 5 })
	if _, ok := s.firstAtLeast(4); !ok {
		t.Fatal("no arrival at or above version 4")
	}
	if s.endedWith() != nil {
		t.Fatalf("ended early: %v", s.endedWith())
	}
	close(next)
	waitFor(t, func() bool { return s.endedWith() != nil })
	if !strings.Contains(s.endedWith().Error(), "ended the stream") {
		t.Fatalf("ended with %v", s.endedWith())
	}
}

func TestDialReadsARefusal(t *testing.T) {
	srv := fakeStreams(t, nil)
	ep, _ := parseEndpoint(srv.URL)
	s, ref, err := dial(context.Background(), ep, "full", 5*time.Second)
	if err != nil || s != nil || ref == nil {
		t.Fatalf("got %v, %v, %v; want a refusal", s, ref, err)
	}
	if ref.status != http.StatusTooManyRequests || ref.retryAfter != "5" || ref.code != "rate_limited" ||
		!strings.Contains(ref.detail, "STREAMS_PER_KEY") {
		t.Fatalf("refusal %+v", ref)
	}
}

func TestOpenManySortsTheAnswers(t *testing.T) {
	srv := fakeStreams(t, nil)
	ep, _ := parseEndpoint(srv.URL)
	op := openMany(context.Background(), ep, []string{"good", "full", "good"}, 7, 0, 3, 5*time.Second)
	for _, s := range op.streams {
		s.close()
	}
	// keys by index: good full good good full good good
	if len(op.streams) != 5 || len(op.refusals) != 2 || len(op.errs) != 0 {
		t.Fatalf("opened %d, refused %d, failed %v", len(op.streams), len(op.refusals), op.errs)
	}
	c := refusedOnce("check", op, 5, http.StatusTooManyRequests, "STREAMS_PER_KEY")
	if c.ok {
		t.Fatalf("two refusals passed a check for one: %+v", c)
	}
}

func TestRefusedOnce(t *testing.T) {
	perKey := refusal{status: 429, retryAfter: "5", detail: "too many open streams for this SDK key (STREAMS_PER_KEY); …"}
	tests := []struct {
		name string
		op   opened
		ok   bool
	}{
		{"one clear refusal", opened{streams: make([]*stream, 3), refusals: []refusal{perKey}}, true},
		{"none refused", opened{streams: make([]*stream, 4)}, false},
		{"too few opened", opened{streams: make([]*stream, 2), refusals: []refusal{perKey}}, false},
		{"no Retry-After", opened{streams: make([]*stream, 3), refusals: []refusal{{status: 429, detail: perKey.detail}}}, false},
		{"another status", opened{streams: make([]*stream, 3), refusals: []refusal{{status: 503, retryAfter: "5", detail: perKey.detail}}}, false},
		{"the limit not named", opened{streams: make([]*stream, 3), refusals: []refusal{{status: 429, retryAfter: "5", detail: "slow down"}}}, false},
		{"a failure beside it", opened{streams: make([]*stream, 3), refusals: []refusal{perKey}, errs: []error{fmt.Errorf("reset")}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c := refusedOnce("check", tt.op, 3, 429, "STREAMS_PER_KEY"); c.ok != tt.ok {
				t.Fatalf("ok %v, want %v: %+v", c.ok, tt.ok, c)
			}
		})
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in         string
		addr, host string
		tls, ok    bool
	}{
		{"http://127.0.0.1:8081", "127.0.0.1:8081", "127.0.0.1:8081", false, true},
		{"http://flags.example.com", "flags.example.com:80", "flags.example.com", false, true},
		{"https://flags.example.com/", "flags.example.com:443", "flags.example.com", true, true},
		{"http://[::1]:9000", "[::1]:9000", "[::1]:9000", false, true},
		{"ftp://x", "", "", false, false},
		{"127.0.0.1:8081", "", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ep, err := parseEndpoint(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("error %v, want ok %v", err, tt.ok)
			}
			if tt.ok && (ep.addr != tt.addr || ep.host != tt.host || ep.tls != tt.tls) {
				t.Fatalf("got %+v", ep)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		o        options
		wantKeys int
		ok       bool
	}{
		{"keys from the per-key limit", options{token: "t", streams: 10_000, perKey: 1000}, 10, true},
		{"rounded up", options{token: "t", streams: 10_001, perKey: 1000}, 11, true},
		{"given keys enough", options{token: "t", streams: 10_000, perKey: 1000, keys: 20}, 20, true},
		{"given keys too few", options{token: "t", streams: 10_000, perKey: 1000, keys: 9}, 9, false},
		{"no token", options{streams: 10, perKey: 1000}, 0, false},
		{"only limits", options{token: "t", perKey: 1000, checkLimits: true}, 0, true},
		{"nothing to do", options{token: "t", perKey: 1000}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.validate()
			if (err == nil) != tt.ok {
				t.Fatalf("error %v, want ok %v", err, tt.ok)
			}
			if tt.ok && tt.o.keys != tt.wantKeys {
				t.Fatalf("keys %d, want %d", tt.o.keys, tt.wantKeys)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
