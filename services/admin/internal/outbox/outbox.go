// Package outbox delivers the invalidations that writes enqueue in PostgreSQL: a
// Publisher tells evaluators (in Redis: it fences each environment's entry and
// publishes the new version). It runs at once when a write commits (Kick) and on a
// timer, so an invalidation enqueued while Redis was down, or before a restart, is
// delivered once Redis answers again.
package outbox

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Store is the outbox's view of storage: it hands up to limit due invalidations to
// deliver, keeps those that failed for a retry, and says what it did.
type Store interface {
	DeliverOutbox(ctx context.Context, limit int, deliver func(context.Context, domain.Invalidation) error) (domain.DeliveryReport, error)
}

// Publisher tells evaluators that an environment changed.
type Publisher interface {
	Publish(ctx context.Context, inv domain.Invalidation) error
}

// batch is how many invalidations one round takes.
const batch = 200

// Worker delivers invalidations.
type Worker struct {
	store       Store
	publisher   Publisher
	log         *slog.Logger
	interval    time.Duration
	callTimeout time.Duration
	kick        chan struct{}

	published atomic.Int64
	failed    atomic.Int64
}

// New returns a worker that retries every interval and gives each publication
// callTimeout.
func New(log *slog.Logger, store Store, publisher Publisher, interval, callTimeout time.Duration) *Worker {
	return &Worker{store: store, publisher: publisher, log: log, interval: interval, callTimeout: callTimeout, kick: make(chan struct{}, 1)}
}

// Kick asks for a delivery round now; it never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Published and Failed count invalidations delivered and delivery attempts that failed.
func (w *Worker) Published() int64 { return w.published.Load() }

// Failed counts failed delivery attempts.
func (w *Worker) Failed() int64 { return w.failed.Load() }

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		w.Drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-t.C:
		}
	}
}

// Drain runs delivery rounds until one delivers nothing: everything due is delivered,
// or Redis is failing and the rest waits for its backoff.
func (w *Worker) Drain(ctx context.Context) {
	for ctx.Err() == nil {
		rep, err := w.store.DeliverOutbox(ctx, batch, w.deliver)
		if err != nil {
			if ctx.Err() == nil {
				w.log.WarnContext(ctx, "outbox delivery failed", "error", err)
			}
			return
		}
		w.published.Add(int64(rep.Delivered))
		w.failed.Add(int64(rep.Failed))
		if rep.Failed > 0 {
			w.log.WarnContext(ctx, "invalidations not delivered; will retry", "failed", rep.Failed)
		}
		if rep.Delivered == 0 {
			return
		}
	}
}

func (w *Worker) deliver(ctx context.Context, inv domain.Invalidation) error {
	ctx, cancel := context.WithTimeout(ctx, w.callTimeout)
	defer cancel()
	return w.publisher.Publish(ctx, inv)
}
