package switchyard

import (
	"time"
)

// State is where a client stands with the evaluator.
type State int

// States.
const (
	// StateInitializing: no definitions yet; evaluations answer defaults.
	StateInitializing State = iota
	// StateReady: definitions held and kept current.
	StateReady
	// StateStale: definitions held, but the client has been cut off from the evaluator
	// (stream down and downloads failing) for longer than WithStaleAfter; it keeps
	// serving what it holds and keeps trying.
	StateStale
	// StateError: the evaluator refused the SDK key; the client no longer contacts it
	// and serves what it holds, if anything.
	StateError
)

func (s State) String() string {
	switch s {
	case StateInitializing:
		return "initializing"
	case StateReady:
		return "ready"
	case StateStale:
		return "stale"
	case StateError:
		return "error"
	}
	return "unknown"
}

// Status is a client's state, since when, and the definitions it serves.
type Status struct {
	State State
	Since time.Time
	// Version of the definitions served; 0 before any.
	Version int64
	// Err is the last failure to reach the evaluator, nil when the last attempt
	// worked; for StateError, the refusal.
	Err error
	// Streaming says whether the definitions stream is connected.
	Streaming bool
}

// Change is a new version of the definitions, after the first.
type Change struct {
	OldVersion, NewVersion int64
	// Flags are the keys of the flags added, removed or defined differently, sorted.
	Flags []string
}

// health is what the data source knows of the connection; guarded by Client.mu.
type health struct {
	streamUp bool
	// failingSince is the time of the first failure since the client was last known
	// current (the stream connected, or a download succeeded, with every announced
	// version held); zero while current.
	failingSince time.Time
	lastErr      error
	refusal      error
	staleTimer   *time.Timer
}

// stateLocked computes the state from health; c.mu is held.
func (c *Client) stateLocked(now time.Time) State {
	h := &c.health
	d := c.defs.Load()
	switch {
	case h.refusal != nil:
		return StateError
	case d == nil:
		return StateInitializing
	case !h.failingSince.IsZero() && now.Sub(h.failingSince) >= c.cfg.staleAfter && !c.currentLocked():
		return StateStale
	}
	return StateReady
}

// currentLocked reports whether the stream is up and every version it announced is
// held; c.mu is held.
func (c *Client) currentLocked() bool {
	return c.health.streamUp && c.announced.Load() <= c.Version()
}

// succeeded records a contact that leaves the client current (a download with every
// announced version held, or a stream connected).
func (c *Client) succeeded() {
	c.mu.Lock()
	c.health.lastErr = nil
	c.health.failingSince = time.Time{}
	if c.health.staleTimer != nil {
		c.health.staleTimer.Stop()
		c.health.staleTimer = nil
	}
	c.mu.Unlock()
	c.updateStatus()
}

// failed records a failure to reach the evaluator.
func (c *Client) failed(err error) {
	c.mu.Lock()
	c.health.lastErr = err
	if c.health.failingSince.IsZero() {
		c.health.failingSince = time.Now()
		if c.health.staleTimer == nil && !c.isClosed() {
			// The status turns stale with time alone: look again then.
			c.health.staleTimer = time.AfterFunc(c.cfg.staleAfter, c.updateStatus)
		}
	}
	c.mu.Unlock()
	c.updateStatus()
}

func (c *Client) setStreamUp(up bool) {
	c.mu.Lock()
	c.health.streamUp = up
	c.mu.Unlock()
}

// refuse records that the evaluator refused the key.
func (c *Client) refuse(err error) {
	c.mu.Lock()
	first := c.health.refusal == nil
	if first {
		c.health.refusal = err
		close(c.refused)
	}
	c.mu.Unlock()
	if first {
		c.log.Error("switchyard: the evaluator refused the SDK key; no more updates", "error", err.Error())
		c.stop() // the other loop too
	}
	c.updateStatus()
}

// Status returns the client's current status.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.statusLocked()
}

func (c *Client) statusLocked() Status {
	s := c.status
	s.Version = c.Version()
	s.Err = c.health.lastErr
	if c.health.refusal != nil {
		s.Err = c.health.refusal
	}
	s.Streaming = c.health.streamUp
	return s
}

// updateStatus recomputes the state and tells the OnStatus listeners when it changed.
func (c *Client) updateStatus() {
	c.mu.Lock()
	notify := c.refreshLocked()
	c.mu.Unlock()
	notify()
}

// refreshLocked recomputes the state with c.mu held; the function it returns logs the
// change and tells the listeners, and is called without c.mu.
func (c *Client) refreshLocked() (notify func()) {
	now := time.Now()
	st := c.stateLocked(now)
	if st == c.status.State {
		return func() {}
	}
	prev := c.status.State
	c.status.State, c.status.Since = st, now
	s := c.statusLocked()
	fns := c.onStatus.list()
	return func() {
		switch {
		case st == StateStale:
			c.log.Warn("switchyard: cut off from the evaluator; serving the definitions held",
				"version", s.Version, "for", c.cfg.staleAfter.String(), "error", errString(s.Err))
		case st == StateReady && prev == StateStale:
			c.log.Info("switchyard: reconnected to the evaluator", "version", s.Version)
		}
		for _, f := range fns {
			c.dispatch.do(func() { f(s) })
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// listeners is a set of callbacks in registration order; guarded by Client.mu.
type listeners[T any] struct {
	next int
	fns  []listener[T]
}

type listener[T any] struct {
	id int
	f  func(T)
}

func (l *listeners[T]) add(f func(T)) int {
	l.next++
	l.fns = append(l.fns, listener[T]{l.next, f})
	return l.next
}

func (l *listeners[T]) remove(id int) {
	for i, x := range l.fns {
		if x.id == id {
			l.fns = append(l.fns[:i:i], l.fns[i+1:]...)
			return
		}
	}
}

func (l *listeners[T]) list() []func(T) {
	out := make([]func(T), len(l.fns))
	for i, x := range l.fns {
		out[i] = x.f
	}
	return out
}

// OnStatus calls f with the new status each time the state changes. Callbacks run one
// at a time, in order, on one goroutine of the client's; a slow callback delays the
// next ones, never the evaluations. A callback may call Close. The returned function
// unregisters f.
func (c *Client) OnStatus(f func(Status)) (unregister func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.onStatus.add(f)
	return func() { c.mu.Lock(); c.onStatus.remove(id); c.mu.Unlock() }
}

// OnChange calls f each time a new version of the definitions changes flags (not for
// the first definitions: see OnReady). Callbacks run as OnStatus's do.
func (c *Client) OnChange(f func(Change)) (unregister func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.onChange.add(f)
	return func() { c.mu.Lock(); c.onChange.remove(id); c.mu.Unlock() }
}

// OnReady calls f once, when the first definitions are held (at once if they already
// are). Callbacks run as OnStatus's do.
func (c *Client) OnReady(f func()) (unregister func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.defs.Load() != nil {
		c.dispatch.do(f)
		return func() {}
	}
	id := c.onReady.add(func(struct{}) { f() })
	return func() { c.mu.Lock(); c.onReady.remove(id); c.mu.Unlock() }
}
