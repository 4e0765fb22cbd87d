// Package fakeserver is an evaluator's SDK endpoints in memory, to the wire contract of
// docs/LIVE_UPDATES.md: GET /api/v1/flags (ETag, 304, gzip), GET /api/v1/stream
// (Last-Event-ID, heartbeats, the advertised heartbeat) and POST /api/v1/events. Tests
// of the SDK and of its OpenFeature provider drive it: publish versions, serve an
// older version as a replica behind would, fail endpoints, drop streams, refuse the
// key, stop and restart.
package fakeserver

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Key is the SDK key the server accepts.
const Key = "sy_sdk_test"

// Request is what the server recorded of a request.
type Request struct {
	Method, Path string
	Header       http.Header
	Status       int
}

// Entry is one entry of an events report.
type Entry struct {
	Flag    string `json:"flag"`
	Variant string `json:"variant"`
	Reason  string `json:"reason"`
	Count   int64  `json:"count"`
}

// Server is a fake evaluator. Its zero value is not usable: use New.
type Server struct {
	URL  string
	addr string

	mu           sync.Mutex
	srv          *http.Server
	snap         domain.Snapshot
	flagsAnswer  *domain.Snapshot // served instead of snap
	flagsStatus  int
	streamStatus int
	eventStatus  []int // one per report, then 202
	refused      bool
	heartbeat    time.Duration
	advertise    string // the value of the ": heartbeat <seconds>" line opening streams; "" for none
	streams      map[*stream]struct{}
	requests     []Request
	reports      [][]Entry
	retryAfter   string
}

type stream struct {
	versions chan int64
	drop     chan struct{}
}

// New starts a server serving snap; it stops when the test ends.
func New(t testing.TB, snap domain.Snapshot) *Server {
	t.Helper()
	s := &Server{snap: snap, heartbeat: time.Second, streams: map[*stream]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) serve(ln net.Listener) {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Stop closes the listener and every connection, streams included, as a crash would.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Start listens again on the address of the server after Stop.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may take a moment to be free again
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.serve(ln)
}

// Publish makes snap the current definitions and announces its version on every
// open stream.
func (s *Server) Publish(snap domain.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap = snap
	for st := range s.streams {
		select {
		case st.versions <- snap.Version:
		default:
		}
	}
}

// Snapshot returns the current definitions.
func (s *Server) Snapshot() domain.Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap
}

// ServeFlags makes GET /api/v1/flags answer snap instead of the current definitions
// (a replica that has not heard of them yet); nil ends it.
func (s *Server) ServeFlags(snap *domain.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flagsAnswer = snap
}

// FailFlags makes GET /api/v1/flags answer status; 0 ends it.
func (s *Server) FailFlags(status int) { s.mu.Lock(); s.flagsStatus = status; s.mu.Unlock() }

// FailStream makes GET /api/v1/stream answer status; 0 ends it.
func (s *Server) FailStream(status int) { s.mu.Lock(); s.streamStatus = status; s.mu.Unlock() }

// FailEvents makes the next reports answer the statuses given, one each.
func (s *Server) FailEvents(statuses ...int) {
	s.mu.Lock()
	s.eventStatus = append(s.eventStatus, statuses...)
	s.mu.Unlock()
}

// RetryAfter sets the Retry-After header of failed answers ("" for none).
func (s *Server) RetryAfter(v string) { s.mu.Lock(); s.retryAfter = v; s.mu.Unlock() }

// Refuse makes every endpoint answer 401, as for a revoked key, and drops the streams.
func (s *Server) Refuse() {
	s.mu.Lock()
	s.refused = true
	s.mu.Unlock()
	s.DropStreams()
}

// SetHeartbeat sets the interval of heartbeats on streams opened from now on; 0 sends
// none.
func (s *Server) SetHeartbeat(d time.Duration) { s.mu.Lock(); s.heartbeat = d; s.mu.Unlock() }

// AdvertiseHeartbeat makes streams opened from now on begin with the comment
// ": heartbeat <seconds>", the evaluator's heartbeat interval, as the contract says;
// "" sends none, as evaluators before it did. The value is written as given, so that
// tests can send malformed ones too. It does not change the heartbeats sent (see
// SetHeartbeat).
func (s *Server) AdvertiseHeartbeat(seconds string) {
	s.mu.Lock()
	s.advertise = seconds
	s.mu.Unlock()
}

// DropStreams ends every open stream from the server's side.
func (s *Server) DropStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for st := range s.streams {
		close(st.drop)
		delete(s.streams, st)
	}
}

