package analytics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/switchyard/switchyard/pkg/eval"
)

type memWriter struct {
	fail    bool
	batches []Batch
}

func (w *memWriter) WriteEvaluations(_ context.Context, b Batch) error {
	if w.fail {
		return errors.New("database down")
	}
	w.batches = append(w.batches, b)
	return nil
}

func TestCounter(t *testing.T) {
	c := New(slog.New(slog.DiscardHandler), 3)
	now := time.Date(2026, 11, 21, 10, 30, 15, 0, time.UTC)
	c.now = func() time.Time { return now }
	on := eval.Result{Key: "f", Variant: "on", Reason: eval.ReasonTargetingMatch}
	off := eval.Result{Key: "f", Variant: "off", Reason: eval.ReasonDefault}
	missing := eval.Result{Key: "ghost", Reason: eval.ReasonError, ErrorCode: eval.ErrFlagNotFound}
	c.Add("env", on, on, off, missing)
	c.Add("other", on)
	c.Add("third", on) // a fourth series: over the limit
	if c.Dropped.Load() != 1 {
		t.Errorf("dropped %d", c.Dropped.Load())
	}

	w := &memWriter{fail: true}
	if err := c.Flush(context.Background(), w); err == nil {
		t.Fatal("flush must report the failure")
	}
	c.Add("env", on) // counted while the failed batch is kept
	w.fail = false
	if err := c.Flush(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if len(w.batches) != 1 {
		t.Fatalf("batches %d", len(w.batches))
	}
	b := w.batches[0]
	minute := now.Truncate(time.Minute)
	if got := b.Counts[Series{"env", "f", minute, "on", "TARGETING_MATCH"}]; got != 3 {
		t.Errorf("env/f/on: %d, want 3 (kept across the failed flush)", got)
	}
	if got := b.Counts[Series{"env", "f", minute, "off", "DEFAULT"}]; got != 1 {
		t.Errorf("env/f/off: %d", got)
	}
	if len(b.Counts) != 3 {
		t.Errorf("series %v: unknown flags are not counted", b.Counts)
	}
	if !b.Last[[2]string{"env", "f"}].Equal(now) {
		t.Errorf("last evaluated: %v", b.Last)
	}
	if c.Flushed.Load() != 5 {
		t.Errorf("flushed %d", c.Flushed.Load())
	}
	if err := c.Flush(context.Background(), w); err != nil || len(w.batches) != 1 {
		t.Error("an empty flush writes nothing")
	}
}

func BenchmarkAdd(b *testing.B) {
	c := New(slog.New(slog.DiscardHandler), 100_000)
	r := eval.Result{Key: "new-checkout", Variant: "on", Reason: eval.ReasonTargetingMatch}
	b.ReportAllocs()
	for b.Loop() {
		c.Add("0a0b0c0d-0000-4000-8000-000000000001", r)
	}
}

// BenchmarkAddParallel: every core counts the same series, as under a hot flag.
func BenchmarkAddParallel(b *testing.B) {
	c := New(slog.New(slog.DiscardHandler), 100_000)
	r := eval.Result{Key: "new-checkout", Variant: "on", Reason: eval.ReasonTargetingMatch}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Add("0a0b0c0d-0000-4000-8000-000000000001", r)
		}
	})
}

// BenchmarkAdd100: one bulk evaluation of 100 flags.
func BenchmarkAdd100(b *testing.B) {
	c := New(slog.New(slog.DiscardHandler), 100_000)
	rs := make([]eval.Result, 100)
	for i := range rs {
		rs[i] = eval.Result{Key: fmt.Sprintf("flag-%03d", i), Variant: "on", Reason: eval.ReasonTargetingMatch}
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Add("0a0b0c0d-0000-4000-8000-000000000001", rs...)
	}
}

