package eval

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

// explainFlags is an environment that uses every operator, positive and negated, on
// scalars, lists and nested paths, with rollouts, prerequisites (met, unmet, unknown,
// archived, shared), and flags that are off, killed and broken.
func explainFlags() []domain.FlagConfig {
	on := domain.Serve{Variant: "on"}
	cond := func(attr string, op domain.Operator, values ...any) domain.Condition {
		return domain.Condition{Attribute: attr, Operator: op, Values: values}
	}
	flag := func(key string, cfg domain.Config) domain.FlagConfig {
		if cfg.OffVariant == "" {
			cfg.OffVariant = "off"
		}
		if cfg.Default.Variant == "" && cfg.Default.Rollout == nil {
			cfg.Default = domain.Serve{Variant: "off"}
		}
		return domain.FlagConfig{Flag: domain.Flag{Key: key, Kind: domain.KindBoolean, Variants: domain.BooleanVariants()}, Config: cfg}
	}
	rules := func(rs ...domain.Rule) domain.Config { return domain.Config{Enabled: true, Rules: rs} }
	rule := func(id string, cs ...domain.Condition) domain.Rule {
		return domain.Rule{ID: id, Conditions: cs, Serve: on}
	}
	var many []any
	for i := range 40 {
		many = append(many, fmt.Sprint("v", i))
	}
	half := &domain.Rollout{Weights: map[string]float64{"on": 50, "off": 50}}
	byCompany := &domain.Rollout{Weights: map[string]float64{"on": 30, "off": 70}, BucketBy: "company.id"}
	fcs := []domain.FlagConfig{}
	// One flag per operator, each with three rules: the operator alone, the operator
	// after an exists, and the operator before a condition that rarely holds.
	for _, op := range domain.Operators {
		var values []any
		attr := "s"
		switch op {
		case domain.OpEq, domain.OpNeq:
			values = []any{"a"}
		case domain.OpIn, domain.OpNotIn:
			values = []any{"a", "b", 3.0, true}
		case domain.OpStartsWith, domain.OpEndsWith, domain.OpContains, domain.OpNotContains:
			values = []any{"a", "@acme.com"}
		case domain.OpMatches:
			values = []any{"^a+b?$"}
		case domain.OpGt, domain.OpGte, domain.OpLt, domain.OpLte:
			values, attr = []any{3.0}, "n"
		case domain.OpSemverEq, domain.OpSemverGt, domain.OpSemverLt:
			values, attr = []any{"1.2.3"}, "ver"
		case domain.OpBefore, domain.OpAfter:
			values, attr = []any{"2025-01-01T00:00:00Z"}, "t"
		}
		fcs = append(fcs, flag("op-"+string(op), rules(
			rule("alone", cond(attr, op, values...)),
			rule("nested", cond("company.plan", domain.OpExists), cond("company.plan", op, values...)),
			rule("list", cond("l", op, values...), cond("s", domain.OpEq, "zzz")),
		)))
	}
	fcs = append(fcs,
		flag("big-set", rules(rule("r", cond("s", domain.OpIn, many...)), rule("k", cond("key", domain.OpNotIn, many...)))),
		flag("split", domain.Config{Enabled: true, Default: domain.Serve{Rollout: half}}),
		flag("rule-split", domain.Config{Enabled: true, Rules: []domain.Rule{{ID: "r", Conditions: []domain.Condition{cond("n", domain.OpGte, 0.0)},
			Serve: domain.Serve{Rollout: byCompany}}}, Default: domain.Serve{Rollout: byCompany}}),
		flag("disabled", domain.Config{Rules: []domain.Rule{rule("all")}}),
		flag("needs-op", domain.Config{Enabled: true, Default: on, Prerequisites: []domain.Prerequisite{{Flag: "op-eq", Variant: "on"}}}),
		flag("needs-both", domain.Config{Enabled: true, Default: on, Prerequisites: []domain.Prerequisite{
			{Flag: "needs-op", Variant: "on"}, {Flag: "op-eq", Variant: "on"}, {Flag: "split", Variant: "on"}}}),
		flag("needs-ghost", domain.Config{Enabled: true, Default: on, Prerequisites: []domain.Prerequisite{{Flag: "ghost", Variant: "on"}}}),
		flag("needs-archived", domain.Config{Enabled: true, Default: on, Prerequisites: []domain.Prerequisite{{Flag: "gone", Variant: "on"}}}),
		flag("needs-off", domain.Config{Enabled: true, Default: on, Prerequisites: []domain.Prerequisite{{Flag: "disabled", Variant: "on"}}}),
		flag("broken", domain.Config{Enabled: true, Default: domain.Serve{Variant: "purple"}}),
	)
	killed := flag("killed", rules(rule("all")))
	killed.Flag.Killed = true
	gone := flag("gone", rules(rule("all")))
	gone.Flag.Archived = true
	return append(fcs, killed, gone)
}

