package switchyard

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/sdk/go/internal/fakeserver"
)

var staffCtx = &Context{Key: "u1", Attributes: map[string]any{"email": "a@acme.com", "country": "NL"}}

// killed is new-checkout with its kill switch on.
func killed() domain.FlagConfig {
	fc := fixtureFlags()[0]
	fc.Flag.Killed = true
	return fc
}

// TestStreamAnnouncesChanges: a version announced on the stream is downloaded at
// once; OnChange names exactly the flags that changed; nothing is polled meanwhile.
func TestStreamAnnouncesChanges(t *testing.T) {
	base := snapshot(1, fixtureFlags()...)
	srv := fakeserver.New(t, base)
	c := start(t, srv, WithPollInterval(10*time.Millisecond))
	changes := make(chan Change, 10)
	c.OnChange(func(ch Change) { changes <- ch })
	eventually(t, "the stream", func() bool { return c.Status().Streaming })
	if !c.Bool("new-checkout", staffCtx, false) {
		t.Fatal("version 1 answer")
	}

	v2 := withFlag(base, 2, killed())
	srv.Publish(v2)
	ch := recv(t, changes, "change to version 2")
	if ch.OldVersion != 1 || ch.NewVersion != 2 || !slices.Equal(ch.Flags, []string{"new-checkout"}) {
		t.Errorf("change %+v", ch)
	}
	if c.Bool("new-checkout", staffCtx, true) {
		t.Error("version 2 not served")
	}

	// Added and removed flags are changes too; a version that changes no flag is not
	// reported.
	v3 := withFlag(v2, 3, boolFlag("brand-new", domain.Config{OffVariant: "off", Default: domain.Serve{Variant: "off"}}))
	v3.Flags = slices.DeleteFunc(v3.Flags, func(f domain.FlagConfig) bool { return f.Flag.Key == "limits" })
	srv.Publish(v3)
	if ch := recv(t, changes, "change to version 3"); !slices.Equal(ch.Flags, []string{"brand-new", "limits"}) {
		t.Errorf("change %+v", ch)
	}
	v4 := v3
	v4.Version = 4
	srv.Publish(v4)
	eventually(t, "version 4", func() bool { return c.Version() == 4 })
	select {
	case ch := <-changes:
		t.Errorf("a version without flag changes was reported: %+v", ch)
	case <-time.After(30 * time.Millisecond):
	}

	// With the stream up and every announcement held, the client does not poll.
	n := len(srv.Requests("/api/v1/flags"))
	time.Sleep(100 * time.Millisecond)
	if m := len(srv.Requests("/api/v1/flags")); m != n {
		t.Errorf("%d downloads while the stream was up with nothing new", m-n)
	}
}

// TestSilentStreamReconnects: a stream silent for three heartbeats is taken for dead
// and reopened, announcing the version held.
func TestSilentStreamReconnects(t *testing.T) {
	srv := fakeserver.New(t, snapshot(5, fixtureFlags()...))
	srv.SetHeartbeat(0)
	start(t, srv, WithHeartbeat(20*time.Millisecond))
	eventually(t, "a reconnection", func() bool { return len(srv.Requests("/api/v1/stream")) >= 3 })
	reqs := srv.Requests("/api/v1/stream")
	if got := reqs[len(reqs)-1].Header.Get("Last-Event-ID"); got != "5" {
		t.Errorf("Last-Event-ID %q", got)
	}
	if got := reqs[0].Header.Get("Accept"); got != "text/event-stream" {
		t.Errorf("Accept %q", got)
	}

	// Heartbeats keep it open.
	srv.SetHeartbeat(10 * time.Millisecond)
	srv.DropStreams()
	time.Sleep(50 * time.Millisecond)
	n := len(srv.Requests("/api/v1/stream"))
	time.Sleep(150 * time.Millisecond)
	if m := len(srv.Requests("/api/v1/stream")); m != n {
		t.Errorf("%d reconnections despite heartbeats", m-n)
	}
}

