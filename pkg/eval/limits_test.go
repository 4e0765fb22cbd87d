package eval

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

// ruleFlag is a boolean flag, on, whose one rule serves "on" when its conditions hold.
func ruleFlag(key string, conds ...domain.Condition) domain.FlagConfig {
	return domain.FlagConfig{
		Flag: domain.Flag{Key: key, Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
		Config: domain.Config{Enabled: true, OffVariant: "off", Default: domain.Serve{Variant: "off"},
			Rules: []domain.Rule{{ID: "r", Conditions: conds, Serve: domain.Serve{Variant: "on"}}}},
	}
}

func matchesCond(pattern string) domain.Condition {
	return domain.Condition{Attribute: "s", Operator: domain.OpMatches, Values: []any{pattern}}
}

// hostile returns a pattern of n instructions that keeps all of them busy on a run of
// a, and never matches it. distinct varies it.
func hostile(tb testing.TB, n, distinct int) string {
	tb.Helper()
	k := n/8 + distinct%(n*3/8-10)
	p := fmt.Sprintf("(?:a?){%d}a{%d}b", k, n-2*k-3)
	if got, exact, _ := domain.RegexInstructions(p); !exact || got != n {
		tb.Fatalf("%s: %d instructions, want %d", p, got, n)
	}
	return p
}

func TestCompileRefusesLargePatterns(t *testing.T) {
	s := Compile(domain.Snapshot{Flags: []domain.FlagConfig{
		ruleFlag("hostile", matchesCond(strings.Repeat("(?:a?){1000}", 80)+"b")),
		ruleFlag("over", matchesCond(`a{999}`)),
		ruleFlag("at", matchesCond(`a{998}`)),
	}})
	if len(s.Problems()) != 2 {
		t.Fatalf("want problems for hostile and over: %v", s.Problems())
	}
	for _, p := range s.Problems() {
		if !strings.Contains(p.Error(), "MaxRegexInstructions") {
			t.Errorf("problem does not name the limit: %v", p)
		}
	}
	ctx := &Context{Key: "u", Attributes: map[string]any{"s": strings.Repeat("a", 998)}}
	for key, want := range map[string]Result{
		"hostile": {Key: "hostile", Reason: ReasonError, ErrorCode: ErrGeneral, ErrorMessage: MessageBroken},
		"over":    {Key: "over", Reason: ReasonError, ErrorCode: ErrGeneral, ErrorMessage: MessageBroken},
		"at":      {Key: "at", Value: true, Variant: "on", Reason: ReasonTargetingMatch, RuleID: "r"},
	} {
		if got := s.Evaluate(key, ctx); got != want {
			t.Errorf("%s: got %+v, want %+v", key, got, want)
		}
	}
}

// TestCompilePatternBytes checks MaxRegexBytes at the edge: a pattern of exactly that
// many bytes (one character class, one instruction) compiles, one byte more does not.
func TestCompilePatternBytes(t *testing.T) {
	class := func(n int) string { return "[" + strings.Repeat("a", n-2) + "]" }
	s := Compile(domain.Snapshot{Flags: []domain.FlagConfig{
		ruleFlag("at", matchesCond(class(domain.MaxRegexBytes))),
		ruleFlag("over", matchesCond(class(domain.MaxRegexBytes+1))),
	}})
	if p := s.Problems(); len(p) != 1 || !strings.Contains(p[0].Error(), `flag "over"`) || !strings.Contains(p[0].Error(), "MaxRegexBytes") {
		t.Fatalf("want one problem, for over, naming MaxRegexBytes: %v", p)
	}
	ctx := &Context{Key: "u", Attributes: map[string]any{"s": "a"}}
	if r := s.Evaluate("at", ctx); r.Reason != ReasonTargetingMatch {
		t.Errorf("at the limit: %+v", r)
	}
	if r := s.Evaluate("over", ctx); r.ErrorMessage != MessageBroken {
		t.Errorf("over the limit: %+v", r)
	}
}

func TestCompileSharesPatterns(t *testing.T) {
	// 1,000 flags with one pattern compile it once, and count it once.
	var fcs []domain.FlagConfig
	for i := range 1000 {
		fcs = append(fcs, ruleFlag(fmt.Sprintf("f%04d", i), matchesCond(hostile(t, domain.MaxRegexInstructions, 0))))
	}
	s := compile(t, fcs...)
	re := s.flags[0].rules[0].conds[0].arg.re
	for i := range s.flags {
		if s.flags[i].rules[0].conds[0].arg.re != re {
			t.Fatalf("flag %d compiled the pattern again", i)
		}
	}

	// Distinct patterns: one more than MaxSnapshotRegexInstructions allows breaks the
	// last flag (in key order) alone.
	fcs = fcs[:0]
	n := domain.MaxSnapshotRegexInstructions / domain.MaxRegexInstructions
	for i := range n + 1 {
		fcs = append(fcs, ruleFlag(fmt.Sprintf("f%04d", i), matchesCond(hostile(t, domain.MaxRegexInstructions, i))))
	}
	s = Compile(domain.Snapshot{Flags: fcs})
	if p := s.Problems(); len(p) != 1 || !strings.Contains(p[0].Error(), fmt.Sprintf(`flag "f%04d"`, n)) ||
		!strings.Contains(p[0].Error(), "MaxSnapshotRegexInstructions") {
		t.Errorf("want the last flag broken for the total: %v", p)
	}
}

// TestInputBounds checks that each operator looks at a string of MaxInputBytes and at a
// list of MaxInputListLen, and at nothing longer: a longer one is a value of the wrong
// type, which no operator but exists and not_exists matches, negated ones included.
func TestInputBounds(t *testing.T) {
	pad := func(n int, s string) string { return strings.Repeat("a", n-len(s)) + s }
	list := func(n int, last any) []any {
		l := make([]any, n)
		for i := range l {
			l[i] = "x"
		}
		l[n-1] = last
		return l
	}
	const max, maxLen = domain.MaxInputBytes, domain.MaxInputListLen
	tests := []struct {
		name   string
		op     domain.Operator
		values []any
		input  func(n int) any // the input of size n (bytes or elements)
		limit  int
		want   bool // at the limit; one over never matches but for exists
	}{
		{"starts_with", domain.OpStartsWith, []any{"a"}, func(n int) any { return pad(n, "") }, max, true},
		{"ends_with", domain.OpEndsWith, []any{"yz"}, func(n int) any { return pad(n, "yz") }, max, true},
		{"contains", domain.OpContains, []any{"mid"}, func(n int) any { return pad(n, "mid") }, max, true},
		{"not_contains", domain.OpNotContains, []any{"zzz"}, func(n int) any { return pad(n, "") }, max, true},
		{"matches", domain.OpMatches, []any{`^a*z$`}, func(n int) any { return pad(n, "z") }, max, true},
		{"eq", domain.OpEq, []any{pad(max, "q")}, func(n int) any { return pad(n, "q") }, max, true},
		{"neq", domain.OpNeq, []any{"q"}, func(n int) any { return pad(n, "") }, max, true},
		{"in", domain.OpIn, append(manyValues(20), pad(max, "q")), func(n int) any { return pad(n, "q") }, max, true},
		{"not_in", domain.OpNotIn, []any{"q"}, func(n int) any { return pad(n, "") }, max, true},
		{"semver_gt", domain.OpSemverGt, []any{"1.0.0"}, func(n int) any { return "2.0.0-" + pad(n-6, "") }, max, true},
		{"gt", domain.OpGt, []any{1.0}, func(n int) any { return strings.Repeat("0", n-1) + "2" }, max, true},
		{"exists string", domain.OpExists, nil, func(n int) any { return pad(n, "") }, max, true},
		{"list in", domain.OpIn, []any{"q"}, func(n int) any { return list(n, "q") }, maxLen, true},
		{"list not_in", domain.OpNotIn, []any{"q"}, func(n int) any { return list(n, "x") }, maxLen, true},
		{"list matches", domain.OpMatches, []any{`^q$`}, func(n int) any { return list(n, "q") }, maxLen, true},
		{"list gt", domain.OpGt, []any{1.0}, func(n int) any { return list(n, 2.0) }, maxLen, true},
		{"list []string", domain.OpEndsWith, []any{"q"}, func(n int) any {
			l := make([]string, n)
			l[n-1] = "q"
			return l
		}, maxLen, true},
		{"exists list", domain.OpExists, nil, func(n int) any { return list(n, "x") }, maxLen, true},
		// A list of strings within the limit ignores an element over it.
		{"list element over", domain.OpContains, []any{"q"}, func(n int) any { return []any{pad(n, "q"), "x"} }, max, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := domain.Condition{Attribute: "a", Operator: tt.op, Values: tt.values}
			if got := matches(t, c, attrs("a", tt.input(tt.limit))); got != tt.want {
				t.Errorf("at the limit: got %v, want %v", got, tt.want)
			}
			want := tt.op == domain.OpExists
			if got := matches(t, c, attrs("a", tt.input(tt.limit+1))); got != want {
				t.Errorf("over the limit: got %v, want %v", got, want)
			}
		})
	}
}