// randomContext draws a context from values of every type the operators see, and some
// they refuse: long strings and lists, nulls, objects, numbers as text.
func randomContext(r *rand.Rand) Context {
	pool := []any{"a", "aab", "b", "x@acme.com", "@acme.com", "1.2.3", "2.0.0", "v1.2", "not-a-version",
		"2024-06-01T00:00:00Z", "2026-01-01T00:00:00Z", "3", "2.5", "", "zzz",
		3.0, 2.0, 10.0, -1.0, 1735689600000.0, true, false, nil,
		map[string]any{"plan": "a"}, strings.Repeat("a", domain.MaxInputBytes+1)}
	pick := func() any {
		switch r.IntN(8) {
		case 0:
			n := r.IntN(4)
			if r.IntN(10) == 0 {
				n = domain.MaxInputListLen + 1
			}
			l := make([]any, n)
			for i := range l {
				l[i] = pool[r.IntN(len(pool))]
			}
			return l
		case 1:
			return []string{"b", "a"}
		}
		return pool[r.IntN(len(pool))]
	}
	attrs := map[string]any{}
	for _, name := range []string{"s", "n", "ver", "t", "l", "company", "company.plan", "email"} {
		if r.IntN(4) > 0 {
			attrs[name] = pick()
		}
	}
	if r.IntN(2) == 0 {
		attrs["company"] = map[string]any{"plan": pick(), "id": pick()}
	}
	key := ""
	if r.IntN(5) > 0 {
		key = fmt.Sprint("user-", r.IntN(1000))
	}
	if r.IntN(20) == 0 {
		key = "v7" // in big-set
	}
	return Context{Key: key, Attributes: attrs}
}

// TestExplainAgreesWithEvaluate: over many random contexts, every operator and every
// path through a flag, Explain answers Evaluate's result, ExplainKeys EvaluateKeys' and
// EvaluateAll's, at the default budget and at budgets that run out part way; and each
// trace tells the result's story: the rules before the one that matched did not
// match, a rule matched exactly when all its conditions held.
func TestExplainAgreesWithEvaluate(t *testing.T) {
	snap := domain.Snapshot{EnvironmentKey: "production", Version: 3, Flags: explainFlags()}
	x := NewExplainer(snap)
	if len(x.Snapshot().Problems()) != 1 {
		t.Fatalf("want one problem (broken): %v", x.Snapshot().Problems())
	}
	r := rand.New(rand.NewPCG(1, 2))
	keys := append(x.Snapshot().Keys(), "ghost", "gone")
	sawHeld, sawNot := map[domain.Operator]bool{}, map[domain.Operator]bool{}
	for _, units := range []int64{0, 200, 700, 2_000, 6_000} {
		xb := x.WithBudget(units)
		s := xb.Snapshot()
		for range 400 {
			ctx := randomContext(r)
			for _, k := range keys {
				want := s.Evaluate(k, &ctx)
				got, tr := xb.Explain(k, &ctx)
				if !sameResult(got, want) {
					t.Fatalf("budget %d, %s, %+v: Explain %+v, Evaluate %+v", units, k, ctx, got, want)
				}
				checkStory(t, k, got, tr)
				if units == 0 {
					for _, rt := range tr.Rules {
						for _, ct := range rt.Conditions {
							if ct.Held {
								sawHeld[ct.Operator] = true
							} else {
								sawNot[ct.Operator] = true
							}
						}
					}
				}
			}
			all, traces := xb.ExplainKeys(&ctx, nil)
			for i, want := range s.EvaluateAll(&ctx) {
				if !sameResult(all[i], want) {
					t.Fatalf("budget %d: ExplainKeys(nil)[%s] %+v, EvaluateAll %+v", units, want.Key, all[i], want)
				}
				checkStory(t, want.Key, all[i], traces[i])
			}
			subset := []string{"needs-both", "ghost", "op-matches", "needs-both", "split"}
			some, _ := xb.ExplainKeys(&ctx, subset)
			for i, want := range s.EvaluateKeys(&ctx, subset) {
				if !sameResult(some[i], want) {
					t.Fatalf("budget %d: ExplainKeys[%s] %+v, EvaluateKeys %+v", units, want.Key, some[i], want)
				}
			}
		}
	}
	for _, op := range domain.Operators {
		if !sawHeld[op] || !sawNot[op] {
			t.Errorf("%s: the random contexts never made it hold (%v) or fail (%v)", op, sawHeld[op], sawNot[op])
		}
	}
}

