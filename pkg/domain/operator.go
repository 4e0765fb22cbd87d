package domain

import (
	"fmt"
	"math"
	"time"

	"github.com/switchyard/switchyard/pkg/semver"
)

// Operator compares a context attribute with a condition's values.
type Operator string

// Operators. What each takes is in its OperatorSpec (Spec).
const (
	OpEq          Operator = "eq"           // one scalar; equal as text
	OpNeq         Operator = "neq"          // one scalar; not equal as text
	OpIn          Operator = "in"           // 1..MaxSetValues scalars; equal to one of them
	OpNotIn       Operator = "not_in"       // 1..MaxSetValues scalars; equal to none of them
	OpStartsWith  Operator = "starts_with"  // 1..MaxStringValues strings; starts with one of them
	OpEndsWith    Operator = "ends_with"    // 1..MaxStringValues strings; ends with one of them
	OpContains    Operator = "contains"     // 1..MaxStringValues strings; contains one of them
	OpNotContains Operator = "not_contains" // 1..MaxStringValues strings; contains none of them
	OpMatches     Operator = "matches"      // one RE2 expression within MaxRegexBytes and MaxRegexInstructions
	OpGt          Operator = "gt"           // one number
	OpGte         Operator = "gte"          // one number
	OpLt          Operator = "lt"           // one number
	OpLte         Operator = "lte"          // one number
	OpSemverEq    Operator = "semver_eq"    // one semantic version
	OpSemverGt    Operator = "semver_gt"    // one semantic version
	OpSemverLt    Operator = "semver_lt"    // one semantic version
	OpBefore      Operator = "before"       // one RFC 3339 time
	OpAfter       Operator = "after"        // one RFC 3339 time
	OpExists      Operator = "exists"       // no values
	OpNotExists   Operator = "not_exists"   // no values
)

// ValueKind is what each value of an operator is: it decides how validation checks a
// value and how the engine compiles it.
type ValueKind uint8

// Value kinds.
const (
	NoValues     ValueKind = iota // exists, not_exists
	ScalarValues                  // strings, numbers and booleans, compared as text
	StringValues                  // non-empty strings
	RegexValue                    // an RE2 regular expression within MaxRegexBytes
	NumberValue                   // a finite number
	SemverValue                   // a semantic version
	TimeValue                     // an RFC 3339 time
)

// Single reports whether an operator of this kind takes exactly one value whatever its
// count limits: the engine compiles one operand for it, not a set.
func (k ValueKind) Single() bool {
	return k == RegexValue || k == NumberValue || k == SemverValue || k == TimeValue
}

// Describe names what each value must be, for messages ("a number").
func (k ValueKind) Describe() string {
	switch k {
	case ScalarValues:
		return "a string, number or boolean"
	case StringValues:
		return "a non-empty string"
	case RegexValue:
		return "an RE2 regular expression"
	case NumberValue:
		return "a number"
	case SemverValue:
		return "a semantic version"
	case TimeValue:
		return "an RFC 3339 time"
	}
	return "no value"
}

// Problem says what is wrong with v as a value of this kind, or "" when nothing is. A
// regular expression is only checked for its type and size here; whether it compiles,
// and to how large a program, is the caller's to find out.
func (k ValueKind) Problem(v any) string {
	switch k {
	case ScalarValues:
		switch v.(type) {
		case string, bool:
			return ""
		}
		if finite(v) {
			return ""
		}
		return "must be a string, number or boolean"
	case StringValues:
		if s, ok := v.(string); !ok || s == "" {
			return "must be a non-empty string"
		}
	case RegexValue:
		s, ok := v.(string)
		switch {
		case !ok:
			return "must be a string holding an RE2 regular expression"
		case len(s) > MaxRegexBytes:
			return fmt.Sprintf("must be at most %d bytes (it has %d; the limit is MaxRegexBytes)", MaxRegexBytes, len(s))
		}
	case NumberValue:
		if !finite(v) {
			return "must be a number"
		}
	case SemverValue:
		s, ok := v.(string)
		if _, valid := semver.Parse(s); !ok || !valid {
			return "must be a semantic version such as 1.4.0 or 2.0.0-rc.1"
		}
	case TimeValue:
		s, ok := v.(string)
		if _, err := time.Parse(time.RFC3339, s); !ok || err != nil {
			return "must be an RFC 3339 time such as 2026-01-31T09:00:00Z"
		}
	}
	return ""
}