// TestAddCounts: SDK reports join the evaluator's own counts in the same series, and
// the series limit drops what does not fit, counting every evaluation dropped.
func TestAddCounts(t *testing.T) {
	c := New(slog.New(slog.DiscardHandler), 2)
	now := time.Date(2026, 12, 2, 10, 30, 15, 0, time.UTC)
	c.now = func() time.Time { return now }
	c.Add("env", eval.Result{Key: "f", Variant: "on", Reason: eval.ReasonSplit})
	c.AddCounts("env", []Count{{Flag: "f", Variant: "on", Reason: "SPLIT", N: 41}, {Flag: "g", Variant: "a", Reason: "DEFAULT", N: 5},
		{Flag: "h", Variant: "b", Reason: "DEFAULT", N: 7}})
	if c.Dropped.Load() != 7 {
		t.Errorf("dropped %d, want 7", c.Dropped.Load())
	}
	w := &memWriter{}
	if err := c.Flush(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	minute := now.Truncate(time.Minute)
	b := w.batches[0]
	if b.Counts[Series{EnvironmentID: "env", FlagKey: "f", Minute: minute, Variant: "on", Reason: "SPLIT"}] != 42 ||
		b.Counts[Series{EnvironmentID: "env", FlagKey: "g", Minute: minute, Variant: "a", Reason: "DEFAULT"}] != 5 ||
		!b.Last[[2]string{"env", "g"}].Equal(now) || c.Flushed.Load() != 47 {
		t.Errorf("batch %+v, flushed %d", b, c.Flushed.Load())
	}
}

// clock is a fake clock the tests move.
type clock struct{ ns atomic.Int64 }

func newClock(c *Counter, t time.Time) *clock {
	k := &clock{}
	k.set(t)
	c.now = k.now
	return k
}

func (k *clock) now() time.Time       { return time.Unix(0, k.ns.Load()).UTC() }
func (k *clock) set(t time.Time)      { k.ns.Store(t.UnixNano()) }
func (k *clock) move(d time.Duration) { k.ns.Add(int64(d)) }

// TestMinutes: the cells of the current and the previous minute go to their own minute,
// across a minute boundary between the count and the flush.
func TestMinutes(t *testing.T) {
	c := New(slog.New(slog.DiscardHandler), 10)
	k := newClock(c, time.Date(2026, 12, 2, 10, 30, 50, 0, time.UTC))
	r := eval.Result{Key: "f", Variant: "on", Reason: eval.ReasonDefault}
	w := &memWriter{}
	flush := func() Batch {
		t.Helper()
		w.batches = nil
		if err := c.Flush(context.Background(), w); err != nil || len(w.batches) != 1 {
			t.Fatalf("flush: %v, %d batches", err, len(w.batches))
		}
		return w.batches[0]
	}
	at := func(hh, mm int) Series {
		return Series{"env", "f", time.Date(2026, 12, 2, hh, mm, 0, 0, time.UTC), "on", "DEFAULT"}
	}

	c.Add("env", r, r) // 10:30:50
	k.set(time.Date(2026, 12, 2, 10, 31, 5, 0, time.UTC))
	c.Add("env", r, r, r) // 10:31:05
	b := flush()
	if b.Counts[at(10, 30)] != 2 || b.Counts[at(10, 31)] != 3 || len(b.Counts) != 2 {
		t.Errorf("flush at 10:31:05: %v", b.Counts)
	}
	k.set(time.Date(2026, 12, 2, 10, 31, 58, 0, time.UTC))
	c.Add("env", r) // counted in 10:31, flushed in 10:32
	k.set(time.Date(2026, 12, 2, 10, 32, 1, 0, time.UTC))
	c.Add("env", r, r, r, r)
	b = flush()
	if b.Counts[at(10, 31)] != 1 || b.Counts[at(10, 32)] != 4 || len(b.Counts) != 2 {
		t.Errorf("flush at 10:32:01: %v", b.Counts)
	}
	if want := time.Date(2026, 12, 2, 10, 32, 1, 0, time.UTC); !b.Last[[2]string{"env", "f"}].Equal(want) {
		t.Errorf("last evaluated %v, want %v", b.Last, want)
	}
}

// TestIdleSlots: a series idle for a while gives its slot back, which makes room under
// the series limit, and counts again from a new slot when it comes back.
func TestIdleSlots(t *testing.T) {
	c := New(slog.New(slog.DiscardHandler), 2)
	k := newClock(c, time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC))
	w := &memWriter{}
	flush := func() {
		t.Helper()
		if err := c.Flush(context.Background(), w); err != nil {
			t.Fatal(err)
		}
	}
	r := func(key string) eval.Result { return eval.Result{Key: key, Variant: "on", Reason: eval.ReasonDefault} }
	c.Add("env", r("a"))
	c.Add("env", r("b"))
	c.Add("env", r("c")) // over the limit
	if c.Dropped.Load() != 1 || c.live != 2 {
		t.Fatalf("dropped %d, live %d", c.Dropped.Load(), c.live)
	}
	flush()
	for range 3 { // a stays busy, b goes idle
		k.move(time.Minute)
		c.Add("env", r("a"))
		flush()
	}
	if c.live != 1 {
		t.Fatalf("live %d after b idled 3 minutes", c.live)
	}
	if _, ok := mustEnv(t, c, "env").flags.load("b"); ok {
		t.Error("b is still in the map")
	}
	c.Add("env", r("c")) // room again
	c.Add("env", r("b")) // back, over the limit again
	if c.Dropped.Load() != 2 || c.live != 2 {
		t.Errorf("dropped %d, live %d", c.Dropped.Load(), c.live)
	}

	k.move(5 * time.Minute)
	flush() // counts of c
	k.move(5 * time.Minute)
	flush()
	if c.live != 0 || len(c.envs.published()) != 0 {
		t.Errorf("live %d, environments %v: everything idle is gone", c.live, c.envs.published())
	}
	var total int64
	for _, b := range w.batches {
		for _, n := range b.Counts {
			total += n
		}
	}
	if total != 6 || c.Flushed.Load() != 6 {
		t.Errorf("written %d, flushed %d, want 6", total, c.Flushed.Load())
	}
}

