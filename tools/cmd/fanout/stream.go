package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// endpoint is where streams are opened: GET /api/v1/stream on one evaluator.
type endpoint struct {
	addr, host, name string // host:port to dial, the Host header, the TLS server name
	tls              bool
}

func parseEndpoint(base string) (endpoint, error) {
	u, err := url.Parse(base)
	if err != nil {
		return endpoint{}, err
	}
	e := endpoint{host: u.Host, name: u.Hostname(), tls: u.Scheme == "https"}
	port := u.Port()
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return endpoint{}, fmt.Errorf("%s: not an http or https URL", base)
	case port == "" && e.tls:
		port = "443"
	case port == "":
		port = "80"
	}
	e.addr = net.JoinHostPort(u.Hostname(), port)
	return e, nil
}

// arrival is an event a stream received: the version it announced, and when.
type arrival struct {
	version int64
	at      time.Time
}

// stream is one open stream, read by one goroutine through small buffers: the tool
// holds ten thousand of them beside the evaluator, on the same two cores.
type stream struct {
	conn   net.Conn
	events *eventReader
	latest atomic.Int64 // the newest version received

	mu     sync.Mutex
	got    []arrival
	ended  error // why the stream ended before the tool closed it
	closed bool  // the tool closed it
}

// refusal is a stream the evaluator did not open: its status, Retry-After and
// problem body.
type refusal struct {
	status     int
	retryAfter string
	code       string
	detail     string
}

func (r refusal) String() string {
	return fmt.Sprintf("%d %s, Retry-After %q: %s", r.status, r.code, r.retryAfter, r.detail)
}

// Buffer sizes: the answer's head is read through the first, events through the
// second; longer lines are put together, so these bound nothing but memory.
const (
	headBuffer  = 1024
	eventBuffer = 256
)

// dial opens one stream with a hand-written request and waits for its first event,
// at most timeout. A refusal is an answer, not an error.
func dial(ctx context.Context, ep endpoint, key string, timeout time.Duration) (*stream, *refusal, error) {
	d := net.Dialer{Timeout: timeout}
	var conn net.Conn
	var err error
	if ep.tls {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: ep.name}}).DialContext(ctx, "tcp", ep.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", ep.addr)
	}
	if err != nil {
		return nil, nil, err
	}
	s, ref, err := handshake(conn, ep, key, timeout)
	if s == nil {
		conn.Close()
	}
	return s, ref, err
}

func handshake(conn net.Conn, ep endpoint, key string, timeout time.Duration) (*stream, *refusal, error) {
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintf(conn, "GET /api/v1/stream HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n", ep.host, key); err != nil {
		return nil, nil, err
	}
	res, err := http.ReadResponse(bufio.NewReaderSize(conn, headBuffer), nil)
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
		var p struct{ Code, Detail string }
		_ = json.Unmarshal(raw, &p)
		if p.Detail == "" {
			p.Detail = strings.TrimSpace(string(raw))
		}
		return nil, &refusal{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), code: p.Code, detail: p.Detail}, nil
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return nil, nil, fmt.Errorf("the stream answered with Content-Type %q", ct)
	}
	s := &stream{conn: conn, events: newEventReader(bufio.NewReaderSize(res.Body, eventBuffer))}
	if err := s.receive(); err != nil {
		return nil, nil, fmt.Errorf("first event: %w", err)
	}
	_ = conn.SetDeadline(time.Time{})
	return s, nil, nil
}

// receive reads one event and records it.
func (s *stream) receive() error {
	ev, err := s.events.next()
	if err != nil {
		return err
	}
	at := time.Now()
	v, err := ev.version()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.got = append(s.got, arrival{version: v, at: at})
	s.mu.Unlock()
	if v > s.latest.Load() {
		s.latest.Store(v) // only this goroutine writes it
	}
	return nil
}

// read records events until the stream ends.
func (s *stream) read() {
	for {
		if err := s.receive(); err != nil {
			s.mu.Lock()
			if !s.closed {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					err = errors.New("the evaluator ended the stream")
				}
				s.ended = err
			}
			s.mu.Unlock()
			return
		}
	}
}

// endedWith returns why the stream ended, or nil while it is open.
func (s *stream) endedWith() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// firstAtLeast returns when the stream first received version v or a newer one.
func (s *stream) firstAtLeast(v int64) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.got {
		if a.version >= v {
			return a.at, true
		}
	}
	return time.Time{}, false
}

func (s *stream) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.conn.Close()
}

// opened is what an attempt to open many streams gave.
type opened struct {
	streams  []*stream
	refusals []refusal
	errs     []error
	took     time.Duration
}

// openMany opens n streams, stream i with keys[i%len(keys)], at most rate a second (0:
// no limit) and conc at a time, so that opening does not starve the evaluator and
// the streams already open on two shared cores. Each one is read by its own goroutine
// from its first event on.
func openMany(ctx context.Context, ep endpoint, keys []string, n, rate, conc int, timeout time.Duration) opened {
	type result struct {
		s   *stream
		ref *refusal
		err error
	}
	results := make([]result, n)
	sem := make(chan struct{}, max(1, conc))
	var wg sync.WaitGroup // until each attempt has its result; the streams are read on
	start := time.Now()
	for i := range n {
		if rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			s, ref, err := dial(ctx, ep, keys[i%len(keys)], timeout)
			<-sem
			results[i] = result{s, ref, err}
			if s != nil {
				// A new goroutine: this one's stack grew while reading the answer's
				// head, and is given back when it ends.
				go s.read()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	var o opened
	o.took = time.Since(start)
	for _, r := range results {
		switch {
		case r.s != nil:
			o.streams = append(o.streams, r.s)
		case r.ref != nil:
			o.refusals = append(o.refusals, *r.ref)
		default:
			o.errs = append(o.errs, r.err)
		}
	}
	return o
}
