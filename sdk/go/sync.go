package switchyard

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

const (
	opFlags  = "GET /api/v1/flags"
	opStream = "GET /api/v1/stream"
	opEvents = "POST /api/v1/events"

	// maxBehindDelay caps the wait before asking again for a version the stream
	// announced and the evaluator that answered did not have yet.
	maxBehindDelay = 5 * time.Second
)

// due says why the sync loop will download the definitions next.
type due int

const (
	dueNone   due = iota // nothing planned: the stream is up and every announcement held
	dueFetch             // at once: the first load, or a version announced
	duePoll              // the stream is down or off
	dueRetry             // the last download failed
	dueBehind            // the evaluator answered an older version than the stream announced
)

// syncLoop downloads the definitions: at once, then whenever the stream announces a
// version newer than the one held, and every poll interval while the stream is down.
// Failed downloads are retried with backoff, or after the evaluator's Retry-After when
// that is longer.
func (c *Client) syncLoop(ctx context.Context) {
	defer c.wg.Done()
	retry := backoff{min: c.cfg.backoffMin, max: c.cfg.backoffMax}
	behind := backoff{min: c.cfg.backoffMin, max: min(c.cfg.backoffMax, maxBehindDelay)}
	timer := time.NewTimer(0)
	defer timer.Stop()
	next, at := dueFetch, time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-c.wake:
		}
		now := time.Now()
		streaming := c.streaming()
		switch {
		case c.announced.Load() > c.Version() && (next == dueNone || next == duePoll):
			next, at = dueFetch, now
		case next == dueNone && !streaming:
			next, at = duePoll, now.Add(jitter(c.cfg.pollInterval))
		case next == duePoll && streaming:
			next = dueNone
		}
		if next == dueNone || now.Before(at) {
			plan(timer, next, at)
			continue
		}

		err := c.fetch(ctx)
		if ctx.Err() != nil {
			return
		}
		now = time.Now()
		switch {
		case permanent(err):
			c.refuse(err)
			return
		case err != nil:
			c.failed(err)
			d := retry.next()
			// An evaluator shedding load (429, 503) says how long to leave it alone;
			// the stream's announcements do not cut that short (dueRetry stands).
			var se *StatusError
			if errors.As(err, &se) && se.RetryAfter > d {
				d = se.RetryAfter
			}
			c.log.Debug("switchyard: downloading definitions failed", "error", err.Error(), "retry_in", d.String())
			next, at = dueRetry, now.Add(d)
		case c.announced.Load() > c.Version():
			retry.reset()
			next, at = dueBehind, now.Add(behind.next())
		default:
			retry.reset()
			behind.reset()
			c.succeeded()
			next = dueNone
			if !c.streaming() {
				next, at = duePoll, now.Add(jitter(c.cfg.pollInterval))
			}
		}
		plan(timer, next, at)
	}
}

func plan(t *time.Timer, next due, at time.Time) {
	if next == dueNone {
		t.Stop()
		return
	}
	t.Reset(max(time.Until(at), 0))
}

// streaming reports whether the stream is connected.
func (c *Client) streaming() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health.streamUp
}

// fetch downloads the definitions and swaps them in when they are newer.
func (c *Client) fetch(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.requestTimeout)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodGet, "/api/v1/flags", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	// Not for bootstrap definitions, which may be of another environment at the same
	// version.
	if d := c.defs.Load(); d != nil && d.etag != "" {
		req.Header.Set("If-None-Match", d.etag)
	}
	resp, err := c.cfg.http.Do(req)
	if err != nil {
		return fmt.Errorf("switchyard: %s: %w", opFlags, err)
	}
	defer drainClose(resp.Body)
	switch resp.StatusCode {
	case http.StatusNotModified:
		return nil
	case http.StatusOK:
	default:
		return statusError(opFlags, resp, snippet(resp.Body))
	}
	body := io.Reader(resp.Body)
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return fmt.Errorf("switchyard: %s: %w", opFlags, err)
		}
		defer zr.Close()
		body = zr
	}
	s, err := decodeDefinitions(body)
	if err != nil {
		return fmt.Errorf("switchyard: %s: %w", opFlags, err)
	}
	if err := c.apply(s, resp.Header.Get("ETag"), "evaluator"); err != nil {
		return fmt.Errorf("switchyard: %s: %w", opFlags, err)
	}
	return nil
}

func snippet(r io.Reader) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	return b
}

// drainClose reads a little of what is left so that the connection can be reused.
func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

// backoff draws the delays between failed attempts: exponential with full jitter, the
// n-th (from 0) uniform in [0, min(min·2ⁿ, max)).
type backoff struct {
	min, max time.Duration
	n        int
}

func (b *backoff) next() time.Duration {
	ceil := b.min
	for i := 0; i < b.n && ceil < b.max; i++ {
		ceil *= 2
	}
	ceil = min(ceil, b.max)
	if ceil < b.max {
		b.n++
	}
	return rand.N(ceil) + 1
}

func (b *backoff) reset() { b.n = 0 }

// jitter shortens an interval by up to a fifth at random.
func jitter(d time.Duration) time.Duration {
	return d - rand.N(d/5+1)
}
