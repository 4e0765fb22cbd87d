package switchyard

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// maxStreamLine bounds one line of the stream.
	maxStreamLine = 64 << 10
	// maxAdvertisedHeartbeat caps the heartbeat an evaluator advertises, so that a
	// dead stream is still noticed within a quarter of an hour.
	maxAdvertisedHeartbeat = 5 * time.Minute
)

var (
	// errSilent ends a stream that has been silent for three heartbeats (the longer of
	// WithHeartbeat and the one the evaluator advertises).
	errSilent = errors.New("no heartbeat")
	// errRestream ends a stream opened with a Last-Event-ID of other definitions than
	// those now held (a bootstrap of another environment): the evaluator would not
	// announce the versions below it.
	errRestream = errors.New("reopening the stream for the definitions now held")
)

// streamLoop keeps the definitions stream open: it reconnects after each failure with
// exponential backoff and full jitter, announcing where it is (Last-Event-ID) so that
// the evaluator sends the newest version at once if it is newer.
func (c *Client) streamLoop(ctx context.Context) {
	defer c.wg.Done()
	bo := backoff{min: c.cfg.backoffMin, max: c.cfg.backoffMax}
	failures := 0
	for {
		connected, err := c.streamOnce(ctx, &bo)
		c.setStreamUp(false)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errRestream) {
			continue
		}
		if permanent(err) {
			c.refuse(err)
			return
		}
		c.failed(err)
		c.poke()
		d := bo.next()
		var se *StatusError
		if errors.As(err, &se) && se.RetryAfter > d {
			d = se.RetryAfter
		}
		if connected {
			failures = 0
		}
		failures++
		// One line for a lost stream, then quiet until it is back: an evaluator
		// restart is routine.
		if failures == 1 {
			c.log.Info("switchyard: definitions stream lost; reconnecting", "error", err.Error())
		} else {
			c.log.Debug("switchyard: definitions stream reconnect failed", "error", err.Error(), "retry_in", d.String())
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// streamOnce opens the stream and reads it until it ends, announcing the versions it
// hears; connected says whether it got as far as the stream. It resets bo once the
// connection has lasted a heartbeat.
func (c *Client) streamOnce(ctx context.Context, bo *backoff) (connected bool, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c.mu.Lock()
	c.streamCancel = cancel
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.streamCancel = nil
		c.mu.Unlock()
	}()
	heartbeat := c.cfg.heartbeat // or longer, if the evaluator says so
	silence := 3 * heartbeat
	watchdog := time.AfterFunc(silence, func() { cancel(errSilent) })
	defer watchdog.Stop()
	wrap := func(err error) error {
		switch context.Cause(ctx) {
		case errSilent:
			return fmt.Errorf("switchyard: %s: nothing heard for %v (three heartbeats)", opStream, silence)
		case errRestream:
			return errRestream
		}
		return fmt.Errorf("switchyard: %s: %w", opStream, err)
	}

	req, err := c.newRequest(ctx, http.MethodGet, "/api/v1/stream", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if v := c.Version(); v > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(v, 10))
	}
	resp, err := c.streamHTTP.Do(req)
	if err != nil {
		return false, wrap(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, statusError(opStream, resp, snippet(resp.Body))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, fmt.Errorf("switchyard: %s: answered %q, not an event stream", opStream, mt)
	}

	opened := time.Now()
	c.setStreamUp(true)
	if c.announced.Load() <= c.Version() {
		c.succeeded()
	}
	c.poke()
	c.log.Debug("switchyard: definitions stream connected")
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4096), maxStreamLine)
	var ev sseEvent
	first := true
	for sc.Scan() {
		if first {
			first = false
			// An evaluator whose heartbeat is longer than the client was told would
			// otherwise have its streams taken for dead between two heartbeats.
			if hb := advertisedHeartbeat(sc.Text()); hb > heartbeat {
				heartbeat, silence = hb, 3*hb
				c.log.Debug("switchyard: the evaluator's heartbeat is longer than WithHeartbeat; using it", "heartbeat", hb.String())
			}
		}
		watchdog.Reset(silence)
		if bo.n > 0 && time.Since(opened) >= heartbeat {
			bo.reset()
		}
		if ev.line(sc.Text()) {
			c.received(&ev)
			ev = sseEvent{}
		}
	}
	err = sc.Err()
	if err == nil {
		err = io.ErrUnexpectedEOF
		if context.Cause(ctx) == nil {
			err = errors.New("the evaluator closed the stream")
		}
	}
	return true, wrap(err)
}

// received handles one event: {"version": N}, or only an id of N.
func (c *Client) received(ev *sseEvent) {
	if ev.event != "" && ev.event != "message" {
		return
	}
	var v int64
	var body struct {
		Version *int64 `json:"version"`
	}
	if ev.data != "" && json.Unmarshal([]byte(ev.data), &body) == nil && body.Version != nil {
		v = *body.Version
	} else if n, err := strconv.ParseInt(ev.id, 10, 64); err == nil {
		v = n
	} else {
		c.log.Debug("switchyard: ignoring a stream event without a version", "data", ev.data)
		return
	}
	c.announce(v)
}

// announce records a version the stream announced, and wakes the sync loop when it is
// newer than what it holds.
func (c *Client) announce(v int64) {
	for {
		cur := c.announced.Load()
		if v <= cur || c.announced.CompareAndSwap(cur, v) {
			break
		}
	}
	if v > c.Version() {
		c.poke()
	}
}

// advertisedHeartbeat reads the comment with which the evaluator opens a stream,
// ": heartbeat <seconds>", and returns that interval (at most maxAdvertisedHeartbeat),
// or 0 when the line is not such a comment.
func advertisedHeartbeat(line string) time.Duration {
	rest, ok := strings.CutPrefix(line, ":")
	if !ok {
		return 0
	}
	rest, ok = strings.CutPrefix(strings.TrimSpace(rest), "heartbeat ")
	if !ok {
		return 0
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
	if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) || secs <= 0 {
		return 0
	}
	if secs >= maxAdvertisedHeartbeat.Seconds() {
		return maxAdvertisedHeartbeat
	}
	return time.Duration(secs * float64(time.Second))
}

// sseEvent accumulates the fields of one server-sent event.
type sseEvent struct {
	id, event, data string
	hasData         bool
}

// line takes one line of the stream and reports whether it ends an event.
func (e *sseEvent) line(l string) (dispatch bool) {
	if l == "" {
		return e.hasData || e.id != ""
	}
	if l[0] == ':' { // a comment: the heartbeat
		return false
	}
	name, value, _ := strings.Cut(l, ":")
	value = strings.TrimPrefix(value, " ")
	switch name {
	case "id":
		e.id = value
	case "event":
		e.event = value
	case "data":
		if e.hasData {
			e.data += "\n"
		}
		e.data += value
		e.hasData = true
	}
	return false
}
