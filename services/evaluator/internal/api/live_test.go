package api_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/testinfra"
)

// event is one Server-Sent Event, or a comment line (a heartbeat).
type event struct {
	id, data string
	comment  bool
}

// sseStream is an open event stream, read by a goroutine into events until it ends.
type sseStream struct {
	resp   *http.Response
	events chan event
	ended  chan struct{}
	cancel context.CancelFunc
}

// openStream opens url (a GET) with headers (name, value, ...); it returns the response
// whatever its status, and reads events when it is 200.
func openStream(t *testing.T, rawURL string, headers ...string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &sseStream{resp: resp, events: make(chan event, 100), ended: make(chan struct{}), cancel: cancel}
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
	})
	if resp.StatusCode != http.StatusOK {
		close(s.ended)
		return s
	}
	go func() {
		defer close(s.ended)
		sc := bufio.NewScanner(resp.Body)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.data != "" {
					s.events <- ev
				}
				ev = event{}
			case strings.HasPrefix(line, ":"):
				s.events <- event{comment: true, data: line}
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return s
}

// next returns the next event that is not a heartbeat, failing after timeout.
func (s *sseStream) next(t *testing.T, timeout time.Duration) event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-s.events:
			if !ev.comment {
				return ev
			}
		case <-s.ended:
			t.Fatal("the stream ended")
		case <-deadline:
			t.Fatalf("no event within %v", timeout)
		}
	}
}

// quiet checks that no event (other than heartbeats) comes within d.
func (s *sseStream) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-s.events:
			if !ev.comment {
				t.Fatalf("unexpected event %+v", ev)
			}
		case <-deadline:
			return
		}
	}
}

// change bumps the environment's version, as a write through the admin would, and
// announces it.
func (h *harness) change(flag string, killed bool) int64 {
	h.t.Helper()
	v := h.env.Kill(flag, killed)
	if err := h.env.Publish(h.rdb, v); err != nil {
		h.t.Fatal(err)
	}
	return v
}

func TestDefinitions(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	seed(h)
	r := h.Must(200, "GET", "/api/v1/flags", nil, "Accept-Encoding", "identity")
	var ds domain.Snapshot
	if err := json.Unmarshal(r.Body, &ds); err != nil {
		t.Fatal(err)
	}
	if ds.EnvironmentID != h.env.ID || ds.Version < 1 || len(ds.Flags) != 5 || r.Header.Get("ETag") != strconv.Quote(strconv.FormatInt(ds.Version, 10)) {
		t.Fatalf("definitions: env %s version %d, %d flags, ETag %s", ds.EnvironmentID, ds.Version, len(ds.Flags), r.Header.Get("ETag"))
	}
	// What an SDK compiles answers as the evaluator does.
	local := eval.Compile(ds)
	for _, key := range []string{"staff@acme.com", "u1", "u2"} {
		ctx := eval.Context{Key: key, Attributes: map[string]any{"email": key}}
		for _, flag := range []string{"new-checkout", "rollout", "button-color", "disabled"} {
			want := local.Evaluate(flag, &ctx)
			got := h.Must(200, "GET", "/api/v1/evaluate/"+flag+"?key="+url.QueryEscape(key)+"&email="+url.QueryEscape(key), nil).JSON(t)
			if got["variant"] != want.Variant || string(want.Reason) != got["reason"] {
				t.Errorf("%s for %s: evaluator %v, definitions %+v", flag, key, got, want)
			}
		}
	}

	tag := r.Header.Get("ETag")
	if nm := h.Must(304, "GET", "/api/v1/flags", nil, "If-None-Match", tag); len(nm.Body) != 0 || nm.Header.Get("ETag") != tag {
		t.Errorf("304: %q %s", nm.Body, nm.Header.Get("ETag"))
	}
	// The document's validator reads bodies as JSON; this one is compressed.
	raw := *h.Client
	raw.Check = nil
	gz := raw.Must(200, "GET", "/api/v1/flags", nil, "Accept-Encoding", "gzip")
	if gz.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("not compressed: %v", gz.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.Body))
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := io.ReadAll(zr); !bytes.Equal(plain, r.Body) {
		t.Error("the compressed definitions differ from the plain ones")
	}

	// A change gives a new version, and the old tag no longer matches.
	v := h.change("rollout", true)
	testinfra.Eventually(t, 5*time.Second, "the new version", func() bool {
		return h.Do("GET", "/api/v1/flags", nil, "If-None-Match", tag).Header.Get("ETag") == strconv.Quote(strconv.FormatInt(v, 10))
	})

	// Client keys evaluate, and nothing more.
	client := h.env.NewKey(map[string]string{"kind": "'client'"})
	p := h.Must(403, "GET", "/api/v1/flags", nil, "Authorization", "Bearer "+client).JSON(t)
	if !strings.Contains(p["detail"].(string), "server SDK keys") {
		t.Errorf("client key refusal: %v", p)
	}
	h.Must(403, "GET", "/api/v1/stream", nil, "Authorization", "Bearer "+client)
	h.Must(200, "GET", "/api/v1/evaluate/rollout?key=u1", nil, "Authorization", "Bearer "+client)
	h.Must(401, "GET", "/api/v1/flags", nil, "Authorization", "Bearer sy_sdk_nope")
}