// TestStreamDownFallsBackToPolling: while the stream cannot be opened the client
// polls, and reconnects with growing delays; once the stream is back polling stops.
func TestStreamDownFallsBackToPolling(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	srv.FailStream(http.StatusServiceUnavailable)
	c := start(t, srv, WithPollInterval(30*time.Millisecond), WithBackoff(10*time.Millisecond, 80*time.Millisecond))
	srv.Publish(snapshot(2, fixtureFlags()...))
	eventually(t, "version 2 by polling", func() bool { return c.Version() == 2 })

	// Backoff: in 400 ms, at most one attempt per 10 ms at first and then one per 80 ms
	// at worst (full jitter draws shorter delays; never 40 in 400 ms).
	n := len(srv.Requests("/api/v1/stream"))
	time.Sleep(400 * time.Millisecond)
	if tries := len(srv.Requests("/api/v1/stream")) - n; tries < 3 || tries > 40 {
		t.Errorf("%d stream attempts in 400 ms", tries)
	}
	if c.Status().State != StateReady {
		t.Errorf("polling works, yet the status is %v", c.Status().State)
	}

	srv.FailStream(0)
	eventually(t, "the stream", func() bool { return c.Status().Streaming })
	time.Sleep(40 * time.Millisecond) // a poll planned before the stream came back may run
	n = len(srv.Requests("/api/v1/flags"))
	time.Sleep(150 * time.Millisecond)
	if m := len(srv.Requests("/api/v1/flags")); m != n {
		t.Errorf("%d polls with the stream back", m-n)
	}

	// A stream lost while connected falls back to polling too.
	srv.FailStream(http.StatusServiceUnavailable)
	srv.DropStreams()
	eventually(t, "the stream lost", func() bool { return !c.Status().Streaming })
	srv.Publish(snapshot(3, fixtureFlags()...))
	eventually(t, "version 3 by polling", func() bool { return c.Version() == 3 })
}

// TestPollingOnly: with streaming off the client never opens the stream and polls.
func TestPollingOnly(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	c := start(t, srv, WithStreaming(false), WithPollInterval(10*time.Millisecond))
	srv.Publish(snapshot(2, fixtureFlags()...))
	eventually(t, "version 2", func() bool { return c.Version() == 2 })
	if n := len(srv.Requests("/api/v1/stream")); n != 0 {
		t.Errorf("%d stream requests", n)
	}
}

// TestEvaluatorRestart: through a restart the client answers from what it holds; it
// reconnects with backoff and catches up on the version published meanwhile.
func TestEvaluatorRestart(t *testing.T) {
	base := snapshot(1, fixtureFlags()...)
	srv := fakeserver.New(t, base)
	c := start(t, srv, WithPollInterval(time.Hour))
	eventually(t, "the stream", func() bool { return c.Status().Streaming })

	srv.Stop()
	eventually(t, "the stream lost", func() bool { return !c.Status().Streaming })
	srv.Publish(withFlag(base, 2, killed()))
	time.Sleep(50 * time.Millisecond) // a few failed reconnections
	if !c.Bool("new-checkout", staffCtx, false) || c.Status().State != StateReady {
		t.Fatalf("during the outage: %v %+v", c.Bool("new-checkout", staffCtx, false), c.Status())
	}
	srv.Start(t)
	// Polling is an hour away: the reconnected stream brings version 2.
	eventually(t, "version 2 after the restart", func() bool { return c.Version() == 2 })
	if c.Bool("new-checkout", staffCtx, true) {
		t.Error("version 2 not served")
	}
}

// TestVersionsOnlyGrow: an evaluator that answers an older version than the one held
// (a replica behind) is ignored, and asked again until it has the announced one.
func TestVersionsOnlyGrow(t *testing.T) {
	base := snapshot(2, fixtureFlags()...)
	srv := fakeserver.New(t, base)
	c := start(t, srv)
	eventually(t, "the stream", func() bool { return c.Status().Streaming })

	older := withFlag(base, 1, killed())
	srv.ServeFlags(&older) // behind even what the client holds
	v3 := withFlag(base, 3, boolFlag("extra", domain.Config{OffVariant: "off", Default: domain.Serve{Variant: "off"}}))
	srv.Publish(v3)
	eventually(t, "retries of the lagging replica", func() bool { return len(srv.Requests("/api/v1/flags")) >= 4 })
	if c.Version() != 2 || !c.Bool("new-checkout", staffCtx, false) {
		t.Fatalf("went back in time: version %d", c.Version())
	}
	srv.ServeFlags(nil) // the replica catches up
	eventually(t, "version 3", func() bool { return c.Version() == 3 })
}

