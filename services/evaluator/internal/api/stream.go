package api

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/services/evaluator/internal/keys"
	"github.com/switchyard/switchyard/services/evaluator/internal/streams"
)

// stream answers GET /api/v1/stream: one event per new version of the environment's
// definitions, for server SDKs (docs/LIVE_UPDATES.md).
func (a *API) stream(c echo.Context) error {
	k := sdkKey(c)
	return a.serveStream(c, &k, versionEvent, lastEventID(c.Request()))
}

// ofrepStream answers GET /ofrep/v1/stream?token=…: OFREP's change events. The token,
// from a bulk answer, stands for the SDK key, which browsers' EventSource cannot send.
func (a *API) ofrepStream(c echo.Context) error {
	env, keyID, err := a.tokens.Verify(c.QueryParam("token"))
	if err != nil {
		return domain.Wrap(domain.CodeUnauthorized, err, err.Error())
	}
	// The key is asked for again: a token outlives nothing its key does not.
	k, err := a.keys.Valid(c.Request().Context(), keyID, env)
	if err != nil {
		return err
	}
	c = &keyedContext{Context: c, key: k} // long-lived: not from the pool
	// Last-Event-ID is not trusted here: the official web provider does not ask again
	// when its stream reconnects, so a browser told about a version whose refetch then
	// failed (the evaluator went down in between) would stay behind. Every connection
	// starts with the current version, and costs the client one revalidation (a 304
	// when nothing changed).
	return a.serveStream(c, &k, refetchEvent, 0)
}

// versionEvent is the definitions stream's event.
func versionEvent(dst []byte, version int64) []byte {
	dst = append(dst, "id: "...)
	dst = strconv.AppendInt(dst, version, 10)
	dst = append(dst, "\ndata: {\"version\":"...)
	dst = strconv.AppendInt(dst, version, 10)
	return append(dst, "}\n\n"...)
}

// refetchEvent is OFREP's: the etag is the version, which the client sends back as
// flagConfigEtag.
func refetchEvent(dst []byte, version int64) []byte {
	dst = append(dst, "id: "...)
	dst = strconv.AppendInt(dst, version, 10)
	dst = append(dst, "\ndata: {\"type\":\"refetchEvaluation\",\"etag\":\"\\\""...)
	dst = strconv.AppendInt(dst, version, 10)
	return append(dst, "\\\"\"}\n\n"...)
}

