package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
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

// opcodes maps each positive operator to its opcode. A negated operator compiles to
// the opcode of the operator it negates (domain.OperatorSpec.Negates) with negate set.
var opcodes = map[domain.Operator]opcode{
	domain.OpEq: opEq, domain.OpIn: opIn,
	domain.OpStartsWith: opStartsWith, domain.OpEndsWith: opEndsWith, domain.OpContains: opContains,
	domain.OpMatches: opMatches,
	domain.OpGt:      opGt, domain.OpGte: opGte, domain.OpLt: opLt, domain.OpLte: opLte,
	domain.OpSemverEq: opSemverEq, domain.OpSemverGt: opSemverGt, domain.OpSemverLt: opSemverLt,
	domain.OpBefore: opBefore, domain.OpAfter: opAfter,
	domain.OpExists: opExists, domain.OpNotExists: opNotExists,
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

// compileCondition compiles c by its operator's spec (domain.Operator.Spec). It checks
// only what compiling needs: at least one value, exactly one for the operators that
// compile one operand, each of the right type. The count limits are validation's: the
// engine bounds its own work by its budget.
//
// Value lists, hash sets and operands are interned by cm: flags of one environment
// repeat them.
func compileCondition(cm *compiler, c domain.Condition) (condition, error) {
	cc := condition{attr: cm.attrRef(c.Attribute)}
	spec, op, ok := cm.spec(c.Operator)
	if !ok {
		return cc, fmt.Errorf("unknown operator %q", c.Operator)
	}
	cc.op, cc.negate = op, spec.Negates != ""
	if c.Attribute == "" {
		return cc, fmt.Errorf("empty attribute")
	}
	switch n := len(c.Values); {
	case spec.Values == domain.NoValues:
		return cc, nil
	case spec.Values.Single() && n != 1:
		return cc, fmt.Errorf("%s takes one value, got %d", c.Operator, n)
	case n < spec.Min:
		return cc, fmt.Errorf("%s needs values", c.Operator)
	}
	oneString := func() (string, error) {
		s, ok := c.Values[0].(string)
		if !ok {
			return "", fmt.Errorf("%s takes a string", c.Operator)
		}
		return s, nil
	}
	var arg operand
	var text string // what identifies arg, to intern it
	switch spec.Values {
	case domain.ScalarValues:
		texts := cm.scratch[:0]
		for _, v := range c.Values {
			t, ok := canonical(v)
			if !ok {
				return cc, fmt.Errorf("%s takes strings, numbers and booleans", c.Operator)
			}
			texts = append(texts, t)
		}
		cm.scratch = texts
		// A small set compares the string with each value; a hash set hashes it once
		// per evaluation and compares it with the value of the same hash.
		cc.perByte = uint32(len(texts))
		if len(texts) > smallSet {
			cc.set = cm.set(texts)
			cc.perByte = 2
		} else {
			cc.texts = cm.list(texts)
		}
		return cc, nil
	case domain.StringValues:
		texts := cm.scratch[:0]
		for _, v := range c.Values {
			s, ok := v.(string)
			if !ok {
				return cc, fmt.Errorf("%s takes strings", c.Operator)
			}
			texts = append(texts, s)
		}
		cm.scratch = texts
		cc.texts = cm.list(texts)
		// Each value scans the string at most once; contains costs twice what
		// a prefix or suffix does (measured worst cases, about 2 ns a byte).
		cc.perByte = uint32(len(cc.texts))
		if cc.op == opContains {
			cc.perByte *= 2
		}
		return cc, nil
	case domain.RegexValue:
		s, err := oneString()
		if err != nil {
			return cc, err
		}
		if len(s) > domain.MaxRegexBytes {
			return cc, fmt.Errorf("regular expression over %d bytes (MaxRegexBytes)", domain.MaxRegexBytes)
		}
		s = cm.str(s) // the compiled program keeps its pattern
		size, err := cm.regex(s)
		if err != nil {
			return cc, err
		}
		arg.re, text = cm.regexes[s], s
		// Matching can cost every instruction of the program at every byte.
		cc.perByte = uint32(size * costRegexInstByte)
	case domain.NumberValue:
		cc.perByte = 4 // parsing a numeric string
		f, ok := domain.Number(c.Values[0])
		if !ok || math.IsNaN(f) {
			return cc, fmt.Errorf("%s takes a number", c.Operator)
		}
		arg.num = f
		text = strconv.FormatUint(math.Float64bits(f), 16)
	case domain.SemverValue:
		cc.perByte = 1 // parsing the version
		s, err := oneString()
		if err != nil {
			return cc, err
		}
		var ok bool
		if arg.ver, ok = semver.Parse(s); !ok {
			return cc, fmt.Errorf("%q is not a semantic version", s)
		}
		text = s
	case domain.TimeValue:
		cc.perByte = 1 // parsing the time
		s, err := oneString()
		if err != nil {
			return cc, err
		}
		if arg.time, err = time.Parse(time.RFC3339, s); err != nil {
			return cc, err
		}
		text = s
	}
	cc.arg = cm.operand(cc.op, text, arg)
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