// TestOlderVersionIgnored: definitions older than those held never replace them,
// however they arrive.
func TestOlderVersionIgnored(t *testing.T) {
	c := offline(t, snapshot(5, fixtureFlags()...))
	for _, v := range []int64{4, 5, 1, 0} {
		if err := c.apply(withFlag(snapshot(v, fixtureFlags()...), v, killed()), `"x"`, "test"); err != nil {
			t.Fatal(err)
		}
		if c.Version() != 5 || !c.Bool("new-checkout", staffCtx, false) {
			t.Fatalf("version %d replaced version 5", v)
		}
	}
}

// TestOutageStaleThenReady: cut off longer than WithStaleAfter, the client turns
// stale and keeps its answers; back in touch, by stream or by polling, it is ready
// again, with no error left, and stale again only after another full WithStaleAfter.
func TestOutageStaleThenReady(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []Option
	}{
		{"streaming", []Option{WithPollInterval(time.Hour)}},
		{"polling", []Option{WithStreaming(false), WithPollInterval(20 * time.Millisecond)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
			c := start(t, srv, append(tt.opts, WithStaleAfter(150*time.Millisecond))...)
			states := make(chan State, 10)
			c.OnStatus(func(s Status) { states <- s.State })

			// Stale counts from the last contact, which may come shortly before the stop
			// (a poll, a heartbeat): a margin below WithStaleAfter, never far below.
			const margin = 50 * time.Millisecond
			srv.Stop()
			down := time.Now()
			if st := recv(t, states, "stale"); st != StateStale || time.Since(down) < 150*time.Millisecond-margin {
				t.Fatalf("state %v after %v", st, time.Since(down))
			}
			if s := c.Status(); s.Err == nil || s.Streaming || s.Version != 1 {
				t.Errorf("stale status %+v", s)
			}
			if !c.Bool("new-checkout", staffCtx, false) || c.String("button-color", staffCtx, "") != "green" {
				t.Error("answers lost in the outage")
			}
			srv.Start(t)
			if st := recv(t, states, "ready"); st != StateReady {
				t.Fatalf("state %v", st)
			}
			if s := c.Status(); s.Err != nil {
				t.Errorf("ready with an error: %+v", s)
			}

			srv.Stop()
			down = time.Now()
			if st := recv(t, states, "stale again"); st != StateStale || time.Since(down) < 150*time.Millisecond-margin {
				t.Fatalf("state %v after %v", st, time.Since(down))
			}
		})
	}
}

// TestKeyRevokedWhileRunning: a key refused later turns the client to the error
// state; it stops asking and keeps answering from what it holds.
func TestKeyRevokedWhileRunning(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	c := start(t, srv)
	states := make(chan Status, 10)
	c.OnStatus(func(s Status) { states <- s })
	eventually(t, "the stream", func() bool { return c.Status().Streaming })
	srv.Refuse()
	s := recv(t, states, "error")
	if s.State != StateError || !errors.Is(s.Err, ErrKeyRefused) {
		t.Fatalf("status %+v", s)
	}
	time.Sleep(20 * time.Millisecond) // requests canceled in flight may land still
	n := len(srv.Requests(""))
	time.Sleep(100 * time.Millisecond)
	if m := len(srv.Requests("")); m != n {
		t.Errorf("%d requests after the refusal", m-n)
	}
	if !c.Bool("new-checkout", staffCtx, false) {
		t.Error("answers lost")
	}
}

// TestRetryAfter: a stream refused for load waits at least what Retry-After says.
func TestRetryAfter(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	srv.FailStream(http.StatusTooManyRequests)
	srv.RetryAfter("1")
	start(t, srv)
	time.Sleep(300 * time.Millisecond)
	if n := len(srv.Requests("/api/v1/stream")); n != 1 {
		t.Errorf("%d stream attempts within the Retry-After second", n)
	}
}

