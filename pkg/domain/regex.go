package domain

import "regexp/syntax"

// regexGuard is the estimated program size above which RegexInstructions does not
// compile a pattern: compiling is what costs time and memory (a 1 KiB pattern can ask
// for 160,000 instructions), and the estimate is close enough to refuse on.
const regexGuard = 4 * MaxRegexInstructions

// RegexInstructions parses pattern as the matches operator does (RE2 syntax, Perl
// flags) and returns the number of instructions of its compiled program, which
// matching time and memory grow with. exact is false when the program is too large to
// be worth compiling (well over MaxRegexInstructions): n is then an estimate from the
// parsed pattern, at least what compiling would give bar degenerate patterns.
func RegexInstructions(pattern string) (n int, exact bool, err error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0, false, err
	}
	if est := estimate(re) + 2; est > regexGuard {
		return est, false, nil
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0, false, err
	}
	return len(prog.Inst), true, nil
}

// estimateCap keeps estimate's sums far from overflow; any larger value is refused.
const estimateCap = 1 << 30

// estimate bounds from above the instructions syntax.Compile emits for re once
// simplified: one per literal rune, character class or empty-width assertion, two per
// capture, one or two per repetition operator, one per alternative, and x{n,m} as n
// copies of x and m-n of x?. Simplify only merges redundant nested repetitions (x** is
// x*), so the estimate is close, often exact.
func estimate(re *syntax.Regexp) int {
	sub := func(i int) int { return estimate(re.Sub[i]) }
	n := 1
	switch re.Op {
	case syntax.OpLiteral:
		n = max(1, len(re.Rune))
	case syntax.OpCapture:
		n = 2 + sub(0)
	case syntax.OpStar:
		n = 2 + sub(0) // x* is (x+)? when x can match empty
	case syntax.OpPlus, syntax.OpQuest:
		n = 1 + sub(0)
	case syntax.OpRepeat:
		// Simplify writes x{2,5} as xx(x(x(x)?)?)? and x{3,} as xxx+.
		x := sub(0)
		if re.Max < 0 {
			n = min(estimateCap, (re.Min+1)*x+2)
		} else {
			n = min(estimateCap, re.Min*x+(re.Max-re.Min)*(x+1))
		}
	case syntax.OpConcat, syntax.OpAlternate:
		// An alternation of k has k-1 branch instructions; an empty concatenation is
		// one no-op, others none.
		switch {
		case re.Op == syntax.OpAlternate:
			n = len(re.Sub) - 1
		case len(re.Sub) > 0:
			n = 0
		}
		for i := range re.Sub {
			n = min(estimateCap, n+sub(i))
		}
	}
	return n
}

// RegexSize is what a RegexTally found of one pattern.
type RegexSize struct {
	// Instructions is the size of the compiled program; an estimate when Exact is false.
	Instructions int
	Exact        bool
	// Err says why the pattern does not parse.
	Err error
	// Over says the pattern was not measured, or tipped a total over its limit: the
	// environment's patterns together are over MaxSnapshotRegexBytes or
	// MaxSnapshotRegexInstructions.
	Over bool
}

// Fits reports whether the pattern may be compiled: it parses, its program is within
// MaxRegexInstructions, and the totals were within their limits.
func (s RegexSize) Fits() bool {
	return s.Err == nil && s.Exact && s.Instructions <= MaxRegexInstructions && !s.Over
}

// RegexTally measures the distinct matches patterns of an environment, or of one
// configuration, against MaxSnapshotRegexBytes and MaxSnapshotRegexInstructions. Once
// either total is over it parses and compiles no more patterns, since that work is what
// the limits bound. Validation and the engine share it so that they count alike.
type RegexTally struct {
	sizes map[string]RegexSize
	// Bytes is the text of the patterns seen, Instructions the programs of those
	// compiled.
	Bytes, Instructions int
}

// Over reports whether a total is over its limit.
func (t *RegexTally) Over() bool {
	return t.Bytes > MaxSnapshotRegexBytes || t.Instructions > MaxSnapshotRegexInstructions
}

// Measure returns the size of pattern, and whether it is the pattern's first
// occurrence (later ones cost nothing and return the same size).
func (t *RegexTally) Measure(pattern string) (size RegexSize, first bool) {
	if s, seen := t.sizes[pattern]; seen {
		return s, false
	}
	if t.sizes == nil {
		t.sizes = map[string]RegexSize{}
	}
	if !t.Over() {
		t.Bytes += len(pattern)
	}
	if t.Over() {
		size.Over = true
	} else {
		size.Instructions, size.Exact, size.Err = RegexInstructions(pattern)
		if size.Err == nil && size.Exact {
			t.Instructions += size.Instructions
			size.Over = t.Over()
		}
	}
	t.sizes[pattern] = size
	return size, true
}