// lastEventID is the version a reconnecting client has: Last-Event-ID, which
// EventSource sends by itself, or the last_event_id parameter.
func lastEventID(r *http.Request) int64 {
	s := r.Header.Get("Last-Event-ID")
	if s == "" {
		s = r.URL.Query().Get("last_event_id")
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v
}

// serveStream opens a stream. The first event is the current version, unless the
// client says it has it; each later one a newer version. The stream lasts until the
// client leaves, the key is revoked or expires, or the evaluator shuts down.
//
// Over HTTP/1.1 the connection is taken over from the HTTP server once the stream is
// open: an evaluator holds many thousands of streams, and the server keeps, for each
// connection it serves, read and write buffers, a background reader and the
// handler's grown stack, which an event stream does not need. A small goroutine
// writes its events instead. Where the connection cannot be taken over (HTTP/2), the
// handler writes them itself.
func (a *API) serveStream(c echo.Context, k *keys.Key, event func([]byte, int64) []byte, sent int64) error {
	snap, err := a.snapshot(c)
	if err != nil {
		return err
	}
	st, err := a.hub.Open(streams.Owner{Environment: k.EnvironmentID, KeyID: k.ID, ExpiresAt: k.ExpiresAt,
		ClientKey: k.Kind == domain.SDKKeyClient, Address: httpapi.ClientKey(c.RealIP())})
	if err != nil {
		return err
	}
	// Opened before reading the version: an announcement in between wakes the stream.
	current := a.hub.Version(k.EnvironmentID, snap.Version)
	// The heartbeat interval comes first, so that clients can tell a quiet stream
	// from a dead one whatever STREAM_HEARTBEAT is.
	first := append(make([]byte, 0, 128), "retry: 1000\n: heartbeat "...)
	first = strconv.AppendInt(first, int64(max((a.live.Heartbeat+time.Second-1)/time.Second, 1)), 10) // whole seconds, rounded up
	first = append(first, "\n\n"...)
	if current > sent {
		first = event(first, current)
		sent = current
	}
	p := pump{hub: a.hub, st: st, env: k.EnvironmentID, expires: k.ExpiresAt, sent: sent, event: event, heartbeat: a.live.Heartbeat}

	w := c.Response()
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx would hold events back otherwise
	rc := http.NewResponseController(w)
	if c.Request().ProtoMajor == 1 {
		if conn, _, err := rc.Hijack(); err == nil {
			// The server's buffers go with it: a GET stream has nothing more to read.
			w.Committed, w.Status = true, http.StatusOK // for the access log and metrics
			// A client whose network vanished acknowledges nothing: the heartbeats it
			// does not acknowledge end the connection within two of them, rather than
			// when TCP gives up retransmitting (a quarter of an hour), and its place
			// is free again.
			setUserTimeout(conn, 2*a.live.Heartbeat)
			out := connSink{conn: conn}
			if err := out.write(append(responseHead(h), first...)); err != nil {
				out.close()
				st.Close()
				return nil
			}
			go p.run(out, nil)
			return nil
		}
	}
	// The server's write timeout bounds answers, not streams: each write gets its own.
	_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	w.WriteHeader(http.StatusOK)
	out := flushSink{w: w, rc: rc}
	if err := out.write(first); err != nil {
		st.Close()
		return nil
	}
	p.run(out, c.Request().Context().Done())
	return nil
}

// responseHead is the status line and headers of a stream written on a connection
// taken over: its body ends when the connection closes.
func responseHead(h http.Header) []byte {
	b := append(make([]byte, 0, 512), "HTTP/1.1 200 OK\r\n"...)
	for name, values := range h {
		for _, v := range values {
			b = append(append(append(append(b, name...), ": "...), v...), "\r\n"...)
		}
	}
	return append(b, "Connection: close\r\n\r\n"...)
}

// sink is where a stream's bytes go.
type sink interface {
	write(p []byte) error
	close()
}

// streamWriteTimeout bounds one write to a stream: a client that stops reading is
// dropped rather than holding its writer.
const streamWriteTimeout = 10 * time.Second

// connSink writes to a connection taken over from the HTTP server.
type connSink struct{ conn net.Conn }

func (s connSink) write(p []byte) error {
	_ = s.conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	_, err := s.conn.Write(p)
	return err
}

func (s connSink) close() { _ = s.conn.Close() }

// flushSink writes through the HTTP server (HTTP/2), flushing each event.
type flushSink struct {
	w  io.Writer
	rc *http.ResponseController
}

func (s flushSink) write(p []byte) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := s.w.Write(p); err != nil {
		return err
	}
	return s.rc.Flush()
}

func (flushSink) close() {}

// pump writes one stream's events and heartbeats.
type pump struct {
	hub       *streams.Hub
	st        *streams.Stream
	env       string
	expires   *time.Time
	sent      int64
	event     func([]byte, int64) []byte
	heartbeat time.Duration
}

// run writes until the stream ends: the hub ends it, the key expires, done is closed
// (the client left, where the server tells), or a write fails (the client left).
func (p pump) run(out sink, done <-chan struct{}) {
	defer out.close()
	defer p.st.Close()
	heartbeat := time.NewTicker(p.heartbeat)
	defer heartbeat.Stop()
	var expired <-chan time.Time
	if p.expires != nil {
		t := time.NewTimer(time.Until(*p.expires))
		defer t.Stop()
		expired = t.C
	}
	var buf []byte
	for {
		select {
		case <-p.st.Wake():
			if v := p.hub.Version(p.env, 0); v > p.sent {
				buf = p.event(buf[:0], v)
				p.sent = v
			}
		case <-heartbeat.C:
			buf = append(buf[:0], ": heartbeat\n\n"...)
		case <-p.st.Done():
			return
		case <-expired:
			return
		case <-done:
			return
		}
		if len(buf) > 0 {
			if err := out.write(buf); err != nil {
				return
			}
			buf = buf[:0]
		}
	}
}