// TestAdvertisedHeartbeat: a stream that opens with ": heartbeat <seconds>" is taken
// for dead after three of the longer of that and WithHeartbeat, not sooner; and still
// after that, since an evaluator that advertises is not trusted never to go silent.
func TestAdvertisedHeartbeat(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	srv.SetHeartbeat(0) // silent: only the advertisement, then nothing
	srv.AdvertiseHeartbeat("1")
	c := start(t, srv, WithHeartbeat(20*time.Millisecond), WithPollInterval(time.Hour))
	eventually(t, "the stream", func() bool { return c.Status().Streaming })
	opened := time.Now()
	time.Sleep(time.Second) // 50 of the client's own heartbeats, one of the evaluator's
	if n := len(srv.Requests("/api/v1/stream")); n != 1 {
		t.Fatalf("%d stream requests within the advertised heartbeat: the client's own 20 ms was used", n)
	}
	eventually(t, "a reconnection after three advertised heartbeats", func() bool { return len(srv.Requests("/api/v1/stream")) >= 2 })
	// opened is when the test saw the stream, a little after its last byte: a margin.
	if d := time.Since(opened); d < 2500*time.Millisecond {
		t.Errorf("reconnected after %v, before three advertised heartbeats", d)
	}
}

// TestAdvertisedHeartbeatIgnored: without an advertisement, or with one shorter than
// WithHeartbeat or malformed, the client's own heartbeat applies.
func TestAdvertisedHeartbeatIgnored(t *testing.T) {
	for name, advertise := range map[string]string{"none": "", "zero": "0", "negative": "-5", "garbled": "soon", "with a unit": "15s"} {
		t.Run(name, func(t *testing.T) {
			srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
			srv.SetHeartbeat(0)
			srv.AdvertiseHeartbeat(advertise)
			start(t, srv, WithHeartbeat(20*time.Millisecond))
			eventually(t, "reconnections", func() bool { return len(srv.Requests("/api/v1/stream")) >= 3 })
		})
	}
}

// TestRetryAfterOnDefinitions: a download refused for load (429, 503) with Retry-After
// is not tried again before that delay, even when the stream announces a version
// meanwhile; then downloads resume.
func TestRetryAfterOnDefinitions(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
			srv.FailFlags(status)
			srv.RetryAfter("1")
			c := start(t, srv, WithStartTimeout(0))
			eventually(t, "the first download", func() bool { return len(srv.Requests("/api/v1/flags")) >= 1 })
			first := time.Now()
			eventually(t, "the stream", func() bool { return c.Status().Streaming })
			srv.Publish(snapshot(2, fixtureFlags()...)) // announced: the client wants it
			time.Sleep(500 * time.Millisecond)
			if n := len(srv.Requests("/api/v1/flags")); n != 1 {
				t.Fatalf("%d downloads within the Retry-After second", n)
			}
			srv.FailFlags(0)
			if err := c.WaitReady(t.Context()); err != nil {
				t.Fatal(err)
			}
			// first is when the test saw the download, a little after it: a margin.
			if d := time.Since(first); d < 700*time.Millisecond {
				t.Errorf("downloaded again after %v", d)
			}
			eventually(t, "version 2", func() bool { return c.Version() == 2 })
		})
	}
}

// TestRetryAfterWhilePolling: with streaming off, a poll refused with Retry-After
// longer than the poll interval delays the next poll by that much.
func TestRetryAfterWhilePolling(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, fixtureFlags()...))
	c := start(t, srv, WithStreaming(false), WithPollInterval(20*time.Millisecond))
	srv.FailFlags(http.StatusServiceUnavailable)
	srv.RetryAfter("1")
	eventually(t, "a refused poll", func() bool {
		reqs := srv.Requests("/api/v1/flags")
		return reqs[len(reqs)-1].Status == http.StatusServiceUnavailable
	})
	n := len(srv.Requests("/api/v1/flags"))
	time.Sleep(500 * time.Millisecond)
	if m := len(srv.Requests("/api/v1/flags")); m != n {
		t.Errorf("%d polls within the Retry-After second", m-n)
	}
	srv.FailFlags(0)
	srv.Publish(snapshot(2, fixtureFlags()...))
	eventually(t, "version 2 after the delay", func() bool { return c.Version() == 2 })
}
