package eval

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/semver"
)

// match reports whether the condition holds for the context behind ac. A string over
// domain.MaxInputBytes, or a list over domain.MaxInputListLen, matches nothing but
// exists and not_exists, as a value of the wrong type: looking at it could cost more
// than any flag is worth. match also reports false once the budget is spent.
func (c *condition) match(ctx *Context, ac *attrCache) bool {
	if !ac.spend(costCondition) {
		return false
	}
	v := ac.get(ctx, &c.attr)
	switch c.op {
	case opExists:
		return v.flags&present != 0
	case opNotExists:
		return v.flags&present == 0
	}
	switch {
	case v.flags&present == 0:
		return false
	case v.flags&isString != 0:
		if len(v.s) > domain.MaxInputBytes || !ac.spend(c.cost(v.s)) {
			return false
		}
		var m, ok bool
		switch {
		case c.set.slots != nil:
			m, ok = c.set.hasHashed(v.s, ac.hash(v)), true
		case c.op == opEq || c.op == opIn:
			for _, t := range c.texts {
				if t == v.s {
					m = true
					break
				}
			}
			ok = true
		case c.op == opSemverEq || c.op == opSemverGt || c.op == opSemverLt:
			var ver semver.Version
			if ver, ok = v.semver(); ok {
				m = c.compareSemver(ver)
			}
		case c.op == opBefore || c.op == opAfter:
			var t time.Time
			if t, ok = v.parsedTime(); ok {
				m = c.compareTime(t)
			}
		default:
			m, ok = c.matchString(v.s)
		}
		return ok && m != c.negate
	}
	// A list matches when some element does (negated: none does), paying for each
	// element looked at. One loop serves both list types; a generic one taking the
	// element matcher as a function would move ac to the heap on every call.
	la, isAny := v.v.([]any)
	ls, isStrings := v.v.([]string)
	if isAny || isStrings {
		n := max(len(la), len(ls))
		if n > domain.MaxInputListLen {
			return false
		}
		found := false
		for i := 0; i < n && !found; i++ {
			if !ac.spend(costElement) {
				return false
			}
			if isAny {
				found, _ = c.matchValue(la[i], ac)
			} else {
				found, _ = c.matchText(ls[i], ac)
			}
		}
		return !ac.left.spent() && found != c.negate
	}
	m, ok := c.matchValue(v.v, ac)
	return ok && m != c.negate
}

// matchValue applies the positive operator to one scalar. ok is false when the value's
// type cannot be compared by the operator, or the budget is spent.
func (c *condition) matchValue(v any, ac *attrCache) (matched, ok bool) {
	switch x := v.(type) {
	case string:
		return c.matchText(x, ac)
	case bool:
		if c.op != opEq && c.op != opIn {
			return false, false
		}
		if x {
			return c.hasText("true"), true
		}
		return c.hasText("false"), true
	}
	f, isNum := domain.Number(v)
	if !isNum {
		return false, false
	}
	switch c.op {
	case opEq, opIn:
		if !ac.spend(costNumberText) {
			return false, false
		}
		var buf [32]byte
		return c.hasBytes(appendNumber(buf[:0], f)), true
	case opGt, opGte, opLt, opLte:
		return c.compareNumber(f), true
	case opBefore, opAfter:
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false, false
		}
		return c.compareTime(time.UnixMilli(int64(f))), true
	}
	return false, false
}

// matchText is matchString for an element of a list: within the input bounds and the
// budget.
func (c *condition) matchText(s string, ac *attrCache) (matched, ok bool) {
	if len(s) > domain.MaxInputBytes || !ac.spend(c.cost(s)) {
		return false, false
	}
	return c.matchString(s)
}

// cost is what testing s costs, beyond costCondition.
func (c *condition) cost(s string) int64 {
	n := int64(len(s)) * int64(c.perByte)
	if c.op == opMatches {
		n += costRegexCall
	}
	return n
}

func (c *condition) matchString(s string) (matched, ok bool) {
	switch c.op {
	case opEq, opIn:
		return c.hasText(s), true
	case opStartsWith:
		for _, t := range c.texts {
			if strings.HasPrefix(s, t) {
				return true, true
			}
		}
		return false, true
	case opEndsWith:
		for _, t := range c.texts {
			if strings.HasSuffix(s, t) {
				return true, true
			}
		}
		return false, true
	case opContains:
		for _, t := range c.texts {
			if strings.Contains(s, t) {
				return true, true
			}
		}
		return false, true
	case opMatches:
		return c.arg.re.MatchString(s), true
	case opGt, opGte, opLt, opLte:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return false, false
		}
		return c.compareNumber(f), true
	case opSemverEq, opSemverGt, opSemverLt:
		v, valid := semver.Parse(s)
		if !valid {
			return false, false
		}
		return c.compareSemver(v), true
	case opBefore, opAfter:
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return false, false
		}
		return c.compareTime(t), true
	}
	return false, false
}

func (c *condition) hasText(s string) bool {
	if c.set.slots != nil {
		return c.set.has(s)
	}
	for _, t := range c.texts {
		if t == s {
			return true
		}
	}
	return false
}

// hasBytes is hasText for a number rendered into a buffer; the conversions below do not
// allocate.
func (c *condition) hasBytes(b []byte) bool {
	if c.set.slots != nil {
		return c.set.hasBytes(b)
	}
	for _, t := range c.texts {
		if t == string(b) {
			return true
		}
	}
	return false
}

func (c *condition) compareNumber(f float64) bool {
	switch c.op {
	case opGt:
		return f > c.arg.num
	case opGte:
		return f >= c.arg.num
	case opLt:
		return f < c.arg.num
	case opLte:
		return f <= c.arg.num
	}
	return false
}

func (c *condition) compareSemver(v semver.Version) bool {
	d := semver.Compare(v, c.arg.ver)
	return c.op == opSemverEq && d == 0 || c.op == opSemverGt && d > 0 || c.op == opSemverLt && d < 0
}

func (c *condition) compareTime(t time.Time) bool {
	if c.op == opBefore {
		return t.Before(c.arg.time)
	}
	return t.After(c.arg.time)
}