// checkStory checks that a trace tells how its result came about.
func checkStory(t *testing.T, key string, r Result, tr Trace) {
	t.Helper()
	if tr.Why == "" || tr.Rules == nil {
		t.Fatalf("%s: a trace without why or rules: %+v (%+v)", key, tr, r)
	}
	for i, rt := range tr.Rules {
		all := true
		for _, ct := range rt.Conditions {
			all = all && ct.Held
			if ct.Why == "" {
				t.Fatalf("%s: condition without why: %+v", key, ct)
			}
		}
		if rt.Matched && !all {
			t.Fatalf("%s: rule %s matched though a condition failed: %+v", key, rt.RuleID, rt)
		}
		if !rt.Matched && all && r.ErrorMessage != MessageBudget {
			t.Fatalf("%s: rule %s did not match though every condition held: %+v", key, rt.RuleID, rt)
		}
		last := i == len(tr.Rules)-1
		// The last rule matched when the result came from it; a budget that ran out
		// while it served leaves either.
		fromRule := last && (r.Reason == ReasonTargetingMatch || r.ErrorCode == ErrTargetingKeyMissing && r.RuleID != "")
		if rt.Matched != fromRule && !(last && r.ErrorMessage == MessageBudget) {
			t.Fatalf("%s: rule %d (%s) matched=%v, result %+v", key, i, rt.RuleID, rt.Matched, r)
		}
	}
	if r.Reason == ReasonTargetingMatch && (len(tr.Rules) == 0 || tr.Rules[len(tr.Rules)-1].RuleID != r.RuleID) {
		t.Fatalf("%s: matched %s, trace %+v", key, r.RuleID, tr.Rules)
	}
	if r.Reason == ReasonPrerequisiteFailed && !strings.Contains(tr.Why, "prerequisite") {
		t.Fatalf("%s: %q does not name the prerequisite", key, tr.Why)
	}
}

// TestExplainWhyAgreesWithMatch: what a trace says of a condition (held or not) is
// what the engine's match finds, for every condition of the environment and many
// contexts.
func TestExplainWhyAgreesWithMatch(t *testing.T) {
	x := NewExplainer(domain.Snapshot{Flags: explainFlags()})
	s := x.Snapshot()
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		ctx := randomContext(r)
		w := x.newWalk(&ctx)
		engine := s.bulkCache()
		for i := range s.flags {
			f := &s.flags[i]
			if f.broken != "" {
				continue
			}
			for k := range f.rules {
				for j := range f.rules[k].conds {
					c := &f.rules[k].conds[j]
					src := &x.src[i].Config.Rules[k].Conditions[j]
					want := c.match(&ctx, &engine)
					got, why := w.why(c, src, w.side.get(&ctx, &c.attr))
					if got != want {
						t.Fatalf("%s %s on %+v: match %v, the trace says %v (%q)", src.Attribute, src.Operator, ctx, want, got, why)
					}
				}
			}
		}
	}
}

