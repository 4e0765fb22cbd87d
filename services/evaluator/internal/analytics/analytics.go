// Package analytics counts evaluations per environment × flag × variant × reason and
// minute, in memory, and flushes the counts in batches (every few seconds and at
// shutdown) with one statement per flush. Counting takes a short lock and does no I/O;
// memory is bounded by a maximum number of series, past which counts are dropped (and
// the drops counted).
package analytics

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/pkg/eval"
)

// Series identifies one counter.
type Series struct {
	EnvironmentID string
	FlagKey       string
	Minute        time.Time
	Variant       string
	Reason        string
}

// Batch is one flush: the counts, and when each flag of each environment was last
// evaluated.
type Batch struct {
	Counts map[Series]int64
	Last   map[[2]string]time.Time // environment id, flag key
}

// Writer stores a batch in one statement.
type Writer interface {
	WriteEvaluations(ctx context.Context, b Batch) error
}

// Counter counts evaluations.
type Counter struct {
	log *slog.Logger
	max int
	now func() time.Time

	mu    sync.Mutex
	batch Batch

	Dropped atomic.Int64 // evaluations not counted because the series limit was reached
	Flushed atomic.Int64 // evaluations written

	// OnFlush, when set, sees each batch written (for metrics); it must not block.
	OnFlush func(Batch)
}

// New returns a counter holding at most max series between flushes.
func New(log *slog.Logger, max int) *Counter {
	c := &Counter{log: log, max: max, now: time.Now}
	c.batch = newBatch()
	return c
}

func newBatch() Batch {
	return Batch{Counts: map[Series]int64{}, Last: map[[2]string]time.Time{}}
}

// Add counts the results of one request in an environment.
func (c *Counter) Add(environmentID string, results ...eval.Result) {
	now := c.now().UTC()
	minute := now.Truncate(time.Minute)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range results {
		if r.ErrorCode == eval.ErrFlagNotFound {
			continue
		}
		c.count(Series{EnvironmentID: environmentID, FlagKey: r.Key, Minute: minute, Variant: r.Variant, Reason: string(r.Reason)}, 1, now)
	}
}

// Count is one entry of an SDK's report: n evaluations of a flag with one outcome.
type Count struct {
	Flag, Variant, Reason string
	N                     int64
}

// AddCounts counts evaluations an SDK made in process and reported, in the minute
// they arrive.
func (c *Counter) AddCounts(environmentID string, counts []Count) {
	now := c.now().UTC()
	minute := now.Truncate(time.Minute)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range counts {
		c.count(Series{EnvironmentID: environmentID, FlagKey: n.Flag, Minute: minute, Variant: n.Variant, Reason: n.Reason}, n.N, now)
	}
}

// count adds n to a series; c.mu is held.
func (c *Counter) count(s Series, n int64, now time.Time) {
	if _, ok := c.batch.Counts[s]; !ok && len(c.batch.Counts) >= c.max {
		c.Dropped.Add(n)
		return
	}
	c.batch.Counts[s] += n
	c.batch.Last[[2]string{s.EnvironmentID, s.FlagKey}] = now
}

// Flush writes what was counted since the last flush. A failed write keeps its counts
// for the next flush, within the series limit.
func (c *Counter) Flush(ctx context.Context, w Writer) error {
	c.mu.Lock()
	b := c.batch
	c.batch = newBatch()
	c.mu.Unlock()
	if len(b.Counts) == 0 {
		return nil
	}
	if err := w.WriteEvaluations(ctx, b); err != nil {
		c.mu.Lock()
		for s, n := range b.Counts {
			if _, ok := c.batch.Counts[s]; !ok && len(c.batch.Counts) >= c.max {
				c.Dropped.Add(n)
				continue
			}
			c.batch.Counts[s] += n
		}
		for k, t := range b.Last {
			if t.After(c.batch.Last[k]) {
				c.batch.Last[k] = t
			}
		}
		c.mu.Unlock()
		return err
	}
	var n int64
	for _, v := range b.Counts {
		n += v
	}
	c.Flushed.Add(n)
	if c.OnFlush != nil {
		c.OnFlush(b)
	}
	return nil
}

// Run flushes every interval until ctx ends; the caller flushes once more at shutdown.
func (c *Counter) Run(ctx context.Context, w Writer, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fctx, cancel := context.WithTimeout(ctx, interval)
			if err := c.Flush(fctx, w); err != nil && ctx.Err() == nil {
				c.log.Warn("analytics flush failed; kept for the next one", "error", err)
			}
			cancel()
		}
	}
}