func TestBudgetStopsHostileSnapshot(t *testing.T) {
	const n, input = 10, 512
	var fcs []domain.FlagConfig
	for i := range n {
		fcs = append(fcs, ruleFlag(fmt.Sprintf("h%02d", i), matchesCond(hostile(t, domain.MaxRegexInstructions, i))))
	}
	perFlag := int64(costFlag + costCondition + costResolve + costRegexCall + input*domain.MaxRegexInstructions*costRegexInstByte)
	s := compile(t, fcs...).WithBudget(3*perFlag + perFlag/2)
	ctx := &Context{Key: "u", Attributes: map[string]any{"s": strings.Repeat("a", input)}}
	for i, r := range s.EvaluateAll(ctx) {
		want := Result{Key: fmt.Sprintf("h%02d", i), Value: false, Variant: "off", Reason: ReasonDefault}
		if i >= 3 {
			want = Result{Key: want.Key, Reason: ReasonError, ErrorCode: ErrGeneral, ErrorMessage: MessageBudget}
		}
		if r != want {
			t.Errorf("%d: got %+v, want %+v", i, r, want)
		}
	}
	// EvaluateKeys evaluates in the snapshot's order, whatever the order of the keys.
	sub := s.EvaluateKeys(ctx, []string{"h09", "h00", "h01", "h02", "h05"})
	for i, want := range []Reason{ReasonError, ReasonDefault, ReasonDefault, ReasonDefault, ReasonError} {
		if sub[i].Reason != want {
			t.Errorf("subset %s: got %+v, want %s", sub[i].Key, sub[i], want)
		}
	}
	// A budget smaller than one flag's work stops it too.
	if r := s.WithBudget(perFlag-1).Evaluate("h00", ctx); r.ErrorMessage != MessageBudget {
		t.Errorf("single: %+v", r)
	}
	if r := s.WithBudget(perFlag).Evaluate("h00", ctx); r.Reason != ReasonDefault {
		t.Errorf("single within the budget: %+v", r)
	}
	if s.WithBudget(0).Budget() != DefaultBudget {
		t.Error("WithBudget(0) must select the default")
	}
	// Prerequisites spend the budget of the flag that needs them.
	top := boolFlag(t, "top", `{"enabled":true,"default":{"variant":"on"},"off_variant":"off","prerequisites":[{"flag":"h00","variant":"off"},{"flag":"h01","variant":"off"}]}`)
	s = compile(t, append(fcs, top)...).WithBudget(perFlag + perFlag/2)
	if r := s.Evaluate("top", ctx); r.ErrorMessage != MessageBudget {
		t.Errorf("prerequisites over the budget: %+v", r)
	}
}