func finite(v any) bool {
	f, ok := Number(v)
	return ok && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// OperatorSpec is what an operator takes: the one table that validation checks
// conditions against and the engine compiles them by.
type OperatorSpec struct {
	Op Operator
	// Negates is the operator this one negates (neq negates eq), or "". A negated
	// operator matches when its attribute is present and the positive one does not
	// match.
	Negates Operator
	Values  ValueKind
	// Min and Max bound the number of values; Limit names the limit that Max is, when
	// it is one of this package's.
	Min, Max int
	Limit    string
}

// Positive returns the operator the spec's operator is a form of: the one it negates,
// or itself.
func (s OperatorSpec) Positive() Operator {
	if s.Negates != "" {
		return s.Negates
	}
	return s.Op
}

// operatorSpecs is in documentation order.
var operatorSpecs = []OperatorSpec{
	{Op: OpEq, Values: ScalarValues, Min: 1, Max: 1},
	{Op: OpNeq, Negates: OpEq, Values: ScalarValues, Min: 1, Max: 1},
	{Op: OpIn, Values: ScalarValues, Min: 1, Max: MaxSetValues, Limit: "MaxSetValues"},
	{Op: OpNotIn, Negates: OpIn, Values: ScalarValues, Min: 1, Max: MaxSetValues, Limit: "MaxSetValues"},
	{Op: OpStartsWith, Values: StringValues, Min: 1, Max: MaxStringValues, Limit: "MaxStringValues"},
	{Op: OpEndsWith, Values: StringValues, Min: 1, Max: MaxStringValues, Limit: "MaxStringValues"},
	{Op: OpContains, Values: StringValues, Min: 1, Max: MaxStringValues, Limit: "MaxStringValues"},
	{Op: OpNotContains, Negates: OpContains, Values: StringValues, Min: 1, Max: MaxStringValues, Limit: "MaxStringValues"},
	{Op: OpMatches, Values: RegexValue, Min: 1, Max: 1},
	{Op: OpGt, Values: NumberValue, Min: 1, Max: 1},
	{Op: OpGte, Values: NumberValue, Min: 1, Max: 1},
	{Op: OpLt, Values: NumberValue, Min: 1, Max: 1},
	{Op: OpLte, Values: NumberValue, Min: 1, Max: 1},
	{Op: OpSemverEq, Values: SemverValue, Min: 1, Max: 1},
	{Op: OpSemverGt, Values: SemverValue, Min: 1, Max: 1},
	{Op: OpSemverLt, Values: SemverValue, Min: 1, Max: 1},
	{Op: OpBefore, Values: TimeValue, Min: 1, Max: 1},
	{Op: OpAfter, Values: TimeValue, Min: 1, Max: 1},
	{Op: OpExists, Values: NoValues},
	{Op: OpNotExists, Values: NoValues},
}

// Operators lists every operator, in documentation order.
var Operators = func() []Operator {
	ops := make([]Operator, len(operatorSpecs))
	for i, s := range operatorSpecs {
		ops[i] = s.Op
	}
	return ops
}()

// specIndex finds an operator's spec: compiling a snapshot looks up every condition's.
var specIndex = func() map[Operator]int {
	m := make(map[Operator]int, len(operatorSpecs))
	for i, s := range operatorSpecs {
		m[s.Op] = i
	}
	return m
}()

// Spec returns what o takes, reporting false for an unknown operator.
func (o Operator) Spec() (OperatorSpec, bool) {
	i, ok := specIndex[o]
	if !ok {
		return OperatorSpec{}, false
	}
	return operatorSpecs[i], true
}

// Valid reports whether o is a known operator.
func (o Operator) Valid() bool {
	_, ok := o.Spec()
	return ok
}

// Negated reports whether o is the negation of another operator. A negated operator
// matches when its attribute is present and the positive operator does not match.
func (o Operator) Negated() bool {
	s, _ := o.Spec()
	return s.Negates != ""
}
