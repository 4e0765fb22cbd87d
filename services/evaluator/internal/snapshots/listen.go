package snapshots

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/platform/rediscache"
)

// Listener follows the invalidation channel.
type Listener struct {
	log *slog.Logger
	rdb redis.UniversalClient
	// OnInvalidation is called for every message; OnResubscribe after a reconnect, when
	// messages may have been missed.
	OnInvalidation func(rediscache.Invalidation)
	OnResubscribe  func()

	connected    atomic.Bool
	Received     atomic.Int64 // invalidations received
	Resubscribed atomic.Int64 // reconnections after a lost subscription
}

// NewListener returns a listener on rdb.
func NewListener(log *slog.Logger, rdb redis.UniversalClient) *Listener {
	return &Listener{log: log, rdb: rdb}
}

// Connected reports whether the subscription is up.
func (l *Listener) Connected() bool { return l.connected.Load() }

// Run listens until ctx ends, resubscribing after every lost connection.
func (l *Listener) Run(ctx context.Context) {
	// failed: an attempt failed before, so messages may have been missed even before the
	// first subscription (Redis down at start while the admin service announced).
	subscribed, failed := false, false
	backoff := 50 * time.Millisecond
	var since time.Time
	for ctx.Err() == nil {
		err := l.listen(ctx, func() {
			since = time.Now()
			if subscribed || failed {
				l.Resubscribed.Add(1)
				if l.OnResubscribe != nil {
					// Messages published while we were away are lost: forget what they
					// might have invalidated.
					l.log.Info("resubscribed to invalidations; dropping in-process snapshots")
					l.OnResubscribe()
				}
			}
			subscribed = true
		})
		if ctx.Err() != nil {
			return
		}
		failed = true
		if l.connected.Swap(false) {
			l.log.Warn("invalidation channel lost; will resubscribe", "error", err)
		}
		// A subscription that held for a while starts the backoff afresh; one that
		// keeps dropping at once does not, or every drop would reload every snapshot.
		if !since.IsZero() && time.Since(since) > time.Second {
			backoff = 50 * time.Millisecond
		}
		since = time.Time{}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// listen holds one subscription until it fails, calling subscribed once Redis has
// confirmed it. Every failure ends the subscription and Run starts a fresh one: a
// subscription Redis refused (a permission, a failover) is not left half alive.
func (l *Listener) listen(ctx context.Context, subscribed func()) error {
	sub := l.rdb.Subscribe(ctx, rediscache.Channel)
	defer sub.Close()
	// Receive does not return on cancellation while it waits for a message; closing the
	// subscription makes it.
	stop := context.AfterFunc(ctx, func() { sub.Close() })
	defer stop()
	for {
		msg, err := sub.Receive(ctx)
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			l.connected.Store(true)
			subscribed()
		case *redis.Message:
			inv, err := rediscache.ParseInvalidation(m.Payload)
			if err != nil {
				l.log.Warn("bad invalidation message", "error", err)
				continue
			}
			l.Received.Add(1)
			if l.OnInvalidation != nil {
				l.OnInvalidation(inv)
			}
		}
	}
}