// ordinaryFlag is benchFlag cut to its last three rules: in, not_in, semver, numbers,
// contains, and a rollout.
func ordinaryFlag(key string, n int) domain.FlagConfig {
	fc := benchFlag(key, n)
	fc.Config.Rules = fc.Config.Rules[len(fc.Config.Rules)-3:]
	return fc
}

// units is EvaluateAll, returning the budget it used.
func units(s *Snapshot, ctx *Context) int64 {
	ac := s.bulkCache()
	out := make([]Result, len(s.flags))
	for _, i := range s.order {
		out[i] = s.flags[i].bulk(ctx, &ac, out)
	}
	return s.budget - int64(ac.left)
}

// TestBudgetSparesOrdinarySnapshots checks that bulk evaluation of MaxFlagsPerProject
// flags stays well within DefaultBudget: a tenth of it for ordinary flags, half of it
// for benchFlag's ten rules with a pattern each.
func TestBudgetSparesOrdinarySnapshots(t *testing.T) {
	_, ctx := benchSnapshot(t, 1)
	for _, tt := range []struct {
		name string
		make func(string, int) domain.FlagConfig
		at   int64
	}{
		{"ordinary", ordinaryFlag, DefaultBudget / 10},
		{"bench", benchFlag, DefaultBudget / 2},
	} {
		fcs := make([]domain.FlagConfig, domain.MaxFlagsPerProject)
		for i := range fcs {
			fcs[i] = tt.make(fmt.Sprintf("flag-%05d", i), i)
		}
		s := compile(t, fcs...).WithBudget(tt.at)
		for _, r := range s.EvaluateAll(ctx) {
			if r.Reason == ReasonError {
				t.Fatalf("%s: %+v", tt.name, r)
			}
		}
		t.Logf("%s: %d flags use %d units", tt.name, len(fcs), units(s, ctx))
	}
}

