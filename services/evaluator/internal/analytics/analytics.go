// Package analytics counts evaluations per environment × flag × variant × reason and
// minute, in memory, and flushes the counts in batches (every few seconds and at
// shutdown) with one statement per flush.
//
// Counting is on the hot path of every evaluation, so once a series has been seen it
// takes no lock, allocates nothing and writes no map: each series has a persistent slot
// of two atomic cells, one per minute parity, found through read-mostly maps. Only a
// series seen for the first time takes a mutex, to create its slot. A flush swaps the
// cells to zero and attributes them to the current and the previous minute, which is
// exact as long as flushes come less than a minute apart. Memory is bounded by a
// maximum number of series (live slots), past which counts are dropped (and the drops
// counted); slots idle for a few minutes are removed at a flush to make room.
package analytics

import (
	"context"
	"log/slog"
	"math"
	"strings"
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

const (
	// idleAfter: a slot that counted nothing for this long is removed at a flush. Long
	// enough that a series evaluated now and then keeps its slot instead of taking the
	// slow path again and again.
	idleAfter = 2 * time.Minute
	// lastEvery: a flag's last-evaluated time moves in steps of at least this much, so
	// that cores evaluating the same flag do not keep stealing its cache line.
	lastEvery = int64(time.Second)
	// dead marks a removed slot's cells. Counts are positive, so an increment that
	// lands on a dead cell sees a negative result and counts again in a live slot;
	// the dead cell is never harvested.
	dead = math.MinInt64 / 2
)

// Counter counts evaluations.
type Counter struct {
	log *slog.Logger
	max int
	now func() time.Time // a test hook

	envs readMap[*envCounts] // by environment id; written under mu

	// mu orders the creation and the removal of slots; the hot path never takes it.
	mu      sync.Mutex
	live    int   // slots in envs, at most max
	removed int64 // slots removed for idleness

	// flushMu serialises flushes: pending, and each slot's seen time, belong to the flush.
	flushMu sync.Mutex
	pending Batch // counts of failed writes, at most max series

	Dropped atomic.Int64 // evaluations not counted because the series limit was reached
	Flushed atomic.Int64 // evaluations written

	// OnFlush, when set, sees each batch written (for metrics); it must not block.
	OnFlush func(Batch)
}

// envCounts are the flags counted in one environment.
type envCounts struct {
	id    string
	flags readMap[*flagCounts] // by flag key; written under c.mu
}

// flagCounts are the outcomes counted for one flag.
type flagCounts struct {
	key  string
	last atomic.Int64 // Unix nanoseconds of the last evaluation, in steps of lastEvery
	// slots is replaced, never modified, under c.mu: a flag has a handful of outcomes,
	// scanned without a lock.
	slots atomic.Pointer[[]*slot]
}

// slot counts one outcome (variant, reason) of a flag. It fills a 64-byte cache line,
// the allocator's size class, so that cores counting different series do not share one.
type slot struct {
	variant, reason string
	cells           [2]atomic.Int64 // by Unix minute & 1
	seen            int64           // Unix nanoseconds: created, or last harvested non-zero; flushMu
	_               [8]byte
}

// New returns a counter holding at most max series.
func New(log *slog.Logger, max int) *Counter {
	return &Counter{log: log, max: max, now: time.Now, pending: newBatch()}
}

func newBatch() Batch {
	return Batch{Counts: map[Series]int64{}, Last: map[[2]string]time.Time{}}
}

// Add counts the results of one request in an environment.
func (c *Counter) Add(environmentID string, results ...eval.Result) {
	if len(results) == 0 {
		return
	}
	now := c.now()
	at, parity := now.UnixNano(), now.Unix()/60&1
	e := c.env(environmentID)
	for i := range results {
		r := &results[i]
		if r.ErrorCode == eval.ErrFlagNotFound {
			continue
		}
		c.count(e, environmentID, r.Key, r.Variant, string(r.Reason), 1, at, parity)
	}
}

// Count is one entry of an SDK's report: n evaluations of a flag with one outcome.
type Count struct {
	Flag, Variant, Reason string
	N                     int64
}

// AddCounts counts evaluations an SDK made in process and reported, in the minute
// they arrive. Entries with N < 1 are ignored.
func (c *Counter) AddCounts(environmentID string, counts []Count) {
	if len(counts) == 0 {
		return
	}
	now := c.now()
	at, parity := now.UnixNano(), now.Unix()/60&1
	e := c.env(environmentID)
	for i := range counts {
		n := &counts[i]
		if n.N < 1 {
			continue
		}
		c.count(e, environmentID, n.Flag, n.Variant, n.Reason, n.N, at, parity)
	}
}

func (c *Counter) env(id string) *envCounts {
	e, _ := c.envs.load(id)
	return e
}

// count adds n to a series: lock-free when its slot exists and is live.
func (c *Counter) count(e *envCounts, env, flag, variant, reason string, n, at, parity int64) {
	if e != nil {
		if f, ok := e.flags.load(flag); ok {
			if s := f.find(variant, reason); s != nil && f.add(s, n, at, parity) {
				return
			}
		}
	}
	c.countSlow(env, flag, variant, reason, n, at, parity)
}

// find returns the slot of an outcome, or nil.
func (f *flagCounts) find(variant, reason string) *slot {
	for _, s := range *f.slots.Load() {
		if s.variant == variant && s.reason == reason {
			return s
		}
	}
	return nil
}

// add counts n in a slot of f. It reports false, keeping nothing, when the slot was
// removed since it was found: the count must go to the series' live slot.
func (f *flagCounts) add(s *slot, n, at, parity int64) bool {
	// The time before the count: a flush that sees the count sees the time.
	f.touch(at)
	return s.cells[parity].Add(n) > 0
}

// touch moves the last-evaluated time forward, if by at least lastEvery.
func (f *flagCounts) touch(at int64) {
	if last := f.last.Load(); at-last >= lastEvery {
		f.last.CompareAndSwap(last, at) // on failure another core moved it
	}
}

// countSlow finds or creates the series' slot under c.mu, where no slot is removed, and
// counts there; past the series limit, it counts the drop.
func (c *Counter) countSlow(env, flag, variant, reason string, n, at, parity int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var (
		f *flagCounts
		s *slot
	)
	e, _ := c.envs.lookup(env)
	if e != nil {
		if f, _ = e.flags.lookup(flag); f != nil {
			s = f.find(variant, reason)
		}
	}
	if s == nil {
		if c.live >= c.max {
			c.Dropped.Add(n)
			return
		}
		// Cloned: the slot outlives the request whose strings these are.
		if e == nil {
			e = &envCounts{id: strings.Clone(env)}
			c.envs.store(e.id, e)
		}
		if f == nil {
			f = &flagCounts{key: strings.Clone(flag)}
			f.slots.Store(&[]*slot{})
			e.flags.store(f.key, f)
		}
		s = &slot{variant: strings.Clone(variant), reason: strings.Clone(reason), seen: at}
		old := *f.slots.Load()
		slots := append(old[:len(old):len(old)], s) // a copy: readers hold the old one
		f.slots.Store(&slots)
		c.live++
	}
	f.touch(at)
	s.cells[parity].Add(n)
}

// Flush writes what was counted since the last flush. A failed write keeps its counts
// for the next flush, within the series limit.
func (c *Counter) Flush(ctx context.Context, w Writer) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	b := c.harvest()
	for s, n := range c.pending.Counts {
		b.Counts[s] += n
	}
	for k, t := range c.pending.Last {
		if t.After(b.Last[k]) {
			b.Last[k] = t
		}
	}
	c.pending = newBatch()
	if len(b.Counts) == 0 {
		return nil
	}
	if err := w.WriteEvaluations(ctx, b); err != nil {
		for s, n := range b.Counts {
			if _, ok := c.pending.Counts[s]; !ok && len(c.pending.Counts) >= c.max {
				c.Dropped.Add(n)
				continue
			}
			c.pending.Counts[s] += n
		}
		for k, t := range b.Last {
			c.pending.Last[k] = t
		}
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

// harvest swaps every cell to zero into a batch: the cell of the current minute counts
// for it, the other one for the minute before. It then removes the slots idle for
// idleAfter. c.flushMu is held.
func (c *Counter) harvest() Batch {
	now := c.now()
	at, minute := now.UnixNano(), now.Unix()/60
	minutes := [2]time.Time{}
	minutes[minute&1] = time.Unix(minute*60, 0).UTC()
	minutes[(minute-1)&1] = time.Unix((minute-1)*60, 0).UTC()
	c.publish()
	b := newBatch()
	var idle []removal
	for _, e := range c.envs.published() {
		for _, f := range e.flags.published() {
			counted := false
			for _, s := range *f.slots.Load() {
				nonzero := false
				for p := range s.cells {
					if n := s.cells[p].Swap(0); n > 0 {
						b.Counts[Series{EnvironmentID: e.id, FlagKey: f.key, Minute: minutes[p], Variant: s.variant, Reason: s.reason}] += n
						nonzero = true
					}
				}
				switch {
				case nonzero:
					s.seen, counted = at, true
				case at-s.seen >= int64(idleAfter):
					idle = append(idle, removal{e, f, s})
				}
			}
			if counted {
				b.Last[[2]string{e.id, f.key}] = time.Unix(0, f.last.Load()).UTC()
			}
		}
	}
	if len(idle) > 0 {
		c.remove(idle)
	}
	return b
}

// publish makes every slot created so far visible to lock-free readers, so that a
// harvest of the published maps sees them all.
func (c *Counter) publish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.envs.publish()
	for _, e := range c.envs.published() {
		e.flags.publish()
	}
}

type removal struct {
	e *envCounts
	f *flagCounts
	s *slot
}

// remove takes idle slots out of the maps, unless they counted meanwhile. A count that
// loaded a slot before its removal and lands after it finds a dead cell and counts
// again in a live slot (count), so nothing is lost and nothing is counted twice.
func (c *Counter) remove(idle []removal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range idle {
		if !r.s.cells[0].CompareAndSwap(0, dead) {
			continue
		}
		if !r.s.cells[1].CompareAndSwap(0, dead) {
			// Counted meanwhile: alive after all. Increments on the dead cell saw a
			// negative result and are waiting for c.mu to count again: drop them here.
			r.s.cells[0].Swap(0)
			continue
		}
		old := *r.f.slots.Load()
		slots := make([]*slot, 0, len(old)-1)
		for _, s := range old {
			if s != r.s {
				slots = append(slots, s)
			}
		}
		r.f.slots.Store(&slots)
		c.live--
		c.removed++
		if len(slots) > 0 {
			continue
		}
		r.e.flags.delete(r.f.key)
		if r.e.flags.len() == 0 {
			c.envs.delete(r.e.id)
		}
	}
	c.envs.publish()
	for _, r := range idle {
		r.e.flags.publish()
	}
}

// Run flushes every interval until ctx ends; the caller flushes once more at shutdown.
// The interval must be well under a minute for counts to land in the right minute.
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
