package analytics

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

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
