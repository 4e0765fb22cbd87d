package eval

// What a trace says and how much of it: the "why" of each condition and flag in words,
// and the bounds on the values a trace quotes (MaxTraceBytes).

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/switchyard/switchyard/pkg/domain"
)

// actual is what the context holds for a resolved, present attribute.
func actual(v *value) any {
	if v.v == nil {
		return v.s // the targeting key
	}
	return v.v
}

// why says why c holds or not for v, and whether it holds by this reckoning, which
// the tests hold to match's.
func (w *walk) why(c *condition, src *domain.Condition, v *value) (bool, string) {
	name := src.Attribute
	switch c.op {
	case opExists, opNotExists:
		if v.flags&present == 0 {
			return c.op == opNotExists, "attribute absent"
		}
		return c.op == opExists, "attribute present"
	}
	if v.flags&present == 0 {
		return false, "attribute absent"
	}
	x := actual(v)
	if s, ok := x.(string); ok && len(s) > domain.MaxInputBytes {
		return false, fmt.Sprintf("a string over the input limit (%d bytes)", domain.MaxInputBytes)
	}
	la, isAny := x.([]any)
	ls, isStrings := x.([]string)
	if !isAny && !isStrings {
		m, ok := c.matchValue(x, &w.side)
		if !ok {
			return false, name + " " + typeProblem(c.op)
		}
		return m != c.negate, name + " " + phrase(c, src, x, m)
	}
	n := max(len(la), len(ls))
	if n > domain.MaxInputListLen {
		return false, fmt.Sprintf("a list over the input limit (%d elements)", domain.MaxInputListLen)
	}
	for k := range n {
		var el any
		var m bool
		if isAny {
			el = la[k]
			m, _ = c.matchValue(el, &w.side)
		} else {
			el = ls[k]
			m, _ = c.matchText(ls[k], &w.side)
		}
		if m {
			return !c.negate, fmt.Sprintf("%s[%d] %s", name, k, phrase(c, src, el, true))
		}
	}
	return c.negate, "no element of " + name + " " + phrase(c, src, nil, true)
}

// typeProblem says what a value an operator cannot compare is not.
func typeProblem(op opcode) string {
	switch op {
	case opStartsWith, opEndsWith, opContains, opMatches:
		return "is not a string"
	case opGt, opGte, opLt, opLte:
		return "is not a number"
	case opSemverEq, opSemverGt, opSemverLt:
		return "is not a semantic version"
	case opBefore, opAfter:
		return "is not an RFC 3339 time or Unix milliseconds"
	}
	return "is not a string, number or boolean"
}

// phrases are what a one-operand operator found: {held, failed}, before the operand.
var phrases = map[opcode][2]string{
	opEq:       {"equals", "does not equal"},
	opMatches:  {"matches", "does not match"},
	opGt:       {"is greater than", "is not greater than"},
	opGte:      {"is at least", "is less than"},
	opLt:       {"is less than", "is not less than"},
	opLte:      {"is at most", "is greater than"},
	opSemverEq: {"is version", "is not version"},
	opSemverGt: {"is a later version than", "is not a later version than"},
	opSemverLt: {"is an earlier version than", "is not an earlier version than"},
	opBefore:   {"is before", "is not before"},
	opAfter:    {"is after", "is not after"},
}

// phrase says what the positive operator of c found of x: that it matched, or not. x
// is nil when no value is at hand (a list none of whose elements matched).
func phrase(c *condition, src *domain.Condition, x any, matched bool) string {
	operand := ""
	if len(src.Values) > 0 {
		operand = show(src.Values[0])
	}
	if w, ok := phrases[c.op]; ok {
		if matched {
			return w[0] + " " + operand
		}
		return w[1] + " " + operand
	}
	switch c.op {
	case opIn:
		if matched {
			return "is in the list"
		}
		return "is not in the list"
	case opStartsWith, opEndsWith, opContains:
		verb := map[opcode]string{opStartsWith: "starts with", opEndsWith: "ends with", opContains: "contains"}[c.op]
		if !matched {
			return verb + " none of the values"
		}
		if s, ok := x.(string); ok {
			if t, ok := c.firstText(s); ok {
				return verb + " " + quote(t)
			}
		}
		return verb + " one of the values"
	}
	return ""
}

