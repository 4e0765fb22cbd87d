package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/evaluator/internal/keys"
)

// stream answers GET /api/v1/stream: one event per new version of the environment's
// definitions, for server SDKs (docs/LIVE_UPDATES.md).
func (a *API) stream(c echo.Context) error {
	return a.serveStream(c, sdkKey(c), versionEvent)
}

// ofrepStream answers GET /ofrep/v1/stream?token=…: OFREP's change events. The token,
// from a bulk answer, stands for the SDK key, which browsers' EventSource cannot send.
func (a *API) ofrepStream(c echo.Context) error {
	env, keyID, err := a.tokens.Verify(c.QueryParam("token"))
	if err != nil {
		return domain.Wrap(domain.CodeUnauthorized, err, err.Error())
	}
	// The key is asked for again: a token outlives nothing its key does not.
	k, err := a.keys.Valid(c.Request().Context(), keyID)
	switch {
	case errors.Is(err, keys.ErrUnknownKey) || (err == nil && k.EnvironmentID != env):
		return domain.Errorf(domain.CodeUnauthorized, "the SDK key this stream token was issued for no longer exists")
	case domain.ErrorCode(err) == domain.CodeUnauthorized:
		return err
	case err != nil:
		return domain.Wrap(domain.CodeUnavailable, err, "cannot check the stream token's key right now; retry")
	}
	c.Set("key", &k)
	return a.serveStream(c, &k, refetchEvent)
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

// serveStream holds a stream open until the client leaves, the key is revoked or
// expires, or the evaluator shuts down. The first event is the current version,
// unless the client says it has it; each later one a newer version.
func (a *API) serveStream(c echo.Context, k *keys.Key, event func([]byte, int64) []byte) error {
	snap, err := a.snapshot(c)
	if err != nil {
		return err
	}
	st, err := a.hub.Open(k.EnvironmentID, k.ID, k.ExpiresAt)
	if err != nil {
		return err
	}
	defer st.Close()
	// Opened before reading the version: an announcement in between wakes the stream.
	current := a.hub.Version(k.EnvironmentID, snap.Version)
	sent := lastEventID(c.Request())

	w := c.Response()
	rc := http.NewResponseController(w)
	// The server's write timeout bounds answers, not streams.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx would hold events back otherwise
	w.WriteHeader(http.StatusOK)

	buf := make([]byte, 0, 128)
	buf = append(buf, "retry: 1000\n\n"...)
	if current > sent {
		buf = event(buf, current)
		sent = current
	}
	heartbeat := time.NewTicker(a.live.Heartbeat)
	defer heartbeat.Stop()
	var expired <-chan time.Time
	if k.ExpiresAt != nil {
		t := time.NewTimer(time.Until(*k.ExpiresAt))
		defer t.Stop()
		expired = t.C
	}
	done := c.Request().Context().Done()
	for {
		if len(buf) > 0 {
			if _, err := w.Write(buf); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
			buf = buf[:0]
		}
		select {
		case <-st.Wake():
			if v := a.hub.Version(k.EnvironmentID, 0); v > sent {
				buf = event(buf, v)
				sent = v
			}
		case <-heartbeat.C:
			buf = append(buf, ": heartbeat\n\n"...)
		case <-st.Done():
			return nil
		case <-expired:
			return nil
		case <-done:
			return nil
		}
	}
}
