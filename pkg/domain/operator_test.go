package domain

import (
	"math"
	"slices"
	"testing"
)

// TestOperatorSpecs checks the table's consistency: every operator has one spec, a
// negated operator negates a positive one of the same values, and an operator whose
// kind compiles one operand takes exactly one value.
func TestOperatorSpecs(t *testing.T) {
	all := []Operator{OpEq, OpNeq, OpIn, OpNotIn, OpStartsWith, OpEndsWith, OpContains, OpNotContains, OpMatches,
		OpGt, OpGte, OpLt, OpLte, OpSemverEq, OpSemverGt, OpSemverLt, OpBefore, OpAfter, OpExists, OpNotExists}
	if !slices.Equal(Operators, all) {
		t.Fatalf("Operators = %v, want %v", Operators, all)
	}
	for _, o := range all {
		s, ok := o.Spec()
		if !ok || s.Op != o {
			t.Fatalf("%s: no spec (%+v)", o, s)
		}
		if !o.Valid() {
			t.Errorf("%s: not valid", o)
		}
		if s.Min > s.Max || (s.Values == NoValues) != (s.Max == 0) || (s.Max > 1) != (s.Limit != "") {
			t.Errorf("%s: counts %d..%d (limit %q) do not fit its values", o, s.Min, s.Max, s.Limit)
		}
		if s.Values.Single() && (s.Min != 1 || s.Max != 1) {
			t.Errorf("%s: takes one operand but %d..%d values", o, s.Min, s.Max)
		}
		if s.Negates != "" {
			p, _ := s.Negates.Spec()
			if p.Negates != "" || p.Values != s.Values || p.Min != s.Min || p.Max != s.Max {
				t.Errorf("%s negates %s, which takes other values (%+v)", o, s.Negates, p)
			}
		}
		if got, want := o.Negated(), o == OpNeq || o == OpNotIn || o == OpNotContains; got != want {
			t.Errorf("%s: Negated() = %v", o, got)
		}
		if p := s.Positive(); p != o && p != s.Negates {
			t.Errorf("%s: Positive() = %s", o, p)
		}
	}
	if _, ok := Operator("like").Spec(); ok || Operator("like").Valid() || Operator("").Valid() {
		t.Error("unknown operators have a spec")
	}
}

func TestValueKindProblem(t *testing.T) {
	long := string(make([]byte, MaxRegexBytes+1))
	tests := []struct {
		kind ValueKind
		v    any
		ok   bool
	}{
		{ScalarValues, "x", true}, {ScalarValues, true, true}, {ScalarValues, 3.0, true}, {ScalarValues, 3, true},
		{ScalarValues, math.Inf(1), false}, {ScalarValues, math.NaN(), false}, {ScalarValues, nil, false}, {ScalarValues, []any{"x"}, false},
		{StringValues, "x", true}, {StringValues, "", false}, {StringValues, 1.0, false},
		{RegexValue, "^a+$", true}, {RegexValue, "(", true}, {RegexValue, 1.0, false}, {RegexValue, long, false},
		{NumberValue, 1.5, true}, {NumberValue, "1.5", false}, {NumberValue, math.Inf(-1), false}, {NumberValue, math.NaN(), false},
		{SemverValue, "1.4.0", true}, {SemverValue, "2.0.0-rc.1", true}, {SemverValue, "1.x", false}, {SemverValue, 1.0, false},
		{TimeValue, "2026-01-31T09:00:00Z", true}, {TimeValue, "2026-01-31", false}, {TimeValue, 1.0, false},
	}
	for _, tt := range tests {
		if msg := tt.kind.Problem(tt.v); (msg == "") != tt.ok {
			t.Errorf("%s: Problem(%v) = %q", tt.kind.Describe(), tt.v, msg)
		}
	}
}