// firstText returns the first value of a starts_with, ends_with or contains condition
// that s satisfies.
func (c *condition) firstText(s string) (string, bool) {
	for _, t := range c.texts {
		if c.op == opStartsWith && strings.HasPrefix(s, t) || c.op == opEndsWith && strings.HasSuffix(s, t) ||
			c.op == opContains && strings.Contains(s, t) {
			return t, true
		}
	}
	return "", false
}

// whyOf says what decided a result, from the result alone: for flags whose trace did
// not fit.
func whyOf(r *Result) string {
	switch r.Reason {
	case ReasonTargetingMatch:
		return fmt.Sprintf("rule %s matched: serving %s", quote(r.RuleID), quote(r.Variant))
	case ReasonDefault:
		return fmt.Sprintf("no rule matched: serving %s", quote(r.Variant))
	case ReasonSplit:
		return fmt.Sprintf("no rule matched: the rollout serves %s", quote(r.Variant))
	case ReasonDisabled:
		return "the flag is off (disabled in this environment, or killed)"
	case ReasonPrerequisiteFailed:
		return "a prerequisite was not met"
	}
	switch {
	case r.ErrorCode == ErrTargetingKeyMissing:
		return "the rollout buckets by an attribute the context lacks: serving the off variant"
	case r.ErrorMessage != "":
		return r.ErrorMessage
	}
	return string(r.ErrorCode)
}

// quote quotes s for a Why, shortened when long.
func quote(s string) string {
	if len(s) > maxQuoted {
		s = cut(s, maxQuoted) + "…"
	}
	return strconv.Quote(s)
}

// show renders a scalar for a Why: strings quoted, numbers as eq compares them.
func show(v any) string {
	if s, ok := v.(string); ok {
		return quote(s)
	}
	if t, ok := canonical(v); ok {
		return t
	}
	return fmt.Sprintf("%v", shown(v))
}

// cut shortens s to at most n bytes, at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// shown returns v bounded for a trace: strings of at most maxShownBytes, at most
// maxShownNodes elements and members in all, numbers that JSON can encode.
func shown(v any) any {
	left := maxShownNodes
	return bounded(v, &left)
}

// boundedList is a list as a trace shows it: its elements while room is left, then "…".
func boundedList[T any](l []T, left *int) []any {
	out := make([]any, 0, min(len(l), *left))
	for _, e := range l {
		if *left <= 0 {
			return append(out, "…")
		}
		*left--
		out = append(out, bounded(e, left))
	}
	return out
}

func bounded(v any, left *int) any {
	switch x := v.(type) {
	case string:
		if len(x) > maxShownBytes {
			return cut(x, maxShownBytes) + "…"
		}
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		return x
	case []string:
		return boundedList(x, left)
	case []any:
		return boundedList(x, left)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make(map[string]any, min(len(x), *left))
		for _, k := range keys {
			if *left <= 0 {
				out["…"] = "…"
				break
			}
			*left--
			out[cut(k, maxShownBytes)] = bounded(x[k], left)
		}
		return out
	}
	return v
}

// size estimates a condition trace's size, encoded.
func (ct *ConditionTrace) size() int {
	n := 80 + len(ct.Attribute) + len(ct.Operator) + len(ct.Why) + sizeOf(ct.Actual)
	for _, v := range ct.Values {
		n += sizeOf(v) + 1
	}
	return n
}

func sizeOf(v any) int {
	switch x := v.(type) {
	case string:
		return len(x) + 2
	case []any:
		n := 2
		for _, e := range x {
			n += sizeOf(e) + 1
		}
		return n
	case map[string]any:
		n := 2
		for k, e := range x {
			n += len(k) + 4 + sizeOf(e)
		}
		return n
	}
	return 8
}