// TestExplainWhys pins what traces say, condition by condition and flag by flag.
func TestExplainWhys(t *testing.T) {
	cond := func(attr string, op domain.Operator, values ...any) domain.Condition {
		return domain.Condition{Attribute: attr, Operator: op, Values: values}
	}
	long := strings.Repeat("x", domain.MaxInputBytes+1)
	tooMany := make([]any, domain.MaxInputListLen+1)
	for i := range tooMany {
		tooMany[i] = "a"
	}
	tests := []struct {
		name   string
		c      domain.Condition
		attrs  map[string]any
		key    string
		held   bool
		why    string
		actual any
	}{
		{"ends with", cond("email", domain.OpEndsWith, "@example.com", "@acme.com"), map[string]any{"email": "a@acme.com"}, "", true,
			`email ends with "@acme.com"`, "a@acme.com"},
		{"ends with none", cond("email", domain.OpEndsWith, "@acme.com"), map[string]any{"email": "a@b.org"}, "", false,
			`email ends with none of the values`, "a@b.org"},
		{"absent", cond("email", domain.OpEndsWith, "@acme.com"), nil, "", false, "attribute absent", nil},
		{"null is absent", cond("email", domain.OpEndsWith, "@acme.com"), map[string]any{"email": nil}, "", false, "attribute absent", nil},
		{"not a number", cond("age", domain.OpGt, 18.0), map[string]any{"age": "old"}, "", false, "age is not a number", "old"},
		{"number", cond("age", domain.OpGte, 18.0), map[string]any{"age": 18.0}, "", true, "age is at least 18", 18.0},
		{"numeric text", cond("age", domain.OpLt, 18.0), map[string]any{"age": "30"}, "", false, "age is not less than 18", "30"},
		{"string over the limit", cond("s", domain.OpNotContains, "a"), map[string]any{"s": long}, "", false,
			"a string over the input limit (4096 bytes)", long[:maxShownBytes] + "…"},
		{"list over the limit", cond("l", domain.OpIn, "a"), map[string]any{"l": tooMany}, "", false,
			"a list over the input limit (100 elements)", nil},
		{"list element", cond("l", domain.OpIn, "b", "c"), map[string]any{"l": []any{"a", "c"}}, "", true, "l[1] is in the list", []any{"a", "c"}},
		{"negated list", cond("l", domain.OpNotIn, "b", "c"), map[string]any{"l": []any{"a", "c"}}, "", false, "l[1] is in the list", []any{"a", "c"}},
		{"negated list none", cond("l", domain.OpNotContains, "z"), map[string]any{"l": []any{"a", "c"}}, "", true,
			"no element of l contains one of the values", []any{"a", "c"}},
		{"neq", cond("plan", domain.OpNeq, "free"), map[string]any{"plan": "pro"}, "", true, `plan does not equal "free"`, "pro"},
		{"eq object", cond("plan", domain.OpEq, "free"), map[string]any{"plan": map[string]any{}}, "", false,
			"plan is not a string, number or boolean", map[string]any{}},
		{"semver", cond("v", domain.OpSemverGt, "1.2.3"), map[string]any{"v": "1.10.0"}, "", true, `v is a later version than "1.2.3"`, "1.10.0"},
		{"not semver", cond("v", domain.OpSemverLt, "1.2.3"), map[string]any{"v": "one"}, "", false, "v is not a semantic version", "one"},
		{"before millis", cond("t", domain.OpBefore, "2025-01-01T00:00:00Z"), map[string]any{"t": 1.0}, "", true,
			`t is before "2025-01-01T00:00:00Z"`, 1.0},
		{"not a time", cond("t", domain.OpAfter, "2025-01-01T00:00:00Z"), map[string]any{"t": true}, "", false,
			"t is not an RFC 3339 time or Unix milliseconds", true},
		{"matches", cond("s", domain.OpMatches, "^a+$"), map[string]any{"s": "aaa"}, "", true, `s matches "^a+$"`, "aaa"},
		{"exists", cond("s", domain.OpExists), map[string]any{"s": 1.0}, "", true, "attribute present", 1.0},
		{"not_exists", cond("s", domain.OpNotExists), nil, "", true, "attribute absent", nil},
		{"targeting key", cond("key", domain.OpStartsWith, "user-"), nil, "user-7", true, `key starts with "user-"`, "user-7"},
		{"nested", cond("company.plan", domain.OpIn, "pro"), map[string]any{"company": map[string]any{"plan": "pro"}}, "", true,
			"company.plan is in the list", "pro"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := ruleFlag("f", tt.c)
			x := NewExplainer(domain.Snapshot{Flags: []domain.FlagConfig{fc}})
			ctx := Context{Key: tt.key, Attributes: tt.attrs}
			r, tr := x.Explain("f", &ctx)
			if len(tr.Rules) != 1 || len(tr.Rules[0].Conditions) != 1 {
				t.Fatalf("trace %+v", tr)
			}
			ct := tr.Rules[0].Conditions[0]
			if ct.Held != tt.held || ct.Why != tt.why || ct.Attribute != tt.c.Attribute || ct.Operator != tt.c.Operator {
				t.Errorf("got held %v why %q (%s %s), want %v %q", ct.Held, ct.Why, ct.Attribute, ct.Operator, tt.held, tt.why)
			}
			if tt.name != "list over the limit" && !sameJSON(ct.Actual, tt.actual) {
				t.Errorf("actual %v, want %v", ct.Actual, tt.actual)
			}
			if (r.Reason == ReasonTargetingMatch) != tt.held || tr.Rules[0].Matched != tt.held {
				t.Errorf("result %+v, rule matched %v, want held %v", r, tr.Rules[0].Matched, tt.held)
			}
		})
	}
}