func mustEnv(t *testing.T, c *Counter, id string) *envCounts {
	t.Helper()
	e, ok := c.envs.load(id)
	if !ok {
		t.Fatalf("environment %s not counted", id)
	}
	return e
}

// TestRemovedSlot: a count that found its slot just before a flush removed it is not
// lost (nor counted twice): the dead cell refuses it and it goes to a new slot.
func TestRemovedSlot(t *testing.T) {
	c := New(slog.New(slog.DiscardHandler), 10)
	k := newClock(c, time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC))
	c.Add("env", eval.Result{Key: "f", Variant: "on", Reason: eval.ReasonDefault})
	w := &memWriter{}
	if err := c.Flush(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	f, _ := mustEnv(t, c, "env").flags.load("f")
	s := f.find("on", "DEFAULT") // an Add has found the slot...

	k.move(3 * time.Minute)
	if err := c.Flush(context.Background(), w); err != nil { // ...a flush removes it...
		t.Fatal(err)
	}
	if c.live != 0 {
		t.Fatalf("live %d: the idle slot was not removed", c.live)
	}
	now := k.now()
	at, parity := now.UnixNano(), now.Unix()/60&1
	if f.add(s, 1, at, parity) { // ...and the Add counts
		t.Fatal("a removed slot took a count no flush will see")
	}
	c.countSlow("env", "f", "on", "DEFAULT", 1, at, parity)
	if err := c.Flush(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if c.Flushed.Load() != 2 {
		t.Errorf("flushed %d, want 2", c.Flushed.Load())
	}

	// A slot that counts while a flush tries to remove it stays, and so do its counts.
	f, _ = mustEnv(t, c, "env").flags.load("f")
	s = f.find("on", "DEFAULT")
	k.move(3 * time.Minute)
	s.cells[1].Store(5) // counted between the harvest and the removal
	c.remove([]removal{{mustEnv(t, c, "env"), f, s}})
	if c.live != 1 || f.find("on", "DEFAULT") != s || s.cells[0].Load() != 0 || s.cells[1].Load() != 5 {
		t.Fatalf("live %d, cells %d %d", c.live, s.cells[0].Load(), s.cells[1].Load())
	}
	c.Add("env", eval.Result{Key: "f", Variant: "on", Reason: eval.ReasonDefault})
	if err := c.Flush(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if c.Flushed.Load() != 8 {
		t.Errorf("flushed %d, want 8", c.Flushed.Load())
	}
}

// flakyWriter fails one write in three.
type flakyWriter struct {
	n       int
	written int64
}

func (w *flakyWriter) WriteEvaluations(_ context.Context, b Batch) error {
	if w.n++; w.n%3 == 0 {
		return errors.New("database down")
	}
	for _, n := range b.Counts {
		w.written += n
	}
	return nil
}

// TestConcurrentExact: with counts arriving on every core while flushes harvest, fail,
// move the clock across minutes and remove idle slots, every evaluation is either
// written once or counted as dropped.
func TestConcurrentExact(t *testing.T) {
	const (
		adders = 8
		rounds = 5000
		flags  = 60
	)
	c := New(slog.New(slog.DiscardHandler), 200) // of 360 series: some drops
	k := newClock(c, time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC))
	variants := []string{"on", "off", "blue"}
	var (
		adds atomic.Int64
		wg   sync.WaitGroup
	)
	for g := range adders {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(g), 1))
			rs := make([]eval.Result, 0, 8)
			for i := range rounds {
				// Each adder moves through the flags, so that slots go idle and are
				// removed while other adders still count in them.
				base := (i/200 + g) * 7
				rs = append(rs[:0], eval.Result{Key: "hot", Variant: "on", Reason: eval.ReasonSplit}) // every core, every time
				for range rnd.IntN(7) {
					rs = append(rs, eval.Result{Key: fmt.Sprintf("f%d", (base+rnd.IntN(10))%flags),
						Variant: variants[rnd.IntN(len(variants))], Reason: eval.ReasonSplit})
				}
				env := fmt.Sprintf("env%d", rnd.IntN(2))
				if i%5 == 0 {
					n := int64(1 + rnd.IntN(20))
					c.AddCounts(env, []Count{{Flag: rs[0].Key, Variant: rs[0].Variant, Reason: "SPLIT", N: n}})
					adds.Add(n)
				} else {
					c.Add(env, rs...)
					adds.Add(int64(len(rs)))
				}
			}
		})
	}
	w := &flakyWriter{}
	done := make(chan struct{})
	flushed := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-done:
				flushed <- n
				return
			default:
			}
			k.move(40 * time.Second)
			_ = c.Flush(context.Background(), w) // one in three fails: kept for the next
			n++
		}
	}()
	wg.Wait()
	close(done)
	n := <-flushed // the flushes are over: c.removed is ours to read
	t.Logf("%d adds, %d flushes, %d dropped, %d slots removed", adds.Load(), n, c.Dropped.Load(), c.removed)
	w.n = 0 // the next write succeeds
	if err := c.Flush(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if got := w.written + c.Dropped.Load(); got != adds.Load() || w.written != c.Flushed.Load() {
		t.Errorf("written %d + dropped %d = %d, want %d adds (flushed %d)",
			w.written, c.Dropped.Load(), got, adds.Load(), c.Flushed.Load())
	}
	if c.removed == 0 {
		t.Error("no slot was removed: the test does not exercise removal")
	}
}

// TestSlotSize: a slot fills one cache line (the allocator's 64-byte size class), so
// that cores counting different series do not invalidate each other's line.
func TestSlotSize(t *testing.T) {
	if n := unsafe.Sizeof(slot{}); n != 64 {
		t.Errorf("slot is %d bytes", n)
	}
}
