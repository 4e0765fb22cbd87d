// Package evaltest holds the engine's benchmark flag and context, shared by the
// engine's benchmarks and those of SDKs that evaluate with it, so that their figures
// compare the same work.
package evaltest

import (
	"fmt"

	"github.com/switchyard/switchyard/pkg/domain"
)

// TenRules is a flag with 10 rules of 3 conditions each, mixing operators. For the
// Context the first two conditions of rules 0-8 hold and the third fails, so
// every rule is tried and 29 conditions are checked; rule 9 matches and serves a
// rollout, so the bucketing hash runs too. That is the worst case short of no match.
//
// Flag n varies the values (a country list rotated by n, thresholds and domains that
// depend on n) so that a bulk run over many flags is not a run over one flag repeated.
func TenRules(key string, n int) domain.FlagConfig {
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

// ContextKey and ContextAttributes are the context for which TenRules tries every
// rule and matches rule-9.
const ContextKey = "user-4242"

// ContextAttributes returns the attributes of that context (a fresh map each time).
func ContextAttributes() map[string]any {
	return map[string]any{
		"email":       "jane@shop.example",
		"plan":        "enterprise",
		"country":     "PL",
		"age":         34.0,
		"app_version": "2.4.1",
		"signup":      "2023-03-01T10:00:00Z",
		"groups":      []any{"early-access"},
		"company":     map[string]any{"id": "c-77", "plan": "enterprise"},
	}
}