func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestExplainFlagWhys: the sentence that sums up each way a flag can answer.
func TestExplainFlagWhys(t *testing.T) {
	x := NewExplainer(domain.Snapshot{Flags: explainFlags()})
	ctx := Context{Key: "user-1", Attributes: map[string]any{"s": "a", "company": map[string]any{"id": 7.0}}}
	tests := []struct{ key, why string }{
		{"killed", "the kill switch is on: the flag is off in every environment"},
		{"disabled", "the flag is disabled in this environment"},
		{"gone", "the flag is archived"},
		{"ghost", "no flag has this key in the environment"},
		{"broken", `the configuration cannot be evaluated: default: variant "purple" is not defined`},
		{"needs-ghost", `prerequisite "ghost" does not exist`},
		{"needs-archived", `prerequisite "gone" is archived`},
		{"needs-off", `prerequisite "disabled" served no variant (DISABLED), not "on"`},
		{"op-eq", `rule "alone" matched: serving "on"`},
		{"op-neq", `no rule matched: serving "off"`},
	}
	for _, tt := range tests {
		if _, tr := x.Explain(tt.key, &ctx); tr.Why != tt.why {
			t.Errorf("%s: why %q, want %q", tt.key, tr.Why, tt.why)
		}
	}
	// A rollout names its bucket, and the attribute it buckets by.
	r, tr := x.Explain("rule-split", &ctx)
	if tr.Rollout == nil || tr.Rollout.BucketBy != "company.id" || tr.Rollout.Bucket == nil ||
		*tr.Rollout.Bucket != Bucket("rule-split", "7") || tr.Rollout.Variant != r.Variant || !strings.Contains(tr.Why, "bucket") {
		t.Errorf("rollout %+v, why %q, result %+v", tr.Rollout, tr.Why, r)
	}
	r, tr = x.Explain("rule-split", &Context{Key: "u", Attributes: map[string]any{"n": 1.0}})
	if r.ErrorCode != ErrTargetingKeyMissing || tr.Rollout == nil || tr.Rollout.Bucket != nil || !strings.Contains(tr.Why, "lacks") {
		t.Errorf("rollout without its attribute: %+v, %+v, %q", r, tr.Rollout, tr.Why)
	}
	// Prerequisites are listed up to the first unmet one, with what each served.
	_, tr = x.Explain("needs-both", &Context{Key: "u", Attributes: map[string]any{"s": "a"}})
	if len(tr.Prerequisites) == 0 || tr.Prerequisites[0] != (PrerequisiteTrace{Flag: "needs-op", Variant: "on", Served: "on", Reason: ReasonDefault, Met: true}) {
		t.Errorf("prerequisites %+v", tr.Prerequisites)
	}
	// A shared prerequisite evaluated once still shows its reason.
	if len(tr.Prerequisites) < 2 || tr.Prerequisites[1] != (PrerequisiteTrace{Flag: "op-eq", Variant: "on", Served: "on", Reason: ReasonTargetingMatch, Met: true}) {
		t.Errorf("shared prerequisite %+v", tr.Prerequisites)
	}
	// Conditions after a rule's first failure are shown, tested.
	_, tr = x.Explain("op-in", &Context{Attributes: map[string]any{"l": []any{"a"}, "s": "zzz"}})
	if len(tr.Rules) != 3 || tr.Rules[2].Matched != true || len(tr.Rules[1].Conditions) != 2 || tr.Rules[1].Conditions[1].Why != "attribute absent" {
		t.Errorf("rules %+v", tr.Rules)
	}
}