// Streams returns the number of open streams.
func (s *Server) Streams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams)
}

// Requests returns the requests recorded for a path ("" for all).
func (s *Server) Requests(path string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Reports returns the events reports accepted, in order.
func (s *Server) Reports() [][]Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]Entry(nil), s.reports...)
}

// Counts sums the accepted reports by "flag/variant/reason".
func (s *Server) Counts() map[string]int64 {
	out := map[string]int64{}
	for _, r := range s.Reports() {
		for _, e := range r {
			out[e.Flag+"/"+e.Variant+"/"+e.Reason] += e.Count
		}
	}
	return out
}

func (s *Server) record(r *http.Request, status int) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Status: status})
	s.mu.Unlock()
}

// ServeHTTP routes the three endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refused, retry := s.refused, s.retryAfter
	s.mu.Unlock()
	if refused || r.Header.Get("Authorization") != "Bearer "+Key {
		s.fail(w, r, http.StatusUnauthorized, "")
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/flags":
		s.flags(w, r, retry)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/stream":
		s.stream(w, r, retry)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/events":
		s.events(w, r, retry)
	default:
		s.fail(w, r, http.StatusNotFound, "")
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, retry string) {
	s.record(r, status)
	if retry != "" {
		w.Header().Set("Retry-After", retry)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"title":%q,"status":%d}`, http.StatusText(status), status)
}

func (s *Server) flags(w http.ResponseWriter, r *http.Request, retry string) {
	s.mu.Lock()
	status, snap := s.flagsStatus, s.snap
	if s.flagsAnswer != nil {
		snap = *s.flagsAnswer
	}
	s.mu.Unlock()
	if status != 0 {
		s.fail(w, r, status, retry)
		return
	}
	tag := `"` + strconv.FormatInt(snap.Version, 10) + `"`
	w.Header().Set("ETag", tag)
	if r.Header.Get("If-None-Match") == tag {
		s.record(r, http.StatusNotModified)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.record(r, http.StatusOK)
	w.Header().Set("Content-Type", "application/json")
	body, _ := json.Marshal(snap)
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = zw.Write(body)
		_ = zw.Close()
		return
	}
	_, _ = w.Write(body)
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request, retry string) {
	s.mu.Lock()
	status, hb, advertise := s.streamStatus, s.heartbeat, s.advertise
	s.mu.Unlock()
	if status != 0 {
		s.fail(w, r, status, retry)
		return
	}
	s.record(r, http.StatusOK)
	last, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	st := &stream{versions: make(chan int64, 64), drop: make(chan struct{})}
	s.mu.Lock()
	s.streams[st] = struct{}{}
	current := s.snap.Version
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.streams, st)
		s.mu.Unlock()
	}()

	fl := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if advertise != "" {
		fmt.Fprintf(w, ": heartbeat %s\n\n", advertise)
	}
	fmt.Fprint(w, "retry: 1000\n\n")
	sent := last
	send := func(v int64) {
		if v > sent {
			fmt.Fprintf(w, "id: %d\ndata: {\"version\":%d}\n\n", v, v)
			sent = v
		}
	}
	send(current)
	fl.Flush()
	var beat <-chan time.Time
	if hb > 0 {
		t := time.NewTicker(hb)
		defer t.Stop()
		beat = t.C
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-st.drop:
			return
		case v := <-st.versions:
			send(v)
		case <-beat:
			fmt.Fprint(w, ": heartbeat\n\n")
		}
		fl.Flush()
	}
}

func (s *Server) events(w http.ResponseWriter, r *http.Request, retry string) {
	var body struct {
		Evaluations []Entry `json:"evaluations"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Evaluations) == 0 || len(body.Evaluations) > 1000 {
		s.fail(w, r, http.StatusBadRequest, "")
		return
	}
	for _, e := range body.Evaluations {
		if e.Count < 1 || e.Count > 1_000_000 || e.Flag == "" || e.Reason == "" {
			s.fail(w, r, http.StatusBadRequest, "")
			return
		}
	}
	s.mu.Lock()
	status := http.StatusAccepted
	if len(s.eventStatus) > 0 {
		status, s.eventStatus = s.eventStatus[0], s.eventStatus[1:]
	}
	if status == http.StatusAccepted {
		s.reports = append(s.reports, body.Evaluations)
	}
	s.mu.Unlock()
	if status != http.StatusAccepted {
		s.fail(w, r, status, retry)
		return
	}
	s.record(r, status)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"accepted":%d,"ignored":0}`, len(body.Evaluations))
}