// TestBudgetEdge checks that the budget is the work allowed, not one unit less: an
// evaluation that needs exactly the budget completes, and one unit less stops it.
func TestBudgetEdge(t *testing.T) {
	_, ctx := benchSnapshot(t, 1)
	s := compile(t, ordinaryFlag("a", 1), ordinaryFlag("b", 2), ordinaryFlag("c", 3))
	need := units(s, ctx)
	for _, r := range s.WithBudget(need).EvaluateAll(ctx) {
		if r.Reason == ReasonError {
			t.Fatalf("with exactly the %d units it needs: %+v", need, r)
		}
	}
	all := s.WithBudget(need - 1).EvaluateAll(ctx)
	if last := all[len(all)-1]; last.ErrorMessage != MessageBudget {
		t.Errorf("with %d units, one short: %+v", need-1, last)
	}
}

// TestLargeSetCostsLikeSmall checks that a targeting list is looked up, not scanned:
// testing a context against MaxSetValues values costs about what testing it against
// one costs, in the budget as in time.
func TestLargeSetCostsLikeSmall(t *testing.T) {
	ctx := &Context{Key: "u", Attributes: map[string]any{"a": strings.Repeat("x", 100)}}
	cost := func(n int) int64 {
		return units(compile(t, ruleFlag("f", domain.Condition{Attribute: "a", Operator: domain.OpIn, Values: manyValues(n)})), ctx)
	}
	small, large := cost(1), cost(domain.MaxSetValues)
	if large > 4*small {
		t.Errorf("an in condition of %d values costs %d units, of one value %d", domain.MaxSetValues, large, small)
	}
}

func TestPrerequisiteDepthLimit(t *testing.T) {
	fcs := []domain.FlagConfig{boolFlag(t, "f00", `{"enabled":true,"default":{"variant":"on"},"off_variant":"off"}`)}
	for i := 1; i <= domain.MaxPrerequisiteDepth+2; i++ {
		fcs = append(fcs, boolFlag(t, fmt.Sprintf("f%02d", i),
			fmt.Sprintf(`{"enabled":true,"default":{"variant":"on"},"off_variant":"off","prerequisites":[{"flag":"f%02d","variant":"on"}]}`, i-1)))
	}
	s := Compile(domain.Snapshot{Flags: fcs})
	if p := s.Problems(); len(p) != 2 || !strings.Contains(p[0].Error(), `"f11"`) || !strings.Contains(p[1].Error(), `"f12"`) ||
		!strings.Contains(p[0].Error(), "MaxPrerequisiteDepth") {
		t.Errorf("want f11 and f12 broken: %v", p)
	}
	ctx := &Context{Key: "u"}
	all := s.EvaluateAll(ctx)
	for i, r := range all {
		if i <= domain.MaxPrerequisiteDepth && r.Reason != ReasonDefault || i > domain.MaxPrerequisiteDepth && r.ErrorMessage != MessageBroken {
			t.Errorf("%s: %+v", r.Key, r)
		}
		if single := s.Evaluate(r.Key, ctx); single != r {
			t.Errorf("%s: single %+v, bulk %+v", r.Key, single, r)
		}
	}
}

