package switchyard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/sdk/go/internal/fakeserver"
)

// TestInitialLoad: New returns with the definitions loaded, asked for with the key,
// gzip accepted (by the SDK itself: this transport would not ask for it); the flags
// and version are those served.
func TestInitialLoad(t *testing.T) {
	srv := fakeserver.New(t, snapshot(7, fixtureFlags()...))
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	c := start(t, srv, WithHTTPClient(&http.Client{Transport: tr, Timeout: 5 * time.Second}))
	if !c.Ready() || c.Version() != 7 {
		t.Fatalf("ready %v, version %d", c.Ready(), c.Version())
	}
	if st := c.Status(); st.State != StateReady || st.Version != 7 {
		t.Errorf("status %+v", st)
	}
	want := []string{"button-color", "disabled", "everyone", "half", "limits", "max-items", "new-checkout"}
	if got := c.Keys(); !slices.Equal(got, want) {
		t.Errorf("keys %v", got)
	}
	reqs := srv.Requests("/api/v1/flags")
	if len(reqs) == 0 {
		t.Fatal("no definitions request")
	}
	h := reqs[0].Header
	if h.Get("Authorization") != "Bearer "+fakeserver.Key || !strings.Contains(h.Get("Accept-Encoding"), "gzip") ||
		h.Get("If-None-Match") != "" || !strings.HasPrefix(h.Get("User-Agent"), "switchyard-go/") {
		t.Errorf("headers of the first download: %v", h)
	}
	if err := c.WaitReady(t.Context()); err != nil {
		t.Error(err)
	}
}

// TestNotModified: polls send the ETag held and keep the definitions on 304; a new
// version is downloaded in full.
func TestNotModified(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	c := start(t, srv, WithStreaming(false), WithPollInterval(20*time.Millisecond))
	eventually(t, "a 304", func() bool {
		for _, r := range srv.Requests("/api/v1/flags") {
			if r.Status == http.StatusNotModified && r.Header.Get("If-None-Match") == `"1"` {
				return true
			}
		}
		return false
	})
	if c.Version() != 1 {
		t.Fatalf("version %d", c.Version())
	}
	srv.Publish(snapshot(2, fixtureFlags()...))
	eventually(t, "version 2 by polling", func() bool { return c.Version() == 2 })
	eventually(t, `If-None-Match: "2"`, func() bool {
		reqs := srv.Requests("/api/v1/flags")
		return reqs[len(reqs)-1].Header.Get("If-None-Match") == `"2"`
	})
}

