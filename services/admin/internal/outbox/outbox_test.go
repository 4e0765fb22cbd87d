package outbox

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// queue is a store holding invalidations, handing out up to limit a round.
type queue struct {
	mu      sync.Mutex
	pending []domain.Invalidation
	rounds  int
}

func (q *queue) add(inv domain.Invalidation) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, inv)
}

func (q *queue) roundsDone() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.rounds
}

func (q *queue) DeliverOutbox(ctx context.Context, limit int, deliver func(context.Context, domain.Invalidation) error) (domain.DeliveryReport, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rounds++
	var rep domain.DeliveryReport
	n := min(limit, len(q.pending))
	var kept []domain.Invalidation
	for _, inv := range q.pending[:n] {
		if err := deliver(ctx, inv); err != nil {
			rep.Failed++
			kept = append(kept, inv)
			continue
		}
		rep.Delivered++
	}
	q.pending = append(kept, q.pending[n:]...)
	return rep, nil
}

// publisher records what it publishes, and the time each call was given.
type publisher struct {
	published []domain.Invalidation
	deadlines []time.Duration
	fail      bool
}

func (p *publisher) Publish(ctx context.Context, inv domain.Invalidation) error {
	d, _ := ctx.Deadline()
	p.deadlines = append(p.deadlines, time.Until(d))
	if p.fail {
		return errors.New("redis down")
	}
	p.published = append(p.published, inv)
	return nil
}

// TestDrain: a drain delivers round after round until nothing is left, each
// publication with its own short deadline; when publishing fails it stops after the
// failing round and counts the failures.
func TestDrain(t *testing.T) {
	q := &queue{}
	for i := range batch*2 + 5 {
		q.pending = append(q.pending, domain.Invalidation{EnvironmentID: "env", Version: int64(i + 1)})
	}
	p := &publisher{}
	w := New(slog.New(slog.DiscardHandler), q, p, time.Hour, 50*time.Millisecond)
	w.Drain(context.Background())
	if len(q.pending) != 0 || len(p.published) != batch*2+5 || w.Published() != batch*2+5 || q.rounds != 4 {
		t.Fatalf("left %d, published %d (counted %d) in %d rounds", len(q.pending), len(p.published), w.Published(), q.rounds)
	}
	for _, d := range p.deadlines {
		if d <= 0 || d > 50*time.Millisecond {
			t.Fatalf("a publication had %v", d)
		}
	}

	q.pending = []domain.Invalidation{{EnvironmentID: "env", Version: 1}, {EnvironmentID: "other", Version: 1}}
	q.rounds = 0
	p.fail = true
	w.Drain(context.Background())
	if q.rounds != 1 || len(q.pending) != 2 || w.Failed() != 2 {
		t.Fatalf("with Redis down: %d rounds, %d left, %d failures counted", q.rounds, len(q.pending), w.Failed())
	}
}

// TestKick: a kick never blocks, and wakes an idle worker at once (its timer is an
// hour away).
func TestKick(t *testing.T) {
	q := &queue{}
	w := New(slog.New(slog.DiscardHandler), q, &publisher{}, time.Hour, time.Second)
	for range 3 {
		w.Kick() // one is kept for the worker; the others are dropped, without blocking
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the first round and the kept kick's", func() bool { return q.roundsDone() == 2 })
	q.add(domain.Invalidation{EnvironmentID: "env", Version: 7})
	w.Kick()
	waitFor(t, "the kicked round", func() bool { return w.Published() == 1 })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
