package switchyard

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
)

// benchFlag is the flag of the engine's BenchmarkEvaluate (pkg/eval/bench_test.go):
// 10 rules of 3 conditions each, mixing operators. For benchContext the first two
// conditions of rules 0-8 hold and the third fails, so every rule is tried and 29
// conditions are checked; rule 9 matches and serves a rollout, so the bucketing hash
// runs too.
func benchFlag(key string, n int) domain.FlagConfig {
	all := []string{"NL", "DE", "BE", "FR", "ES", "IT", "PT", "AT", "CH", "DK", "SE", "NO", "FI", "PL", "CZ", "HU", "RO", "GR"}
	countries := []any{"PL"}
	for i := range 13 {
		countries = append(countries, all[(n+i)%len(all)])
	}
	third := []domain.Condition{
		{Attribute: "email", Operator: domain.OpEndsWith, Values: []any{fmt.Sprintf("@corp%d.example", n)}},
		{Attribute: "age", Operator: domain.OpGt, Values: []any{float64(65 + n%20)}},
		{Attribute: "app_version", Operator: domain.OpSemverLt, Values: []any{"1.0.0"}},
		{Attribute: "company.plan", Operator: domain.OpEq, Values: []any{"free"}},
		{Attribute: "email", Operator: domain.OpStartsWith, Values: []any{"admin@"}},
		{Attribute: "signup", Operator: domain.OpBefore, Values: []any{"2020-01-01T00:00:00Z"}},
		{Attribute: "email", Operator: domain.OpMatches, Values: []any{`^qa-\d+@`}},
		{Attribute: "groups", Operator: domain.OpIn, Values: []any{"beta-testers", "internal"}},
		{Attribute: "company.id", Operator: domain.OpNotIn, Values: []any{"c-1", "c-77", "c-3"}},
	}
	var rules []domain.Rule
	for i := range 9 {
		rules = append(rules, domain.Rule{
			ID: fmt.Sprintf("rule-%d", i),
			Conditions: []domain.Condition{
				{Attribute: "plan", Operator: domain.OpIn, Values: []any{"premium", "enterprise"}},
				{Attribute: "country", Operator: domain.OpIn, Values: countries},
				third[i],
			},
			Serve: domain.Serve{Variant: "on"},
		})
	}
	rules = append(rules, domain.Rule{
		ID: "rule-9",
		Conditions: []domain.Condition{
			{Attribute: "app_version", Operator: domain.OpSemverGt, Values: []any{"2.0.0"}},
			{Attribute: "age", Operator: domain.OpGte, Values: []any{float64(18 + n%10)}},
			{Attribute: "email", Operator: domain.OpContains, Values: []any{"@"}},
		},
		Serve: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 12.5, "off": 87.5}}},
	})
	return domain.FlagConfig{
		Flag: domain.Flag{Key: key, Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
		Config: domain.Config{
			Enabled: true, Rules: rules, OffVariant: "off",
			Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 50, "off": 50}}},
		},
	}
}

func benchContext() *Context {
	return &Context{Key: "user-4242", Attributes: map[string]any{
		"email":       "jane@shop.example",
		"plan":        "enterprise",
		"country":     "PL",
		"age":         34.0,
		"app_version": "2.4.1",
		"signup":      "2023-03-01T10:00:00Z",
		"groups":      []any{"early-access"},
		"company":     map[string]any{"id": "c-77", "plan": "enterprise"},
	}}
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