// TestKeyRefused: 401 and 403 are permanent, clearly worded errors; New does not
// retry them, and leaves nothing running (TestMain checks).
func TestKeyRefused(t *testing.T) {
	for _, tt := range []struct {
		name   string
		setup  func(*fakeserver.Server)
		key    string
		opts   []Option
		wantIn string
	}{
		{"unknown key", func(*fakeserver.Server) {}, "sy_sdk_wrong", nil, "revoked"},
		{"revoked", (*fakeserver.Server).Refuse, fakeserver.Key, nil, "revoked"},
		{"revoked, polling", (*fakeserver.Server).Refuse, fakeserver.Key, []Option{WithStreaming(false)}, "revoked"},
		{"client key", func(s *fakeserver.Server) { s.FailFlags(http.StatusForbidden); s.FailStream(http.StatusForbidden) }, fakeserver.Key, nil, `kind "server"`},
		{"client key, stream first", func(s *fakeserver.Server) {
			s.FailFlags(http.StatusServiceUnavailable)
			s.FailStream(http.StatusForbidden)
		}, fakeserver.Key, nil, `kind "server"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
			tt.setup(srv)
			c, err := New(t.Context(), srv.URL, tt.key, append(fast(t), tt.opts...)...)
			if c != nil || !errors.Is(err, ErrKeyRefused) || !strings.Contains(err.Error(), tt.wantIn) {
				t.Fatalf("New: %v, %v; want ErrKeyRefused mentioning %q", c, err, tt.wantIn)
			}
			time.Sleep(20 * time.Millisecond) // requests canceled in flight may land still
			n := len(srv.Requests(""))
			time.Sleep(50 * time.Millisecond)
			if m := len(srv.Requests("")); m > n {
				t.Errorf("%d requests after the refusal", m-n)
			}
		})
	}
}

// TestNotReady: while the evaluator fails, New gives up after its start timeout with
// the client, which answers defaults, keeps trying, and becomes ready.
func TestNotReady(t *testing.T) {
	srv := fakeserver.New(t, snapshot(3, fixtureFlags()...))
	srv.FailFlags(http.StatusServiceUnavailable)
	c, err := New(t.Context(), srv.URL, fakeserver.Key, append(fast(t), WithStartTimeout(100*time.Millisecond))...)
	if c == nil || !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("New: %v, %v", c, err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	if v, r := c.BoolDetail("new-checkout", nil, true); !v || r.ErrorCode != CodeNotReady {
		t.Errorf("before ready: %v %+v", v, r)
	}
	if st := c.Status(); st.State != StateInitializing || st.Err == nil {
		t.Errorf("status %+v", st)
	}
	readyCalled := make(chan struct{})
	c.OnReady(func() { close(readyCalled) })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := c.WaitReady(ctx); !errors.Is(err, ErrNotReady) {
		t.Errorf("WaitReady: %v", err)
	}
	srv.FailFlags(0)
	if err := c.WaitReady(t.Context()); err != nil {
		t.Fatal(err)
	}
	recv(t, readyCalled, "OnReady")
	if c.Version() != 3 || c.Status().State != StateReady {
		t.Errorf("after recovery: %d %+v", c.Version(), c.Status())
	}
	// OnReady after ready calls at once.
	again := make(chan struct{})
	c.OnReady(func() { close(again) })
	recv(t, again, "OnReady once ready")
}

// TestStartTimeoutZero: New returns at once, without an error, before definitions.
func TestStartTimeoutZero(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	srv.FailFlags(http.StatusServiceUnavailable)
	c, err := New(t.Context(), srv.URL, fakeserver.Key, append(fast(t), WithStartTimeout(0))...)
	if err != nil || c.Ready() {
		t.Fatalf("New: %v, ready %v", err, c.Ready())
	}
	defer c.Close(context.Background())
	srv.FailFlags(0)
	if err := c.WaitReady(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestNewContextEnds: New stops waiting when its context ends, naming why.
func TestNewContextEnds(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	srv.FailFlags(http.StatusBadGateway)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	c, err := New(ctx, srv.URL, fakeserver.Key, fast(t)...)
	if c == nil || !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("New: %v, %v", c, err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Error(err)
	}
	if err := c.WaitReady(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitReady after Close: %v", err)
	}
}

// TestNewRefusesBadSettings: settings that cannot work fail New, naming the setting.
func TestNewRefusesBadSettings(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.json")
	garbled := filepath.Join(t.TempDir(), "garbled.json")
	if err := os.WriteFile(garbled, []byte(`{"version": 1, "flags": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, url, key string
		opts           []Option
		wantIn         string
	}{
		{"relative URL", "localhost:8081", "k", nil, "absolute http(s) URL"},
		{"URL with query", "http://x/?a=1", "k", nil, "without query"},
		{"no key", "http://x", "", nil, "SDK key is required"},
		{"poll interval", "http://x", "k", []Option{WithPollInterval(0)}, "WithPollInterval"},
		{"backoff", "http://x", "k", []Option{WithBackoff(time.Second, time.Millisecond)}, "WithBackoff"},
		{"nil logger", "http://x", "k", []Option{WithLogger(nil)}, "WithLogger"},
		{"offline without bootstrap", "", "", []Option{WithOffline()}, "WithOffline needs"},
		{"missing bootstrap file", "http://x", "k", []Option{WithBootstrapFile(missing)}, "missing.json"},
		{"garbled bootstrap file", "http://x", "k", []Option{WithBootstrapFile(garbled)}, "garbled.json"},
		{"empty bootstrap", "http://x", "k", []Option{WithBootstrap(nil)}, "empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(t.Context(), tt.url, tt.key, tt.opts...)
			if c != nil || err == nil || !strings.Contains(err.Error(), tt.wantIn) {
				t.Fatalf("New: %v, %v; want an error mentioning %q", c, err, tt.wantIn)
			}
		})
	}
}

// TestBootstrapOfflineStart: with a bootstrap file and the evaluator unreachable, New
// returns ready at once from the file; the client loads the evaluator's newer
// definitions once it can reach it.
func TestBootstrapOfflineStart(t *testing.T) {
	srv := fakeserver.New(t, snapshot(9, fixtureFlags()...))
	srv.Stop()
	file := filepath.Join(t.TempDir(), "flags.json")
	raw, err := json.Marshal(snapshot(4, fixtureFlags()...))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	c := start(t, srv, WithBootstrapFile(file), WithPollInterval(20*time.Millisecond))
	// "At once": well before the start timeout (10 s), even on a loaded machine.
	if time.Since(begin) > 5*time.Second || !c.Ready() || c.Version() != 4 {
		t.Fatalf("after %v: ready %v, version %d", time.Since(begin), c.Ready(), c.Version())
	}
	if !c.Bool("new-checkout", &Context{Key: "u", Attributes: map[string]any{"email": "a@acme.com"}}, false) {
		t.Error("the bootstrap definitions are not evaluated")
	}
	srv.Start(t)
	eventually(t, "the evaluator's version", func() bool { return c.Version() == 9 })
}

// TestBootstrapOfAnotherEnvironment: definitions of another environment than the
// key's are replaced by the evaluator's even when their version is higher.
func TestBootstrapOfAnotherEnvironment(t *testing.T) {
	srv := fakeserver.New(t, snapshot(2, fixtureFlags()...))
	other := snapshot(500, fixtureFlags()...)
	other.EnvironmentID = "env-other"
	raw, _ := json.Marshal(other)
	c := start(t, srv, WithBootstrap(raw), WithPollInterval(time.Hour))
	eventually(t, "the key's environment", func() bool { return c.Version() == 2 })
	// The stream announces the versions after 2, not only those after 500.
	srv.Publish(snapshot(3, fixtureFlags()...))
	eventually(t, "version 3 from the stream", func() bool { return c.Version() == 3 })
	for _, r := range srv.Requests("/api/v1/stream") {
		if r.Header.Get("Last-Event-ID") == "500" {
			return // the case this test is about did happen
		}
	}
	t.Log("the stream connected after the first download: the reconnection was not needed")
}

// TestOffline: an offline client serves its bootstrap and sends nothing.
func TestOffline(t *testing.T) {
	raw, _ := json.Marshal(snapshot(4, fixtureFlags()...))
	c, err := New(t.Context(), "", "", WithOffline(), WithBootstrap(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.String("button-color", &Context{Attributes: map[string]any{"country": "NL"}}, "blue"); got != "green" {
		t.Errorf("offline answer %q", got)
	}
	if err := c.Close(t.Context()); err != nil {
		t.Error(err)
	}
}

// TestCloseFromCallback: a callback may close the client. Close does not wait for the
// callback that calls it (it runs on the goroutine Close would wait for), and a Close
// already under way elsewhere, which waits for that callback, ends too.
func TestCloseFromCallback(t *testing.T) {
	for _, tt := range []struct {
		name     string
		register func(c *Client, f func())
		trigger  func(*fakeserver.Server)
	}{
		{"OnChange", func(c *Client, f func()) { c.OnChange(func(Change) { f() }) },
			func(s *fakeserver.Server) { s.Publish(withFlag(s.Snapshot(), 2, killed())) }},
		{"OnStatus", func(c *Client, f func()) { c.OnStatus(func(Status) { f() }) },
			(*fakeserver.Server).Refuse},
		{"OnReady", func(c *Client, f func()) { c.OnReady(f) }, func(*fakeserver.Server) {}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
			c := start(t, srv, WithStaleAfter(time.Hour))
			done := make(chan error, 1)
			tt.register(c, func() { done <- c.Close(context.Background()) })
			tt.trigger(srv)
			if err := recv(t, done, "Close called from the callback to return"); err != nil {
				t.Errorf("Close: %v", err)
			}
			if !c.isClosed() {
				t.Error("not closed")
			}
			select {
			case <-c.dispatch.done:
			case <-time.After(5 * time.Second):
				t.Error("the dispatcher goroutine still runs after its callback returned")
			}
		})
	}

	t.Run("while another Close waits", func(t *testing.T) {
		srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
		c := start(t, srv)
		inner := make(chan error, 1)
		c.OnChange(func(Change) {
			<-c.closed // the other Close has begun, and will wait for this callback
			inner <- c.Close(context.Background())
		})
		srv.Publish(withFlag(srv.Snapshot(), 2, killed()))
		eventually(t, "version 2", func() bool { return c.Version() == 2 })
		outer := make(chan error, 1)
		go func() { outer <- c.Close(context.Background()) }()
		recv(t, inner, "Close from the callback to return")
		if err := recv(t, outer, "the other Close to return"); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}
