package eval

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

// matches evaluates a boolean flag whose only rule holds one condition.
func matches(t *testing.T, c domain.Condition, ctx Context) bool {
	t.Helper()
	snap := Compile(domain.Snapshot{Flags: []domain.FlagConfig{{
		Flag: domain.Flag{Key: "f", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
		Config: domain.Config{
			Enabled:    true,
			Rules:      []domain.Rule{{ID: "r", Conditions: []domain.Condition{c}, Serve: domain.Serve{Variant: "on"}}},
			Default:    domain.Serve{Variant: "off"},
			OffVariant: "off",
		},
	}}})
	if p := snap.Problems(); len(p) > 0 {
		t.Fatalf("compile: %v", p)
	}
	r := snap.Evaluate("f", &ctx)
	switch r.Reason {
	case ReasonTargetingMatch:
		return true
	case ReasonDefault:
		return false
	}
	t.Fatalf("unexpected result %+v", r)
	return false
}

func attrs(kv ...any) Context {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return Context{Key: "user-1", Attributes: m}
}

func TestOperators(t *testing.T) {
	missing := attrs()
	tests := []struct {
		name   string
		op     domain.Operator
		values []any
		ctx    Context
		want   bool
	}{
		// eq / neq: scalars compare as text.
		{"eq match", domain.OpEq, []any{"premium"}, attrs("a", "premium"), true},
		{"eq no match", domain.OpEq, []any{"premium"}, attrs("a", "free"), false},
		{"eq number", domain.OpEq, []any{30.0}, attrs("a", 30.0), true},
		{"eq number as text", domain.OpEq, []any{30.0}, attrs("a", "30"), true},
		{"eq int attribute", domain.OpEq, []any{30.0}, attrs("a", 30), true},
		{"eq json.Number", domain.OpEq, []any{json.Number("1.50")}, attrs("a", 1.5), true},
		{"eq bool", domain.OpEq, []any{true}, attrs("a", true), true},
		{"eq bool vs text", domain.OpEq, []any{"true"}, attrs("a", true), true},
		{"eq bool no match", domain.OpEq, []any{true}, attrs("a", false), false},
		{"in bool", domain.OpIn, []any{"x", true}, attrs("a", true), true},
		{"in bool in a list", domain.OpIn, []any{true}, attrs("a", []any{false, true}), true},
		{"not_in bool", domain.OpNotIn, []any{false}, attrs("a", true), true},
		{"eq type mismatch (object)", domain.OpEq, []any{"x"}, attrs("a", map[string]any{"b": "x"}), false},
		{"eq missing", domain.OpEq, []any{"x"}, missing, false},
		{"eq null", domain.OpEq, []any{"x"}, attrs("a", nil), false},
		{"neq match", domain.OpNeq, []any{"blocked"}, attrs("a", "ok"), true},
		{"neq no match", domain.OpNeq, []any{"blocked"}, attrs("a", "blocked"), false},
		{"neq type mismatch", domain.OpNeq, []any{"blocked"}, attrs("a", map[string]any{}), false},
		{"neq missing", domain.OpNeq, []any{"blocked"}, missing, false},
		// in / not_in, small and hashed sets.
		{"in match", domain.OpIn, []any{"premium", "enterprise"}, attrs("a", "enterprise"), true},
		{"in no match", domain.OpIn, []any{"premium", "enterprise"}, attrs("a", "free"), false},
		{"in large set", domain.OpIn, manyValues(500), attrs("a", "v-321"), true},
		{"in large set no match", domain.OpIn, manyValues(500), attrs("a", "v-999"), false},
		{"in large set number", domain.OpIn, []any{1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0}, attrs("a", 9.0), true},
		{"in type mismatch", domain.OpIn, []any{"x"}, attrs("a", []any{map[string]any{}}), false},
		{"in missing", domain.OpIn, []any{"x"}, missing, false},
		{"not_in match", domain.OpNotIn, []any{"RU", "KP"}, attrs("a", "NL"), true},
		{"not_in no match", domain.OpNotIn, []any{"RU", "KP"}, attrs("a", "KP"), false},
		{"not_in large", domain.OpNotIn, manyValues(100), attrs("a", "v-5"), false},
		{"not_in type mismatch", domain.OpNotIn, []any{"x"}, attrs("a", map[string]any{}), false},
		{"not_in missing", domain.OpNotIn, []any{"x"}, missing, false},
		// String operators.
		{"starts_with match", domain.OpStartsWith, []any{"admin@", "root@"}, attrs("a", "root@acme.com"), true},
		{"starts_with no match", domain.OpStartsWith, []any{"admin@"}, attrs("a", "bob@acme.com"), false},
		{"starts_with is case-sensitive", domain.OpStartsWith, []any{"Admin"}, attrs("a", "admin"), false},
		{"starts_with type mismatch", domain.OpStartsWith, []any{"1"}, attrs("a", 12.0), false},
		{"starts_with missing", domain.OpStartsWith, []any{"a"}, missing, false},
		{"ends_with match", domain.OpEndsWith, []any{"@acme.com"}, attrs("a", "bob@acme.com"), true},
		{"ends_with no match", domain.OpEndsWith, []any{"@acme.com"}, attrs("a", "bob@evil.com"), false},
		{"ends_with type mismatch", domain.OpEndsWith, []any{"e"}, attrs("a", true), false},
		{"ends_with missing", domain.OpEndsWith, []any{"e"}, missing, false},
		{"contains match", domain.OpContains, []any{"beta"}, attrs("a", "app-beta-3"), true},
		{"contains no match", domain.OpContains, []any{"beta"}, attrs("a", "app-3"), false},
		{"contains type mismatch", domain.OpContains, []any{"1"}, attrs("a", 1.0), false},
		{"contains missing", domain.OpContains, []any{"x"}, missing, false},
		{"not_contains match", domain.OpNotContains, []any{"bot"}, attrs("a", "Mozilla/5.0"), true},
		{"not_contains no match", domain.OpNotContains, []any{"bot"}, attrs("a", "googlebot"), false},
		{"not_contains type mismatch", domain.OpNotContains, []any{"bot"}, attrs("a", 3.0), false},
		{"not_contains missing", domain.OpNotContains, []any{"bot"}, missing, false},
		{"matches match", domain.OpMatches, []any{`^user-\d+$`}, attrs("a", "user-42"), true},
		{"matches no match", domain.OpMatches, []any{`^user-\d+$`}, attrs("a", "user-x"), false},
		{"matches type mismatch", domain.OpMatches, []any{`\d`}, attrs("a", 4.0), false},
		{"matches missing", domain.OpMatches, []any{`.*`}, missing, false},
		// Numbers.
		{"gt match", domain.OpGt, []any{18.0}, attrs("a", 21.0), true},
		{"gt equal", domain.OpGt, []any{18.0}, attrs("a", 18.0), false},
		{"gt numeric string", domain.OpGt, []any{18.0}, attrs("a", "19.5"), true},
		{"gt type mismatch", domain.OpGt, []any{18.0}, attrs("a", "old"), false},
		{"gt bool mismatch", domain.OpGt, []any{0.0}, attrs("a", true), false},
		{"gt missing", domain.OpGt, []any{18.0}, missing, false},
		{"gte match", domain.OpGte, []any{18.0}, attrs("a", 18.0), true},
		{"gte no match", domain.OpGte, []any{18.0}, attrs("a", 17.9), false},
		{"gte type mismatch", domain.OpGte, []any{18.0}, attrs("a", []any{}), false},
		{"gte missing", domain.OpGte, []any{18.0}, missing, false},
		{"lt match", domain.OpLt, []any{10.0}, attrs("a", -3.0), true},
		{"lt no match", domain.OpLt, []any{10.0}, attrs("a", 10.0), false},
		{"lt type mismatch", domain.OpLt, []any{10.0}, attrs("a", "ten"), false},
		{"lt missing", domain.OpLt, []any{10.0}, missing, false},
		{"lte match", domain.OpLte, []any{10.0}, attrs("a", 10), true},
		{"lte no match", domain.OpLte, []any{10.0}, attrs("a", 10.5), false},
		{"lte type mismatch", domain.OpLte, []any{10.0}, attrs("a", map[string]any{}), false},
		{"lte missing", domain.OpLte, []any{10.0}, missing, false},
		// Semantic versions.
		{"semver_eq match", domain.OpSemverEq, []any{"2.1.0"}, attrs("a", "v2.1.0"), true},
		{"semver_eq no match", domain.OpSemverEq, []any{"2.1.0"}, attrs("a", "2.1.1"), false},
		{"semver_eq type mismatch", domain.OpSemverEq, []any{"2.1.0"}, attrs("a", 2.1), false},
		{"semver_eq invalid", domain.OpSemverEq, []any{"2.1.0"}, attrs("a", "latest"), false},
		{"semver_eq missing", domain.OpSemverEq, []any{"2.1.0"}, missing, false},
		{"semver_gt match", domain.OpSemverGt, []any{"2.1.0"}, attrs("a", "2.10.0"), true},
		{"semver_gt prerelease", domain.OpSemverGt, []any{"2.1.0"}, attrs("a", "2.1.0-rc.1"), false},
		{"semver_gt equal", domain.OpSemverGt, []any{"2.1.0"}, attrs("a", "2.1.0+build.7"), false},
		{"semver_gt type mismatch", domain.OpSemverGt, []any{"1.0.0"}, attrs("a", true), false},
		{"semver_gt missing", domain.OpSemverGt, []any{"1.0.0"}, missing, false},
		{"semver_lt match", domain.OpSemverLt, []any{"2.0.0"}, attrs("a", "2.0.0-beta"), true},
		{"semver_lt no match", domain.OpSemverLt, []any{"2.0.0"}, attrs("a", "2.0.0"), false},
		{"semver_lt type mismatch", domain.OpSemverLt, []any{"2.0.0"}, attrs("a", "two"), false},
		{"semver_lt missing", domain.OpSemverLt, []any{"2.0.0"}, missing, false},
		// Times.
		{"before match", domain.OpBefore, []any{"2026-06-01T00:00:00Z"}, attrs("a", "2026-05-31T23:59:59Z"), true},
		{"before no match", domain.OpBefore, []any{"2026-06-01T00:00:00Z"}, attrs("a", "2026-06-01T00:00:00Z"), false},
		{"before offset", domain.OpBefore, []any{"2026-06-01T00:00:00Z"}, attrs("a", "2026-06-01T01:00:00+02:00"), true},
		{"before unix ms", domain.OpBefore, []any{"2026-06-01T00:00:00Z"}, attrs("a", 1780271999000.0), true},
		{"before type mismatch", domain.OpBefore, []any{"2026-06-01T00:00:00Z"}, attrs("a", "yesterday"), false},
		{"before missing", domain.OpBefore, []any{"2026-06-01T00:00:00Z"}, missing, false},
		{"after match", domain.OpAfter, []any{"2026-06-01T00:00:00Z"}, attrs("a", "2026-06-02T00:00:00Z"), true},
		{"after no match", domain.OpAfter, []any{"2026-06-01T00:00:00Z"}, attrs("a", "2025-06-02T00:00:00Z"), false},
		{"after type mismatch", domain.OpAfter, []any{"2026-06-01T00:00:00Z"}, attrs("a", false), false},
		{"after missing", domain.OpAfter, []any{"2026-06-01T00:00:00Z"}, missing, false},
		// Presence.
		{"exists match", domain.OpExists, nil, attrs("a", ""), true},
		{"exists no match", domain.OpExists, nil, missing, false},
		{"exists null", domain.OpExists, nil, attrs("a", nil), false},
		{"not_exists match", domain.OpNotExists, nil, missing, true},
		{"not_exists no match", domain.OpNotExists, nil, attrs("a", 1.0), false},
		// Lists: positive operators match any element, negated ones match when none does.
		{"list eq any", domain.OpEq, []any{"beta"}, attrs("a", []any{"alpha", "beta"}), true},
		{"list in none", domain.OpIn, []any{"x", "y"}, attrs("a", []any{"alpha", "beta"}), false},
		{"list []string", domain.OpIn, []any{"beta"}, attrs("a", []string{"alpha", "beta"}), true},
		{"list neq with element equal", domain.OpNeq, []any{"beta"}, attrs("a", []any{"alpha", "beta"}), false},
		{"list not_in none", domain.OpNotIn, []any{"banned"}, attrs("a", []any{"alpha", "beta"}), true},
		{"list not_contains", domain.OpNotContains, []any{"x"}, attrs("a", []string{"abc", "xyz"}), false},
		{"list gt any", domain.OpGt, []any{10.0}, attrs("a", []any{1.0, 20.0}), true},
		{"empty list in", domain.OpIn, []any{"x"}, attrs("a", []any{}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := domain.Condition{Attribute: "a", Operator: tt.op, Values: tt.values}
			if got := matches(t, c, tt.ctx); got != tt.want {
				t.Errorf("%s %v against %v = %v, want %v", tt.op, tt.values, tt.ctx.Attributes, got, tt.want)
			}
		})
	}
}

func manyValues(n int) []any {
	vs := make([]any, n)
	for i := range vs {
		vs[i] = "v-" + itoa(i)
	}
	return vs
}

func itoa(i int) string { return string(appendNumber(nil, float64(i))) }

func TestAttributes(t *testing.T) {
	nested := Context{Key: "user-42", Attributes: map[string]any{
		"company":    map[string]any{"plan": "enterprise", "address": map[string]any{"country": "NL"}},
		"dotted.key": "literal",
		"scalar":     "x",
	}}
	tests := []struct {
		name string
		attr string
		op   domain.Operator
		val  []any
		want bool
	}{
		{"dotted path", "company.plan", domain.OpEq, []any{"enterprise"}, true},
		{"deep path", "company.address.country", domain.OpIn, []any{"NL", "BE"}, true},
		{"path through scalar", "scalar.sub", domain.OpExists, nil, false},
		{"path missing leaf", "company.size", domain.OpNotExists, nil, true},
		{"key with a dot found first", "dotted.key", domain.OpEq, []any{"literal"}, true},
		{"targeting key", "key", domain.OpEq, []any{"user-42"}, true},
		{"targeting key alias", "targetingKey", domain.OpStartsWith, []any{"user-"}, true},
		{"targeting key not_in", "key", domain.OpNotIn, []any{"user-1"}, true},
		{"targeting key gt mismatch", "key", domain.OpGt, []any{1.0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := domain.Condition{Attribute: tt.attr, Operator: tt.op, Values: tt.val}
			if got := matches(t, c, nested); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	noKey := Context{Attributes: map[string]any{}}
	if matches(t, domain.Condition{Attribute: "key", Operator: domain.OpExists}, noKey) {
		t.Error("exists on an empty targeting key must not match")
	}
	if matches(t, domain.Condition{Attribute: "key", Operator: domain.OpNeq, Values: []any{"x"}}, noKey) {
		t.Error("neq on a missing targeting key must not match")
	}
}

// TestOperatorTable: every operator of domain's table compiles to an opcode of its own
// (a negated one to the opcode of the operator it negates), and the engine re-checks
// only what compiling needs: counts validation refuses but the engine can evaluate
// still compile, while values it cannot compile break the flag.
func TestOperatorTable(t *testing.T) {
	seen := map[opcode]domain.Operator{}
	for _, o := range domain.Operators {
		s, _ := o.Spec()
		if s.Negates != "" {
			continue
		}
		op, ok := opcodes[o]
		if !ok {
			t.Fatalf("%s has no opcode", o)
		}
		if other, dup := seen[op]; dup {
			t.Errorf("%s and %s share opcode %d", o, other, op)
		}
		seen[op] = o
	}
	compiles := func(c domain.Condition) []error {
		return Compile(domain.Snapshot{Flags: []domain.FlagConfig{{
			Flag: domain.Flag{Key: "f", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
			Config: domain.Config{Enabled: true, OffVariant: "off", Default: domain.Serve{Variant: "off"},
				Rules: []domain.Rule{{ID: "r", Conditions: []domain.Condition{c}, Serve: domain.Serve{Variant: "on"}}}},
		}}}).Problems()
	}
	for _, c := range []domain.Condition{
		{Attribute: "a", Operator: domain.OpEq, Values: []any{"x", "y"}},
		{Attribute: "a", Operator: domain.OpExists, Values: []any{"x"}},
		{Attribute: "a", Operator: domain.OpStartsWith, Values: []any{""}},
	} {
		if p := compiles(c); len(p) > 0 {
			t.Errorf("%s %v: %v", c.Operator, c.Values, p)
		}
	}
	for _, tt := range []struct {
		c    domain.Condition
		want string
	}{
		{domain.Condition{Attribute: "a", Operator: "like", Values: []any{"x"}}, `unknown operator "like"`},
		{domain.Condition{Operator: domain.OpEq, Values: []any{"x"}}, "empty attribute"},
		{domain.Condition{Attribute: "a", Operator: domain.OpIn}, "in needs values"},
		{domain.Condition{Attribute: "a", Operator: domain.OpGt, Values: []any{1.0, 2.0}}, "gt takes one value, got 2"},
		{domain.Condition{Attribute: "a", Operator: domain.OpMatches, Values: []any{1.0}}, "matches takes a string"},
		{domain.Condition{Attribute: "a", Operator: domain.OpNotIn, Values: []any{[]any{}}}, "not_in takes strings, numbers and booleans"},
		{domain.Condition{Attribute: "a", Operator: domain.OpContains, Values: []any{1.0}}, "contains takes strings"},
		{domain.Condition{Attribute: "a", Operator: domain.OpLte, Values: []any{"1"}}, "lte takes a number"},
		{domain.Condition{Attribute: "a", Operator: domain.OpSemverGt, Values: []any{"1.x"}}, `"1.x" is not a semantic version`},
		{domain.Condition{Attribute: "a", Operator: domain.OpBefore, Values: []any{"2026-01-31"}}, "parsing time"},
	} {
		p := compiles(tt.c)
		if len(p) != 1 || !strings.Contains(p[0].Error(), tt.want) {
			t.Errorf("%s %v: problems %v, want one saying %q", tt.c.Operator, tt.c.Values, p, tt.want)
		}
	}
}