// TestExplainBoundsTheTrace: a call whose traces would be large stops tracing at
// MaxTraceBytes, and still answers every flag exactly; condition values and context
// values are shortened.
func TestExplainBoundsTheTrace(t *testing.T) {
	var values []any
	for i := range 100 {
		values = append(values, fmt.Sprintf("%0200d", i))
	}
	var fcs []domain.FlagConfig
	for i := range 60 {
		var conds []domain.Condition
		for range 10 {
			conds = append(conds, domain.Condition{Attribute: "s", Operator: domain.OpNotIn, Values: values})
		}
		fcs = append(fcs, ruleFlag(fmt.Sprintf("f%03d", i), conds...))
	}
	x := NewExplainer(domain.Snapshot{Flags: fcs})
	ctx := Context{Attributes: map[string]any{"s": strings.Repeat("y", 1000)}}
	results, traces := x.ExplainKeys(&ctx, nil)
	want := x.Snapshot().EvaluateAll(&ctx)
	truncated := 0
	for i := range want {
		if !sameResult(results[i], want[i]) {
			t.Fatalf("%s: %+v, want %+v", want[i].Key, results[i], want[i])
		}
		if traces[i].Truncated {
			truncated++
		}
	}
	if truncated == 0 || !traces[len(traces)-1].Truncated || traces[0].Truncated {
		t.Fatalf("%d of %d traces truncated", truncated, len(traces))
	}
	b, err := json.Marshal(traces)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > MaxTraceBytes*11/10 {
		t.Errorf("traces of %d bytes, over %d", len(b), MaxTraceBytes)
	}
	ct := traces[0].Rules[0].Conditions[0]
	if len(ct.Values) != maxShownValues || ct.MoreValues != 100-maxShownValues || ct.Actual != strings.Repeat("y", maxShownBytes)+"…" {
		t.Errorf("condition shown as %d values (+%d), actual %v", len(ct.Values), ct.MoreValues, ct.Actual)
	}
	if traces[len(traces)-1].Why == "" {
		t.Error("a truncated trace still says why")
	}
}