func TestStream(t *testing.T) {
	opt := defaults()
	opt.heartbeat = 100 * time.Millisecond
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), opt)
	seed(h)
	auth := "Bearer " + h.env.Key
	s := openStream(t, h.URL+"/api/v1/stream", "Authorization", auth)
	if s.resp.StatusCode != 200 || s.resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %v", s.resp.StatusCode, s.resp.Header)
	}
	first := s.next(t, 5*time.Second)
	v0, _ := strconv.ParseInt(first.id, 10, 64)
	if v0 < 1 || first.data != `{"version":`+first.id+`}` {
		t.Fatalf("first event: %+v", first)
	}
	// Heartbeats come while nothing changes.
	select {
	case ev := <-s.events:
		if !ev.comment {
			t.Fatalf("an event without a change: %+v", ev)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no heartbeat")
	}
	for range 3 {
		v := h.change("rollout", true)
		h.change("rollout", false)
		// Two versions in quick succession: the last one arrives; none goes back.
		last := v + 1
		var got int64
		for got < last {
			ev := s.next(t, 5*time.Second)
			n, _ := strconv.ParseInt(ev.id, 10, 64)
			if n <= got || n <= v0 {
				t.Fatalf("version %d after %d", n, max(got, v0))
			}
			got = n
		}
		v0 = got
	}

	// A client that has the current version hears nothing until the next change; one
	// that is behind hears the current version at once.
	upToDate := openStream(t, h.URL+"/api/v1/stream", "Authorization", auth, "Last-Event-ID", strconv.FormatInt(v0, 10))
	upToDate.quiet(t, 300*time.Millisecond)
	behind := openStream(t, h.URL+"/api/v1/stream?last_event_id="+strconv.FormatInt(v0-1, 10), "Authorization", auth)
	if ev := behind.next(t, 5*time.Second); ev.id != strconv.FormatInt(v0, 10) {
		t.Errorf("catch-up event %+v, want version %d", ev, v0)
	}
	v := h.change("rollout", true)
	for _, st := range []*sseStream{s, upToDate, behind} {
		if ev := st.next(t, 5*time.Second); ev.id != strconv.FormatInt(v, 10) {
			t.Errorf("event %+v, want version %d", ev, v)
		}
	}
}

// TestStreamRevocation: revoking a key ends its open streams (a revocation is a change
// of the environment), and the key cannot open new ones; other keys' streams stay.
func TestStreamRevocation(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	seed(h)
	doomed := h.env.NewKey(nil)
	gone := openStream(t, h.URL+"/api/v1/stream", "Authorization", "Bearer "+doomed)
	stays := openStream(t, h.URL+"/api/v1/stream", "Authorization", "Bearer "+h.env.Key)
	gone.next(t, 5*time.Second)
	stays.next(t, 5*time.Second)

	if _, err := h.env.DB.Exec(`UPDATE sdk_keys SET revoked_at = now() WHERE digest = sha256($1::bytea)`, []byte(doomed)); err != nil {
		t.Fatal(err)
	}
	v := h.change("rollout", true)
	select {
	case <-gone.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the revoked key's stream is still open")
	}
	if ev := stays.next(t, 5*time.Second); ev.id != strconv.FormatInt(v, 10) {
		t.Errorf("the other stream got %+v, want version %d", ev, v)
	}
	if st := openStream(t, h.URL+"/api/v1/stream", "Authorization", "Bearer "+doomed); st.resp.StatusCode != 401 {
		t.Errorf("a revoked key opened a stream: %d", st.resp.StatusCode)
	}
}

// TestStreamKeyExpiry: an expiry set after a stream opened (a rotation's grace period
// sets one, and changes the environment) ends the stream when it comes.
func TestStreamKeyExpiry(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	seed(h)
	rotated := h.env.NewKey(nil)
	s := openStream(t, h.URL+"/api/v1/stream", "Authorization", "Bearer "+rotated)
	s.next(t, 5*time.Second)
	if _, err := h.env.DB.Exec(`UPDATE sdk_keys SET expires_at = now() + interval '1 second' WHERE digest = sha256($1::bytea)`, []byte(rotated)); err != nil {
		t.Fatal(err)
	}
	h.change("rollout", true)
	s.next(t, 5*time.Second) // the change itself
	select {
	case <-s.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived its key's grace period")
	}
}

