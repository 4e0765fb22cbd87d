package eval

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/semver"
)

// smallSet is the size up to which a linear scan beats a hash set.
const smallSet = 8

// opcode is an operator as the engine switches on it: a byte rather than a string.
// Negated operators compile to their positive opcode with condition.negate set.
type opcode uint8

const (
	opEq opcode = iota
	opIn
	opStartsWith
	opEndsWith
	opContains
	opMatches
	opGt
	opGte
	opLt
	opLte
	opSemverEq
	opSemverGt
	opSemverLt
	opBefore
	opAfter
	opExists
	opNotExists
)

var opcodes = map[domain.Operator]struct {
	op     opcode
	negate bool
}{
	domain.OpEq: {opEq, false}, domain.OpNeq: {opEq, true},
	domain.OpIn: {opIn, false}, domain.OpNotIn: {opIn, true},
	domain.OpStartsWith: {opStartsWith, false}, domain.OpEndsWith: {opEndsWith, false},
	domain.OpContains: {opContains, false}, domain.OpNotContains: {opContains, true},
	domain.OpMatches: {opMatches, false},
	domain.OpGt:      {opGt, false}, domain.OpGte: {opGte, false},
	domain.OpLt: {opLt, false}, domain.OpLte: {opLte, false},
	domain.OpSemverEq: {opSemverEq, false}, domain.OpSemverGt: {opSemverGt, false},
	domain.OpSemverLt: {opSemverLt, false},
	domain.OpBefore:   {opBefore, false}, domain.OpAfter: {opAfter, false},
	domain.OpExists: {opExists, false}, domain.OpNotExists: {opNotExists, false},
}

// condition is kept small, since bulk evaluation walks tens of thousands of them: the
// operands only some operators need sit behind arg.
type condition struct {
	attr   attrRef
	op     opcode
	negate bool
	// perByte is what testing a string costs, in budget units per byte of the string.
	perByte uint32
	texts   []string // eq, in (canonical text, small sets); the string operators' values
	set     textSet  // eq, in with more than smallSet values
	arg     *operand
}

type operand struct {
	num  float64
	ver  semver.Version
	time time.Time
	re   *regexp.Regexp
}