// TestExplainShownValuesAreBounded: a context value shown in a trace keeps at most
// maxShownNodes elements, at every depth.
func TestExplainShownValuesAreBounded(t *testing.T) {
	deep := map[string]any{}
	for i := range 30 {
		inner := make([]any, 30)
		for j := range inner {
			inner[j] = strings.Repeat("z", 1000)
		}
		deep[fmt.Sprint("k", i)] = inner
	}
	var count func(v any) int
	count = func(v any) int {
		switch x := v.(type) {
		case []any:
			n := 0
			for _, e := range x {
				n += 1 + count(e)
			}
			return n
		case map[string]any:
			n := 0
			for _, e := range x {
				n += 1 + count(e)
			}
			return n
		case string:
			if len(x) > maxShownBytes+len("…") {
				t.Errorf("a string of %d bytes shown", len(x))
			}
		}
		return 0
	}
	if n := count(shown(deep)); n > maxShownNodes+2 {
		t.Errorf("%d nodes shown", n)
	}
}

func TestExplainDoesNotChangeEvaluate(t *testing.T) {
	// Explaining leaves the snapshot as it was: evaluation after it is still free of
	// allocations and gives the same results.
	s := compile(t, boolFlag(t, "f", `{"enabled":true,"rules":[`+staffRule+`],"default":{"variant":"off"},"off_variant":"off"}`))
	x := &Explainer{snap: s, src: []domain.FlagConfig{boolFlag(t, "f", `{"enabled":true,"rules":[`+staffRule+`],"default":{"variant":"off"},"off_variant":"off"}`)}}
	ctx := Context{Key: "u", Attributes: map[string]any{"email": "a@acme.com"}}
	before := s.Evaluate("f", &ctx)
	if r, _ := x.Explain("f", &ctx); !sameResult(r, before) {
		t.Fatalf("explain %+v, evaluate %+v", r, before)
	}
	if n := allocs(func() { s.Evaluate("f", &ctx) }); n != 0 {
		t.Errorf("Evaluate allocates %v times", n)
	}
}

// BenchmarkExplain measures explaining the flag of BenchmarkEvaluate: the playground's
// cost, next to the evaluation's.
func BenchmarkExplain(b *testing.B) {
	x := NewExplainer(domain.Snapshot{Flags: []domain.FlagConfig{benchFlag("flag-0000", 0)}})
	_, ctx := benchSnapshot(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		x.Explain("flag-0000", ctx)
	}
}

// BenchmarkExplainAll1000 measures explaining 1,000 such flags in one call.
func BenchmarkExplainAll1000(b *testing.B) {
	fcs := make([]domain.FlagConfig, 1000)
	for i := range fcs {
		fcs[i] = benchFlag(fmt.Sprintf("flag-%04d", i), i)
	}
	x := NewExplainer(domain.Snapshot{Flags: fcs})
	_, ctx := benchSnapshot(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		x.ExplainKeys(ctx, nil)
	}
}

// FuzzExplain feeds arbitrary configurations and contexts to the explaining walk:
// nothing may panic, its results are the evaluation's, single and bulk, and its traces
// tell their results' story.
func FuzzExplain(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add("boolean", []byte(s.config), []byte(s.context))
	}
	f.Fuzz(func(t *testing.T, kind string, config, context []byte) {
		var cfg domain.Config
		if json.Unmarshal(config, &cfg) != nil {
			return
		}
		ctx, ok := decodeContext(context)
		if !ok {
			return
		}
		x := NewExplainer(domain.Snapshot{Flags: fuzzFlags(domain.Kind(kind), cfg)})
		s := x.Snapshot()
		for _, k := range append(s.Keys(), "missing") {
			r, tr := x.Explain(k, &ctx)
			if want := s.Evaluate(k, &ctx); !sameResult(r, want) {
				t.Fatalf("%s: Explain %+v, Evaluate %+v", k, r, want)
			}
			checkStory(t, k, r, tr)
		}
		all, traces := x.ExplainKeys(&ctx, nil)
		for i, want := range s.EvaluateAll(&ctx) {
			if !sameResult(all[i], want) {
				t.Fatalf("%s: ExplainKeys %+v, EvaluateAll %+v", want.Key, all[i], want)
			}
			checkStory(t, want.Key, all[i], traces[i])
			if _, err := json.Marshal(traces[i]); err != nil {
				t.Fatalf("%s: the trace does not encode: %v", want.Key, err)
			}
		}
	})
}
