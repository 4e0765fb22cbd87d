package domain

// Operator compares a context attribute with a condition's values.
type Operator string

// Operators. The comment of each names the values it takes.
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

// Operators lists every operator, in documentation order.
var Operators = []Operator{
	OpEq, OpNeq, OpIn, OpNotIn,
	OpStartsWith, OpEndsWith, OpContains, OpNotContains, OpMatches,
	OpGt, OpGte, OpLt, OpLte,
	OpSemverEq, OpSemverGt, OpSemverLt,
	OpBefore, OpAfter,
	OpExists, OpNotExists,
}

// Valid reports whether o is a known operator.
func (o Operator) Valid() bool {
	for _, k := range Operators {
		if k == o {
			return true
		}
	}
	return false
}

// Negated reports whether o is the negation of another operator. A negated operator
// matches when its attribute is present and the positive operator does not match.
func (o Operator) Negated() bool {
	return o == OpNeq || o == OpNotIn || o == OpNotContains
}
