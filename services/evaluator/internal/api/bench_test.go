package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
)

// BenchmarkHandler measures the full HTTP handler (middleware, key check, snapshot
// lookup, evaluation, JSON) in process, for an environment of 100 flags with a rule
// each. The request and the response writer are reused, so allocs/op counts what the
// handler allocates, and not net/http's parsing of the request, which every server,
// the floor's included, pays alike. The floor is a bare echo handler that decodes the
// same body and answers a fixed JSON body, like cmd/httpfloor.
func BenchmarkHandler(b *testing.B) {
	h, floor := benchServers(b)
	const ofrepBody = `{"context":{"targetingKey":"user-42","email":"a@example.com","plan":"pro","country":"DE","app_version":"2.4.1"}}`
	cases := []struct {
		name, method, path, body string
		handler                  http.Handler
	}{
		{"floor", http.MethodPost, "/ofrep/v1/evaluate/flags/flag-042", ofrepBody, floor},
		{"ofrep-single", http.MethodPost, "/ofrep/v1/evaluate/flags/flag-042", ofrepBody, h.handler},
		{"api-single", http.MethodGet, "/api/v1/evaluate/flag-042?key=user-42&email=a%40example.com&plan=pro&country=DE&app_version=2.4.1", "", h.handler},
		{"api-post-single", http.MethodPost, "/api/v1/evaluate", `{"context":{"key":"user-42","email":"a@example.com","plan":"pro","country":"DE"},"flags":["flag-042"]}`, h.handler},
		{"ofrep-bulk-100", http.MethodPost, "/ofrep/v1/evaluate/flags", ofrepBody, h.handler},
		{"api-bulk-100", http.MethodPost, "/api/v1/evaluate", `{"context":{"key":"user-42","email":"a@example.com","plan":"pro","country":"DE"}}`, h.handler},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			check := httptest.NewRecorder()
			check.Body.Reset()
			req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+h.env.Key)
			req.Header.Set("Content-Type", "application/json")
			c.handler.ServeHTTP(check, req)
			if check.Code != 200 {
				b.Fatalf("%d %s", check.Code, check.Body)
			}
			// Middleware may wrap the body (BodyLimit): it is set again each time.
			body := &rewindReader{body: c.body}
			w := &discardWriter{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				body.off = 0
				req.Body = body
				clear(w.header)
				w.status = 0
				c.handler.ServeHTTP(w, req)
			}
			if w.status != http.StatusOK {
				b.Fatalf("status %d: %s", w.status, w.last)
			}
		})
	}
}

// benchServers returns the evaluator, its environment holding 100 flags with a rule
// each, and the floor: a bare echo handler that decodes the request (a POST's body
// into a map, a GET's query) and answers a fixed OFREP-sized body, as cmd/httpfloor.
func benchServers(b *testing.B) (*harness, http.Handler) {
	h := newHarness(b, newDB(b), testinfra.RedisURL(b), defaults())
	for i := range 100 {
		h.env.Flag(fixture.Bool(fmt.Sprintf("flag-%03d", i), fixture.On(domain.Rule{ID: "staff",
			Conditions: []domain.Condition{{Attribute: "email", Operator: domain.OpEndsWith, Values: []any{"@acme.com"}}},
			Serve:      domain.Serve{Variant: "off"}})))
	}
	floor := echo.New()
	fixed := []byte(`{"key":"flag-042","value":true,"reason":"TARGETING_MATCH","variant":"on","metadata":{"environmentVersion":101,"ruleId":"pro"}}`)
	floor.POST("/*", func(c echo.Context) error {
		var req struct {
			Context map[string]any `json:"context"`
		}
		if err := json.NewDecoder(c.Request().Body).Decode(&req); err != nil {
			return err
		}
		return c.JSONBlob(http.StatusOK, fixed)
	})
	floor.GET("/*", func(c echo.Context) error {
		if len(c.QueryParams()) == 0 {
			return c.NoContent(http.StatusBadRequest)
		}
		return c.JSONBlob(http.StatusOK, fixed)
	})
	return h, floor
}

// BenchmarkLoopback measures requests end to end on a loopback connection kept alive:
// net/http reading the request and writing the answer, and everything the handler
// does. The client writes the request's bytes and reads the answer into a reused
// buffer, allocating nothing, so allocs/op is the server's whole count per request.
func BenchmarkLoopback(b *testing.B) {
	h, floor := benchServers(b)
	const ofrepBody = `{"context":{"targetingKey":"user-42","email":"a@example.com","plan":"pro","country":"DE","app_version":"2.4.1"}}`
	const query = "?key=user-42&email=a%40example.com&plan=pro&country=DE&app_version=2.4.1"
	cases := []struct {
		name, method, path, body string
		handler                  http.Handler
	}{
		{"floor-post", http.MethodPost, "/ofrep/v1/evaluate/flags/flag-042", ofrepBody, floor},
		{"ofrep-single", http.MethodPost, "/ofrep/v1/evaluate/flags/flag-042", ofrepBody, h.handler},
		{"floor-get", http.MethodGet, "/api/v1/evaluate/flag-042" + query, "", floor},
		{"api-single", http.MethodGet, "/api/v1/evaluate/flag-042" + query, "", h.handler},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			req := fmt.Appendf(nil, "%s %s HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n",
				c.method, c.path, h.env.Key)
			if c.body != "" {
				req = fmt.Appendf(req, "Content-Length: %d\r\n", len(c.body))
			}
			req = append(append(req, "\r\n"...), c.body...)
			r := bufio.NewReaderSize(conn, 64<<10)
			roundTrip := func() {
				if _, err := conn.Write(req); err != nil {
					b.Fatal(err)
				}
				status, err := r.ReadSlice('\n')
				if err != nil || !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
					b.Fatalf("status line %q: %v", status, err)
				}
				length := -1
				for {
					line, err := r.ReadSlice('\n')
					if err != nil {
						b.Fatal(err)
					}
					if len(line) <= 2 {
						break
					}
					if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
						length = 0
						for _, d := range bytes.TrimSpace(v) {
							length = length*10 + int(d-'0')
						}
					}
				}
				if length <= 0 {
					b.Fatal("an answer without Content-Length")
				}
				if _, err := r.Discard(length); err != nil {
					b.Fatal(err)
				}
			}
			roundTrip()
			b.ReportAllocs()
			for b.Loop() {
				roundTrip()
			}
		})
	}
}

// rewindReader is a request body that a benchmark rewinds between requests.
type rewindReader struct {
	body string
	off  int
}

func (r *rewindReader) Read(p []byte) (int, error) {
	if r.off >= len(r.body) {
		return 0, io.EOF
	}
	n := copy(p, r.body[r.off:])
	r.off += n
	return n, nil
}

func (r *rewindReader) Close() error { return nil }

// discardWriter is a response writer that keeps the status and drops the body.
type discardWriter struct {
	header http.Header
	status int
	last   []byte // the last write of an answer other than 200
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status != http.StatusOK {
		w.last = append(w.last[:0], p...)
	}
	return len(p), nil
}

func (w *discardWriter) WriteHeader(code int) { w.status = code }