// TestStreamLimits: past a key's limit, 429; past the process's, 503; each with
// Retry-After and a problem naming the limit. Closed streams free their places.
func TestStreamLimits(t *testing.T) {
	opt := defaults()
	opt.perKey, opt.max = 2, 3
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), opt)
	seed(h)
	other, third := h.env.NewKey(nil), h.env.NewKey(nil)
	open := func(key string) *sseStream {
		return openStream(t, h.URL+"/api/v1/stream", "Authorization", "Bearer "+key)
	}
	a1, a2 := open(h.env.Key), open(h.env.Key)
	for _, s := range []*sseStream{a1, a2} {
		if s.resp.StatusCode != 200 {
			t.Fatalf("within the limits: %d", s.resp.StatusCode)
		}
	}
	refused := func(s *sseStream, status int, limit string) {
		t.Helper()
		body, _ := io.ReadAll(s.resp.Body)
		if s.resp.StatusCode != status || s.resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), limit) {
			t.Errorf("want %d naming %s with Retry-After, got %d %s %v", status, limit, s.resp.StatusCode, body, s.resp.Header)
		}
	}
	refused(open(h.env.Key), 429, "STREAMS_PER_KEY")
	if b := open(other); b.resp.StatusCode != 200 {
		t.Fatalf("another key within the process limit: %d", b.resp.StatusCode)
	}
	refused(open(third), 503, "STREAMS_MAX")
	a1.cancel()
	testinfra.Eventually(t, 5*time.Second, "a freed place", func() bool {
		s := open(third)
		s.cancel()
		return s.resp.StatusCode == 200
	})
}

// TestStreamsEndOnDrain: shutdown ends open streams, and refuses new ones, so the
// listener's drain does not wait for them.
func TestStreamsEndOnDrain(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	seed(h)
	s := openStream(t, h.URL+"/api/v1/stream", "Authorization", "Bearer "+h.env.Key)
	s.next(t, 5*time.Second)
	h.app.Drain()
	select {
	case <-s.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived the drain")
	}
	h.Must(503, "GET", "/api/v1/stream", nil)
}

// bulk asks OFREP's bulk endpoint with a client key and returns the answer.
func bulk(h *harness, key, query string, headers ...string) testinfra.Response {
	h.t.Helper()
	return h.Do("POST", "/ofrep/v1/evaluate/flags"+query, map[string]any{"context": map[string]any{"targetingKey": "u1"}},
		append([]string{"Authorization", "Bearer " + key}, headers...)...)
}

func streamURL(t *testing.T, r testinfra.Response) string {
	t.Helper()
	var answer struct {
		EventStreams []struct {
			Type               string `json:"type"`
			URL                string `json:"url"`
			InactivityDelaySec int    `json:"inactivityDelaySec"`
		} `json:"eventStreams"`
	}
	if err := json.Unmarshal(r.Body, &answer); err != nil || len(answer.EventStreams) != 1 {
		t.Fatalf("eventStreams: %s %v", r.Body, err)
	}
	es := answer.EventStreams[0]
	if es.Type != "sse" || es.InactivityDelaySec != 120 || !strings.Contains(es.URL, "/ofrep/v1/stream?token=") {
		t.Fatalf("event stream %+v", es)
	}
	return es.URL
}

