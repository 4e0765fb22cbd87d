package switchyard

import (
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/eval/evaltest"
)

// benchFlag is the flag of the engine's BenchmarkEvaluate (pkg/eval/bench_test.go):
// 10 rules of 3 conditions each; for benchContext every rule is tried and rule 9
// matches and serves a rollout.
var benchFlag = evaltest.TenRules

func benchContext() *Context {
	return &Context{Key: evaltest.ContextKey, Attributes: evaltest.ContextAttributes()}
}

func total(counts []atomic.Int64) int64 {
	var n int64
	for i := range counts {
		n += counts[i].Load()
	}
	return n
}

// benchClient serves the benchmark flag and counts, as an online client does.
func benchClient(b *testing.B) (*Client, *Context) {
	c := offline(b, snapshot(1, benchFlag("flag-0000", 0)))
	c.counting = true
	ctx := benchContext()
	if r := c.Evaluate("flag-0000", ctx); r.RuleID != "rule-9" {
		b.Fatalf("benchmark context should reach rule-9, got %+v", r)
	}
	return c, ctx
}

// BenchmarkBool measures the public API on a flag of 10 rules × 3 conditions, counted
// for reporting (target: ≤ 1 µs, 0 allocations). Compare BenchmarkEngineEvaluate.
func BenchmarkBool(b *testing.B) {
	c, ctx := benchClient(b)
	b.ReportAllocs()
	for b.Loop() {
		c.Bool("flag-0000", ctx, false)
	}
}

// BenchmarkBoolParallel is BenchmarkBool from every core at once; the counters of
// the one flag are shared.
func BenchmarkBoolParallel(b *testing.B) {
	c, ctx := benchClient(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Bool("flag-0000", ctx, false)
		}
	})
}

// BenchmarkEngineEvaluate is the engine's own BenchmarkEvaluate on the same flag and
// context, for the SDK's overhead.
func BenchmarkEngineEvaluate(b *testing.B) {
	s := eval.Compile(snapshot(1, benchFlag("flag-0000", 0)))
	ctx := benchContext()
	b.ReportAllocs()
	for b.Loop() {
		s.Evaluate("flag-0000", ctx)
	}
}

// BenchmarkBoolOverhead and BenchmarkEngineOverhead evaluate a flag without rules, so
// that the difference is what the SDK adds to the engine: an atomic load, a lookup
// of the flag's counters, the kind check and the count.
func BenchmarkBoolOverhead(b *testing.B) {
	c := offline(b, snapshot(1, boolFlag("plain", domain.Config{Enabled: true, OffVariant: "off", Default: domain.Serve{Variant: "on"}})))
	c.counting = true
	ctx := benchContext()
	b.ReportAllocs()
	for b.Loop() {
		c.Bool("plain", ctx, false)
	}
}

func BenchmarkEngineOverhead(b *testing.B) {
	s := eval.Compile(snapshot(1, boolFlag("plain", domain.Config{Enabled: true, OffVariant: "off", Default: domain.Serve{Variant: "on"}})))
	ctx := benchContext()
	b.ReportAllocs()
	for b.Loop() {
		s.Evaluate("plain", ctx)
	}
}