func compileCondition(in *interner, seed maphash.Seed, c domain.Condition) (condition, error) {
	cc := condition{attr: in.attr(c.Attribute)}
	oc, ok := opcodes[c.Operator]
	if !ok {
		return cc, fmt.Errorf("unknown operator %q", c.Operator)
	}
	cc.op, cc.negate = oc.op, oc.negate
	if c.Attribute == "" {
		return cc, fmt.Errorf("empty attribute")
	}
	one := func() (any, error) {
		if len(c.Values) != 1 {
			return nil, fmt.Errorf("%s takes one value, got %d", c.Operator, len(c.Values))
		}
		return c.Values[0], nil
	}
	oneString := func() (string, error) {
		v, err := one()
		if err != nil {
			return "", err
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s takes a string", c.Operator)
		}
		return s, nil
	}
	var arg operand
	switch cc.op {
	case opEq, opIn:
		if len(c.Values) == 0 {
			return cc, fmt.Errorf("%s needs values", c.Operator)
		}
		for _, v := range c.Values {
			t, ok := canonical(v)
			if !ok {
				return cc, fmt.Errorf("%s takes strings, numbers and booleans", c.Operator)
			}
			cc.texts = append(cc.texts, t)
		}
		// A small set compares the string with each value; a hash set hashes it once
		// per evaluation and compares it with the value of the same hash.
		cc.perByte = uint32(len(cc.texts))
		if len(cc.texts) > smallSet {
			cc.set = newTextSet(seed, cc.texts)
			cc.texts = nil
			cc.perByte = 2
		}
		return cc, nil
	case opStartsWith, opEndsWith, opContains:
		if len(c.Values) == 0 {
			return cc, fmt.Errorf("%s needs values", c.Operator)
		}
		for _, v := range c.Values {
			s, ok := v.(string)
			if !ok {
				return cc, fmt.Errorf("%s takes strings", c.Operator)
			}
			cc.texts = append(cc.texts, s)
		}
		// Each value scans the string at most once; contains costs twice what
		// a prefix or suffix does (measured worst cases, about 2 ns a byte).
		cc.perByte = uint32(len(cc.texts))
		if cc.op == opContains {
			cc.perByte *= 2
		}
		return cc, nil
	case opMatches:
		s, err := oneString()
		if err != nil {
			return cc, err
		}
		if len(s) > domain.MaxRegexBytes {
			return cc, fmt.Errorf("regular expression over %d bytes (MaxRegexBytes)", domain.MaxRegexBytes)
		}
		size, err := in.regex(s)
		if err != nil {
			return cc, err
		}
		arg.re = in.regexes[s]
		// Matching can cost every instruction of the program at every byte.
		cc.perByte = uint32(size * costRegexInstByte)
	case opGt, opGte, opLt, opLte:
		cc.perByte = 4 // parsing a numeric string
		v, err := one()
		if err != nil {
			return cc, err
		}
		f, ok := domain.Number(v)
		if !ok || math.IsNaN(f) {
			return cc, fmt.Errorf("%s takes a number", c.Operator)
		}
		arg.num = f
	case opSemverEq, opSemverGt, opSemverLt:
		cc.perByte = 1 // parsing the version
		s, err := oneString()
		if err != nil {
			return cc, err
		}
		var ok bool
		if arg.ver, ok = semver.Parse(s); !ok {
			return cc, fmt.Errorf("%q is not a semantic version", s)
		}
	case opBefore, opAfter:
		cc.perByte = 1 // parsing the time
		s, err := oneString()
		if err != nil {
			return cc, err
		}
		if arg.time, err = time.Parse(time.RFC3339, s); err != nil {
			return cc, err
		}
	case opExists, opNotExists:
		return cc, nil
	}
	cc.arg = new(operand)
	*cc.arg = arg
	return cc, nil
}

// regex compiles a pattern once per snapshot, returning its program size.
func (in *interner) regex(pattern string) (int, error) {
	size, _ := in.tally.Measure(pattern)
	switch {
	case size.Err != nil:
		return 0, size.Err
	case size.Over:
		return 0, fmt.Errorf("the environment's regular expressions are over %d bytes or %d instructions in all "+
			"(MaxSnapshotRegexBytes, MaxSnapshotRegexInstructions)", domain.MaxSnapshotRegexBytes, domain.MaxSnapshotRegexInstructions)
	case !size.Fits():
		about := ""
		if !size.Exact {
			about = "about "
		}
		return 0, fmt.Errorf("regular expression of %s%d instructions, over %d (MaxRegexInstructions)",
			about, size.Instructions, domain.MaxRegexInstructions)
	}
	if _, ok := in.regexes[pattern]; !ok {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return 0, err // unreachable: Measure parsed and compiled it
		}
		in.regexes[pattern] = re
	}
	return size.Instructions, nil
}

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
	switch l := v.v.(type) {
	case []any:
		if len(l) > domain.MaxInputListLen {
			return false
		}
		found := false
		for _, e := range l {
			if !ac.spend(costElement) {
				return false
			}
			if m, _ := c.matchValue(e, ac); m {
				found = true
				break
			}
		}
		return !ac.left.spent() && found != c.negate
	case []string:
		if len(l) > domain.MaxInputListLen {
			return false
		}
		found := false
		for _, e := range l {
			if !ac.spend(costElement) {
				return false
			}
			if m, _ := c.matchText(e, ac); m {
				found = true
				break
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

// canonical renders a scalar as the text eq and in compare.
func canonical(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return "", false
		}
		return string(appendNumber(nil, f)), true
	}
	if f, ok := domain.Number(v); ok {
		return string(appendNumber(nil, f)), true
	}
	return "", false
}

// appendNumber appends the shortest decimal form of f, in exponent form from 1e21 on
// as JavaScript does.
func appendNumber(b []byte, f float64) []byte {
	if math.Abs(f) >= 1e21 {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}