func TestOFREPEventStream(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	seed(h)
	client := h.env.NewKey(map[string]string{"kind": "'client'"})
	r := bulk(h, client, "")
	if r.Status != 200 {
		t.Fatalf("bulk: %d %s", r.Status, r.Body)
	}
	u := streamURL(t, r)
	if !strings.HasPrefix(u, h.URL+"/") || strings.Contains(u, client) || strings.Contains(u, client[len(client)-12:]) {
		t.Fatalf("the stream URL must be absolute and must not hold the key: %s", u)
	}
	// Every answer of a window carries the same URL: clients keep their connection.
	if again := streamURL(t, bulk(h, client, "")); again != u {
		t.Errorf("the URL changed within a window: %s then %s", u, again)
	}

	s := openStream(t, u)
	if s.resp.StatusCode != 200 {
		t.Fatalf("stream: %d", s.resp.StatusCode)
	}
	first := s.next(t, 5*time.Second)
	if first.data != `{"type":"refetchEvaluation","etag":"\"`+first.id+`\""}` {
		t.Fatalf("first event: %+v", first)
	}
	v := h.change("rollout", true)
	ev := s.next(t, 5*time.Second)
	var msg struct{ Type, Etag string }
	if err := json.Unmarshal([]byte(ev.data), &msg); err != nil || msg.Type != "refetchEvaluation" || msg.Etag != strconv.Quote(strconv.FormatInt(v, 10)) {
		t.Fatalf("change event: %+v (%v)", ev, err)
	}
	// The refetch names the version it was told about, and gets it.
	again := bulk(h, client, "?flagConfigEtag="+url.QueryEscape(msg.Etag), "If-None-Match", r.Header.Get("ETag"))
	if again.Status != 200 || !strings.Contains(string(again.Body), `"environmentVersion":`+strconv.FormatInt(v, 10)) {
		t.Fatalf("refetch: %d %s", again.Status, again.Body)
	}
	// A version nobody announced costs a load, and gets what there is.
	if made := bulk(h, client, `?flagConfigEtag="999999"`); made.Status != 200 ||
		!strings.Contains(string(made.Body), `"environmentVersion":`+strconv.FormatInt(v, 10)) {
		t.Errorf("made-up flagConfigEtag: %d %s", made.Status, made.Body)
	}

	// Tokens: tampered, or of a revoked key, are refused.
	for _, bad := range []string{strings.Replace(u, "token=", "token=x", 1), u[:len(u)-2], h.URL + "/ofrep/v1/stream"} {
		if st := openStream(t, bad); st.resp.StatusCode != 401 {
			t.Errorf("%s: %d", bad, st.resp.StatusCode)
		}
	}
	if _, err := h.env.DB.Exec(`UPDATE sdk_keys SET revoked_at = now() WHERE digest = sha256($1::bytea)`, []byte(client)); err != nil {
		t.Fatal(err)
	}
	h.change("rollout", false)
	select {
	case <-s.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the revoked key's OFREP stream is still open")
	}
	if st := openStream(t, u); st.resp.StatusCode != 401 {
		t.Errorf("a revoked key's token opened a stream: %d", st.resp.StatusCode)
	}
}

// TestOFREPTokenWindow: the bulk ETag changes with the token window, so a client that
// revalidates after its URL expired gets a new URL rather than a 304.
func TestOFREPTokenWindow(t *testing.T) {
	opt := defaults()
	opt.streamTokenTTL = time.Second
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), opt)
	seed(h)
	r := bulk(h, h.env.Key, "")
	u := streamURL(t, r)
	time.Sleep(2100 * time.Millisecond) // past the window after the one it was issued in
	if st := openStream(t, u); st.resp.StatusCode != 401 {
		t.Errorf("an expired token opened a stream: %d", st.resp.StatusCode)
	}
	again := bulk(h, h.env.Key, "", "If-None-Match", r.Header.Get("ETag"))
	if again.Status != 200 || streamURL(t, again) == u {
		t.Fatalf("revalidation after the window: %d, same URL %v", again.Status, again.Status == 200 && streamURL(t, again) == u)
	}
	if st := openStream(t, streamURL(t, again)); st.resp.StatusCode != 200 {
		t.Errorf("the fresh URL: %d", st.resp.StatusCode)
	}
}

func TestCORS(t *testing.T) {
	opt := defaults()
	opt.corsOrigins = []string{"https://app.example.com"}
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), opt)
	seed(h)
	client := h.env.NewKey(map[string]string{"kind": "'client'"})
	const app = "https://app.example.com"
	// Preflights are CORS, not API operations: the document does not list OPTIONS.
	raw := *h.Client
	raw.Check = nil

	pre := raw.Do("OPTIONS", "/ofrep/v1/evaluate/flags", nil, "Origin", app, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,content-type")
	if pre.Status != 204 || pre.Header.Get("Access-Control-Allow-Origin") != app ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", pre.Status, pre.Header)
	}
	if other := raw.Do("OPTIONS", "/ofrep/v1/evaluate/flags", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST"); other.Status != 403 ||
		other.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v", other.Status, other.Header)
	}
	// Definitions are never offered to pages.
	if defs := raw.Do("OPTIONS", "/api/v1/flags", nil, "Origin", app, "Access-Control-Request-Method", "GET"); defs.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("definitions preflight allowed: %v", defs.Header)
	}

	ok := bulk(h, client, "", "Origin", app)
	if ok.Status != 200 || ok.Header.Get("Access-Control-Allow-Origin") != app || !strings.Contains(ok.Header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Errorf("client key from the allowed origin: %d %v", ok.Status, ok.Header)
	}
	// A server key in a page is refused, readably.
	srv := bulk(h, h.env.Key, "", "Origin", app)
	if srv.Status != 403 || srv.Header.Get("Access-Control-Allow-Origin") != app || !strings.Contains(string(srv.Body), "client key") {
		t.Errorf("server key from a page: %d %s %v", srv.Status, srv.Body, srv.Header)
	}
	if evil := bulk(h, client, "", "Origin", "https://evil.example"); evil.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin got CORS headers: %v", evil.Header)
	}
	// A page of the evaluator's own origin sends no Origin on a GET, but its browser
	// marks the fetch.
	if same := h.Do("GET", "/api/v1/evaluate/rollout?key=u1", nil, "Sec-Fetch-Mode", "cors", "Sec-Fetch-Site", "same-origin"); same.Status != 403 {
		t.Errorf("server key from a same-origin page: %d", same.Status)
	}
	// Server-side callers send neither, and are unaffected.
	plain := bulk(h, h.env.Key, "")
	if plain.Status != 200 || plain.Header.Get("Access-Control-Allow-Origin") != "" || plain.Header.Get("Vary") != "Origin" {
		t.Errorf("server key without Origin: %d %v", plain.Status, plain.Header)
	}
}