// chain is n flags, each requiring the one before.
func chain(n int) []domain.FlagConfig {
	fcs := make([]domain.FlagConfig, n)
	for i := range fcs {
		fcs[i] = domain.FlagConfig{Flag: domain.Flag{Key: fmt.Sprintf("c%05d", i), Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
			Config: domain.Config{Enabled: true, OffVariant: "off", Default: domain.Serve{Variant: "on"}}}
		if i > 0 {
			fcs[i].Config.Prerequisites = []domain.Prerequisite{{Flag: fcs[i-1].Flag.Key, Variant: "on"}}
		}
	}
	return fcs
}

// dag is MaxPrerequisiteDepth+1 layers of width flags, each requiring three flags of
// the layer below (3i, 3i+1, 3i+2): a flag some layers up reaches every flag below it.
func dag(width int) []domain.FlagConfig {
	var fcs []domain.FlagConfig
	for layer := range domain.MaxPrerequisiteDepth + 1 {
		for i := range width {
			fc := domain.FlagConfig{Flag: domain.Flag{Key: fmt.Sprintf("d%02d-%05d", layer, i), Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
				Config: domain.Config{Enabled: true, OffVariant: "off", Default: domain.Serve{Variant: "on"}}}
			for k := range 3 {
				if layer > 0 {
					below := (3*i + k) % width
					fc.Config.Prerequisites = append(fc.Config.Prerequisites, domain.Prerequisite{Flag: fmt.Sprintf("d%02d-%05d", layer-1, below), Variant: "on"})
				}
			}
			fcs = append(fcs, fc)
		}
	}
	return fcs
}

func compileAlloc(fcs []domain.FlagConfig) uint64 {
	before := totalAlloc()
	Compile(domain.Snapshot{Flags: fcs})
	return totalAlloc() - before
}

// TestCompileIsLinear checks that compiling twice the prerequisites allocates about
// twice the memory; planning each flag's transitive prerequisites made it four times.
func TestCompileIsLinear(t *testing.T) {
	for _, tt := range []struct {
		name       string
		small, big []domain.FlagConfig
	}{
		{"chain", chain(2000), chain(4000)},
		{"dag", dag(300), dag(600)},
	} {
		small, big := compileAlloc(tt.small), compileAlloc(tt.big)
		if ratio := float64(big) / float64(small); ratio > 2.6 {
			t.Errorf("%s: twice the flags allocate %.1f times the memory (%d → %d bytes)", tt.name, ratio, small, big)
		}
	}
	// The DAG's flags are all within the depth limit, and evaluate alike either way.
	s := compile(t, dag(50)...)
	ctx := &Context{Key: "u"}
	for i, r := range s.EvaluateAll(ctx) {
		if r.Reason != ReasonDefault || s.Evaluate(r.Key, ctx) != r {
			t.Fatalf("%d: %+v", i, r)
		}
	}
}

func BenchmarkCompileChain(b *testing.B) {
	for _, n := range []int{1000, 2000, 4000} {
		fcs := chain(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Compile(domain.Snapshot{Flags: fcs})
			}
		})
	}
}

func BenchmarkCompileDAG(b *testing.B) {
	for _, width := range []int{250, 500, 1000} {
		fcs := dag(width)
		b.Run(fmt.Sprint(len(fcs)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Compile(domain.Snapshot{Flags: fcs})
			}
		})
	}
}

