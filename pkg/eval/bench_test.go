package eval

import (
	"fmt"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval/evaltest"
)

// benchFlag is evaltest.TenRules: 10 rules of 3 conditions each, the worst case short
// of no match for the benchmark context.
var benchFlag = evaltest.TenRules

func benchSnapshot(tb testing.TB, n int) (*Snapshot, *Context) {
	tb.Helper()
	fcs := make([]domain.FlagConfig, n)
	for i := range fcs {
		fcs[i] = benchFlag(fmt.Sprintf("flag-%04d", i), i)
	}
	s := Compile(domain.Snapshot{Flags: fcs})
	if p := s.Problems(); len(p) > 0 {
		tb.Fatalf("compile: %v", p)
	}
	ctx := &Context{Key: evaltest.ContextKey, Attributes: evaltest.ContextAttributes()}
	if r := s.Evaluate(fcs[0].Flag.Key, ctx); r.RuleID != "rule-9" {
		tb.Fatalf("benchmark context should reach rule-9, got %+v", r)
	}
	return s, ctx
}

// BenchmarkEvaluate measures one flag of 10 rules × 3 conditions (target: ≤ 1 µs,
// 0 allocations).
func BenchmarkEvaluate(b *testing.B) {
	s, ctx := benchSnapshot(b, 1)
	key := s.Keys()[0]
	b.ReportAllocs()
	for b.Loop() {
		s.Evaluate(key, ctx)
	}
}

// BenchmarkEvaluateParallel is BenchmarkEvaluate from every core at once against one
// snapshot: evaluation takes no locks.
func BenchmarkEvaluateParallel(b *testing.B) {
	s, ctx := benchSnapshot(b, 1)
	key := s.Keys()[0]
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Evaluate(key, ctx)
		}
	})
}

// BenchmarkEvaluateAll1000 measures bulk evaluation of 1,000 such flags (target: ≤ 1 ms).
func BenchmarkEvaluateAll1000(b *testing.B) {
	s, ctx := benchSnapshot(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		s.EvaluateAll(ctx)
	}
}

// BenchmarkCompile1000 measures compiling an environment of 1,000 such flags, the work
// an evaluator does once per snapshot version.
func BenchmarkCompile1000(b *testing.B) {
	fcs := make([]domain.FlagConfig, 1000)
	for i := range fcs {
		fcs[i] = benchFlag(fmt.Sprintf("flag-%04d", i), i)
	}
	snap := domain.Snapshot{Flags: fcs}
	b.ReportAllocs()
	for b.Loop() {
		Compile(snap)
	}
}

// BenchmarkBucket measures the bucketing hash alone.
func BenchmarkBucket(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Bucket("new-checkout", "user-4242")
	}
}
