package validate

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/semver"
)

// operatorList names the allowed operators in error messages.
var operatorList = func() string {
	names := make([]string, len(domain.Operators))
	for i, o := range domain.Operators {
		names[i] = string(o)
	}
	return strings.Join(names, ", ")
}()

// valueRule says how many values an operator takes and what each must be.
type valueRule struct {
	min, max int
	limit    string             // the name of the limit that max is, when it is one
	what     string             // "a string", for messages
	check    func(v any) string // "" when v is fine
}

var (
	scalarRule = func(min, max int, limit string) valueRule {
		return valueRule{min: min, max: max, limit: limit, what: "a string, number or boolean", check: scalarProblem}
	}
	stringsRule = valueRule{min: 1, max: domain.MaxStringValues, limit: "MaxStringValues", what: "a non-empty string", check: func(v any) string {
		if s, ok := v.(string); !ok || s == "" {
			return "must be a non-empty string"
		}
		return ""
	}}
	numberRule = valueRule{min: 1, max: 1, what: "a number", check: func(v any) string {
		f, ok := domain.Number(v)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return "must be a number"
		}
		return ""
	}}
	semverRule = valueRule{min: 1, max: 1, what: "a semantic version", check: func(v any) string {
		s, ok := v.(string)
		if _, valid := semver.Parse(s); !ok || !valid {
			return "must be a semantic version such as 1.4.0 or 2.0.0-rc.1"
		}
		return ""
	}}
	timeRule = valueRule{min: 1, max: 1, what: "an RFC 3339 time", check: func(v any) string {
		s, ok := v.(string)
		if _, err := time.Parse(time.RFC3339, s); !ok || err != nil {
			return "must be an RFC 3339 time such as 2026-01-31T09:00:00Z"
		}
		return ""
	}}
	// regexRule checks the text; problems.regex compiles it.
	regexRule = valueRule{min: 1, max: 1, what: "an RE2 regular expression", check: func(v any) string {
		s, ok := v.(string)
		switch {
		case !ok:
			return "must be a string holding an RE2 regular expression"
		case len(s) > domain.MaxRegexBytes:
			return fmt.Sprintf("must be at most %d bytes (it has %d; the limit is MaxRegexBytes)", domain.MaxRegexBytes, len(s))
		}
		return ""
	}}
	noValues = valueRule{min: 0, max: 0}
)

var valueRules = map[domain.Operator]valueRule{
	domain.OpEq:          scalarRule(1, 1, ""),
	domain.OpNeq:         scalarRule(1, 1, ""),
	domain.OpIn:          scalarRule(1, domain.MaxSetValues, "MaxSetValues"),
	domain.OpNotIn:       scalarRule(1, domain.MaxSetValues, "MaxSetValues"),
	domain.OpStartsWith:  stringsRule,
	domain.OpEndsWith:    stringsRule,
	domain.OpContains:    stringsRule,
	domain.OpNotContains: stringsRule,
	domain.OpMatches:     regexRule,
	domain.OpGt:          numberRule,
	domain.OpGte:         numberRule,
	domain.OpLt:          numberRule,
	domain.OpLte:         numberRule,
	domain.OpSemverEq:    semverRule,
	domain.OpSemverGt:    semverRule,
	domain.OpSemverLt:    semverRule,
	domain.OpBefore:      timeRule,
	domain.OpAfter:       timeRule,
	domain.OpExists:      noValues,
	domain.OpNotExists:   noValues,
}

func scalarProblem(v any) string {
	switch v.(type) {
	case string, bool:
		return ""
	}
	if f, ok := domain.Number(v); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return ""
	}
	return "must be a string, number or boolean"
}

func (ps *problems) condition(path string, c domain.Condition, regexes *domain.RegexTally) {
	if msg := attributeProblem(c.Attribute); msg != "" {
		ps.add(path+".attribute", "%s", msg)
	}
	if c.Operator == "" {
		ps.add(path+".operator", "is required; allowed: %s", operatorList)
		return
	}
	rule, ok := valueRules[c.Operator]
	if !ok {
		ps.add(path+".operator", "unknown operator %q; allowed: %s", c.Operator, operatorList)
		return
	}
	field := path + ".values"
	n := len(c.Values)
	switch {
	case rule.max == 0 && n > 0:
		ps.add(field, "%s takes no values", c.Operator)
		return
	case rule.min == 1 && rule.max == 1 && n != 1:
		ps.add(field, "%s takes exactly one value: %s", c.Operator, rule.what)
		return
	case n < rule.min:
		ps.add(field, "%s takes at least %d value(s): each %s", c.Operator, rule.min, rule.what)
		return
	case n > rule.max:
		ps.add(field, "%s takes at most %d values (it has %d; the limit is %s)", c.Operator, rule.max, n, rule.limit)
		return
	}
	for i, v := range c.Values {
		if msg := rule.check(v); msg != "" {
			ps.add(at(field, i, ""), "%s", msg)
		} else if c.Operator == domain.OpMatches {
			ps.regex(at(field, i, ""), v.(string), regexes)
		}
	}
}