// BenchmarkBudget measures what evaluations spend of the budget, in units per
// evaluation and nanoseconds per unit: for ordinary flags, and for the inputs that make
// each kind of work slowest. A unit must stay about a nanosecond or less of that work
// for the budget to bound CPU time.
func BenchmarkBudget(b *testing.B) {
	_, ordinaryCtx := benchSnapshot(b, 1)
	long := strings.Repeat("a", domain.MaxInputBytes)
	numbers := make([]any, domain.MaxInputListLen)
	path := strings.Repeat("a.", 120) // as deep as MaxAttributeLen allows
	deep := map[string]any{}
	for m, i := deep, 0; i < 120; i++ {
		next := map[string]any{}
		m["a"], m = next, next
	}
	for i := range numbers {
		numbers[i] = float64(i)*1000.123 + 7
	}
	hostileCtx := &Context{Key: "u", Attributes: map[string]any{"s": long, "n": numbers, "a": deep["a"], "z": "z"}}
	// rules makes a flag of MaxRules rules of one condition each, all tried.
	rules := func(cond func(i int) domain.Condition) []domain.FlagConfig {
		fc := ruleFlag("f")
		fc.Config.Rules = nil
		for i := range domain.MaxRules {
			fc.Config.Rules = append(fc.Config.Rules, domain.Rule{ID: fmt.Sprintf("r%d", i),
				Conditions: []domain.Condition{cond(i)}, Serve: domain.Serve{Variant: "on"}})
		}
		return []domain.FlagConfig{fc}
	}
	for _, bb := range []struct {
		name   string
		fcs    []domain.FlagConfig
		ctx    *Context
		single string // the flag to evaluate alone, or "" for EvaluateAll
	}{
		{"ordinary-10000", func() []domain.FlagConfig {
			fcs := make([]domain.FlagConfig, domain.MaxFlagsPerProject)
			for i := range fcs {
				fcs[i] = ordinaryFlag(fmt.Sprintf("flag-%05d", i), i)
			}
			return fcs
		}(), ordinaryCtx, ""},
		{"patterns", func() []domain.FlagConfig {
			var fcs []domain.FlagConfig
			for i := range 4 {
				fcs = append(fcs, ruleFlag(fmt.Sprintf("h%d", i), matchesCond(hostile(b, domain.MaxRegexInstructions, i))))
			}
			return fcs
		}(), hostileCtx, ""},
		{"small-patterns", rules(func(i int) domain.Condition {
			return domain.Condition{Attribute: "z", Operator: domain.OpMatches, Values: []any{fmt.Sprintf("(?:a|b%d)*c", i)}}
		}), hostileCtx, ""},
		{"contains", rules(func(i int) domain.Condition {
			var vs []any
			for k := range domain.MaxStringValues {
				vs = append(vs, strings.Repeat("a", 62)+fmt.Sprintf("%02d%d", k, i))
			}
			return domain.Condition{Attribute: "s", Operator: domain.OpContains, Values: vs}
		}), hostileCtx, ""},
		{"number-lists", rules(func(i int) domain.Condition {
			return domain.Condition{Attribute: "n", Operator: domain.OpIn, Values: []any{-float64(i)}}
		}), hostileCtx, ""},
		{"deep-paths", rules(func(i int) domain.Condition {
			return domain.Condition{Attribute: fmt.Sprintf("%sx%d", path, i), Operator: domain.OpExists}
		}), hostileCtx, ""},
		{"prerequisites-single", dag(1000), &Context{Key: "u"}, fmt.Sprintf("d%02d-%05d", domain.MaxPrerequisiteDepth, 0)},
	} {
		s := compile(b, bb.fcs...).WithBudget(math.MaxInt64)
		b.Run(bb.name, func(b *testing.B) {
			var u int64
			for b.Loop() {
				if bb.single == "" {
					u = units(s, bb.ctx)
					continue
				}
				var cache [localCache]value
				var m memo
				left := budget(s.budget)
				s.single(s.index[bb.single], bb.ctx, &m, &cache, &left)
				u = s.budget - int64(left)
			}
			b.ReportMetric(float64(u), "units/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(u), "ns/unit")
		})
	}
}