func TestEvaluationReports(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	seed(h)
	before := counted(h)
	r := h.Must(202, "POST", "/api/v1/events", map[string]any{"evaluations": []map[string]any{
		{"flag": "rollout", "variant": "on", "reason": "SPLIT", "count": 40},
		{"flag": "rollout", "variant": "off", "reason": "SPLIT", "count": 2},
		{"flag": "ghost", "variant": "on", "reason": "DEFAULT", "count": 7},
	}}).JSON(t)
	if r["accepted"] != 2.0 || r["ignored"] != 1.0 {
		t.Errorf("report answer: %v", r)
	}
	if got := counted(h) - before; got != 42 {
		t.Errorf("%d evaluations written, want 42", got)
	}
	var n int64
	if err := h.env.DB.QueryRow(`SELECT coalesce(sum(count), 0) FROM flag_evaluations WHERE environment_id = $1 AND flag_key = 'rollout'`, h.env.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 42 {
		t.Errorf("stored %d evaluations of rollout, want 42", n)
	}

	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"no list", map[string]any{}, "evaluations"},
		{"count zero", map[string]any{"evaluations": []map[string]any{{"flag": "rollout", "reason": "SPLIT", "count": 0}}}, "evaluations[0].count"},
		{"count too big", map[string]any{"evaluations": []map[string]any{{"flag": "rollout", "reason": "SPLIT", "count": 2_000_000}}}, "evaluations[0].count"},
		{"bad reason", map[string]any{"evaluations": []map[string]any{{"flag": "rollout", "reason": "LUCK", "count": 1}}}, "evaluations[0].reason"},
		{"no flag", map[string]any{"evaluations": []map[string]any{{"reason": "SPLIT", "count": 1}}}, "evaluations[0].flag"},
		{"too many", map[string]any{"evaluations": make([]map[string]any, 1001)}, "evaluations"},
		{"wrong type", map[string]any{"evaluations": "lots"}, "evaluations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.Do("POST", "/api/v1/events", tt.body)
			if r.Status != 400 || !containsField(r.Fields(t), tt.field) {
				t.Errorf("%d %s, want 400 naming %s", r.Status, r.Body, tt.field)
			}
		})
	}
	if got := counted(h) - before; got != 42 {
		t.Errorf("refused reports counted: %d", got-42)
	}
}

func containsField(fields []string, f string) bool {
	for _, x := range fields {
		if x == f {
			return true
		}
	}
	return false
}

// TestStreamOverHTTP2: where the connection cannot be taken over from the HTTP server
// (HTTP/2), the handler writes the events itself, and they arrive as over HTTP/1.1.
func TestStreamOverHTTP2(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	seed(h)
	srv := httptest.NewUnstartedServer(h.handler)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+h.env.Key)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.ProtoMajor != 2 || res.StatusCode != 200 {
		t.Fatalf("%s %d", res.Proto, res.StatusCode)
	}
	lines := bufio.NewScanner(res.Body)
	next := func() string {
		for lines.Scan() {
			if l := lines.Text(); strings.HasPrefix(l, "id: ") {
				return strings.TrimPrefix(l, "id: ")
			}
		}
		t.Fatalf("the stream ended: %v", lines.Err())
		return ""
	}
	next()
	v := h.change("rollout", true)
	if got := next(); got != strconv.FormatInt(v, 10) {
		t.Errorf("event for version %s, want %d", got, v)
	}
}
