package auth

import (
	"sync"
	"time"
)

// Limiter allows at most N events per key in a sliding window, in memory. Memory is
// bounded: keys whose window has passed are swept.
type Limiter struct {
	n      int
	window time.Duration
	now    func() time.Time

	mu     sync.Mutex
	events map[string][]time.Time
	sweep  time.Time
}

// NewLimiter allows n events per window.
func NewLimiter(n int, window time.Duration) *Limiter {
	return &Limiter{n: n, window: window, now: time.Now, events: map[string][]time.Time{}}
}

// Allow records an event for key unless the key is over its limit, in which case it
// says how long until the next event is allowed.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > l.window {
		for k, ts := range l.events {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) > l.window {
				delete(l.events, k)
			}
		}
		l.sweep = now
	}
	ts := l.events[key]
	for len(ts) > 0 && now.Sub(ts[0]) >= l.window {
		ts = ts[1:]
	}
	if len(ts) >= l.n {
		l.events[key] = ts
		return false, ts[0].Add(l.window).Sub(now)
	}
	l.events[key] = append(ts, now)
	return true, 0
}
