package eval

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/switchyard/switchyard/pkg/domain"
)

// shapedFlag is a flag of the shape tools/cmd/bench seeds: an email suffix, a plan and
// a country set, an app version, then a 25/75 rollout; plan names the plan list.
func shapedFlag(key string, plans ...any) domain.FlagConfig {
	cond := func(attr string, op domain.Operator, values ...any) domain.Condition {
		return domain.Condition{Attribute: attr, Operator: op, Values: values}
	}
	return domain.FlagConfig{Flag: domain.Flag{Key: key, Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
		Config: domain.Config{Enabled: true, OffVariant: "off",
			Rules: []domain.Rule{
				{ID: "staff", Conditions: []domain.Condition{cond("email", domain.OpEndsWith, "@example.com")}, Serve: domain.Serve{Variant: "on"}},
				{ID: "eu-pro", Conditions: []domain.Condition{cond("plan", domain.OpIn, plans...), cond("country", domain.OpIn, "DE", "FR", "NL", "SE")},
					Serve: domain.Serve{Variant: "on"}},
				{ID: "old-app", Conditions: []domain.Condition{cond("app_version", domain.OpSemverLt, "2.0.0")}, Serve: domain.Serve{Variant: "off"}},
			},
			Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 25, "off": 75}}}}}
}

// decoded returns s as the evaluator has it: decoded from JSON, every string its own.
func decoded(t testing.TB, s domain.Snapshot) domain.Snapshot {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out domain.Snapshot
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameArray[T any](a, b []T) bool {
	return len(a) > 0 && len(b) > 0 && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// TestCompileInterns: what flags repeat is compiled once and shared (value lists,
// operands, rollouts, variants), what differs is not, and sharing changes no answer.
func TestCompileInterns(t *testing.T) {
	s := decoded(t, domain.Snapshot{Flags: []domain.FlagConfig{
		shapedFlag("a", "pro", "enterprise"), shapedFlag("b", "pro", "enterprise"), shapedFlag("c", "pro", "team"),
	}})
	snap := Compile(s)
	if p := snap.Problems(); len(p) > 0 {
		t.Fatal(p)
	}
	a, b, c := &snap.flags[0], &snap.flags[1], &snap.flags[2]
	plans := func(f *flag) []string { return f.rules[1].conds[0].texts }
	switch {
	case !sameArray(plans(a), plans(b)):
		t.Error("a and b test the same plans, in lists of their own")
	case sameArray(plans(a), plans(c)):
		t.Error("a and c share a plan list, though c's differs")
	case !sameArray(a.rules[1].conds[1].texts, c.rules[1].conds[1].texts):
		t.Error("the country lists are not shared")
	case a.rules[2].conds[0].arg != c.rules[2].conds[0].arg:
		t.Error("the semver operands are not shared")
	case a.def.rollout != c.def.rollout:
		t.Error("the rollouts are not shared")
	case !sameArray(a.variants, c.variants):
		t.Error("the variants are not shared")
	case sameArray(a.rules, b.rules) || sameArray(a.rules[0].conds, b.rules[0].conds):
		t.Error("rules are per flag")
	}
	for _, fc := range s.Flags {
		alone := Compile(domain.Snapshot{Flags: []domain.FlagConfig{fc}})
		for _, attrs := range []map[string]any{
			{"plan": "team", "country": "DE"}, {"plan": "pro", "country": "FR"}, {"email": "x@example.com"},
			{"app_version": "1.9.0"}, {},
		} {
			ctx := &Context{Key: "user-1", Attributes: attrs}
			if got, want := snap.Evaluate(fc.Flag.Key, ctx), alone.Evaluate(fc.Flag.Key, ctx); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s %v: %+v, compiled alone %+v", fc.Flag.Key, attrs, got, want)
			}
		}
	}
}

// TestCompileKeepsNoInput: a compiled snapshot holds no string of its input, so that
// the decoded snapshot (and the buffers it was decoded from) can be collected.
func TestCompileKeepsNoInput(t *testing.T) {
	s := decoded(t, domain.Snapshot{ProjectKey: "p", EnvironmentID: "e", EnvironmentKey: "k", Flags: []domain.FlagConfig{
		shapedFlag("a", "pro"), shapedFlag("b", "pro", 3, true),
	}})
	s.Flags[1].Flag.Salt = "salt-b"
	inputs := map[uintptr]string{}
	note := func(str string) {
		if str != "" {
			inputs[uintptr(unsafe.Pointer(unsafe.StringData(str)))] = str
		}
	}
	note(s.ProjectKey)
	note(s.EnvironmentID)
	note(s.EnvironmentKey)
	for _, fc := range s.Flags {
		note(fc.Flag.Key)
		note(fc.Flag.Salt)
		for _, v := range fc.Flag.Variants {
			note(v.Key)
		}
		for _, r := range fc.Config.Rules {
			note(r.ID)
			for _, c := range r.Conditions {
				note(c.Attribute)
				for _, v := range c.Values {
					if str, ok := v.(string); ok {
						note(str)
					}
				}
			}
		}
	}
	snap := Compile(s)
	check := func(what, str string) {
		if in, ok := inputs[uintptr(unsafe.Pointer(unsafe.StringData(str)))]; ok && str != "" {
			t.Errorf("%s %q is the input's string %q", what, str, in)
		}
	}
	check("project", snap.ProjectKey)
	check("environment", snap.EnvironmentID)
	for _, f := range snap.flags {
		check("key", f.key)
		check("salt", f.salt)
		for _, v := range f.variants {
			check("variant", v.key)
		}
		for _, r := range f.rules {
			check("rule", r.id)
			for _, c := range r.conds {
				check("attribute", c.attr.name)
				for _, x := range c.texts {
					check("value", x)
				}
			}
		}
	}
}

// BenchmarkCompile10k decodes from JSON (as a store gives them) and compiles 10,000
// flags of the bench shape, and reports what the compiled snapshot holds per flag
// (B/flag: the growth of the heap in use after a collection, the input collected).
// BenchmarkColdLoad10k (services/evaluator) times the loads themselves.
func BenchmarkCompile10k(b *testing.B) {
	const n = 10_000
	fcs := make([]domain.FlagConfig, n)
	for i := range fcs {
		fcs[i] = shapedFlag(fmt.Sprintf("flag-%05d", i), "pro", "enterprise")
	}
	src := decoded(b, domain.Snapshot{Flags: fcs})
	inuse := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	var held float64
	b.ReportAllocs()
	for b.Loop() {
		before := inuse()
		s := decoded(b, src) // timed too: b.Loop times the whole iteration
		snap := Compile(s)
		s = domain.Snapshot{}
		after := inuse()
		if snap.Len() != n {
			b.Fatal(snap.Len())
		}
		held = float64(int64(after)-int64(before)) / n
		runtime.KeepAlive(snap)
	}
	b.ReportMetric(held, "B/flag")
}

// TestBuilderOrder: a Builder fed the flags in any order builds the snapshot Compile
// builds (flags by key, the first of a key listed twice, prerequisites resolved,
// problems in key order), and says whether they came sorted.
func TestBuilderOrder(t *testing.T) {
	var fcs []domain.FlagConfig
	for _, k := range []string{"d", "b", "e", "a", "c"} {
		fcs = append(fcs, shapedFlag(k, "pro"))
	}
	fcs[0].Config.Prerequisites = []domain.Prerequisite{{Flag: "a", Variant: "on"}, {Flag: "zz", Variant: "on"}}
	fcs[2].Config.OffVariant = "none" // broken
	dup := shapedFlag("b", "team")
	dup.Config.Enabled = false
	archived := shapedFlag("a", "x")
	archived.Flag.Archived = true
	fcs = append(fcs, dup, archived)
	s := decoded(t, domain.Snapshot{Version: 3, Flags: fcs})
	want := Compile(s)
	for _, sorted := range []bool{false, true} {
		in := slices.Clone(s.Flags)
		if sorted {
			slices.SortStableFunc(in, func(x, y domain.FlagConfig) int { return strings.Compare(x.Flag.Key, y.Flag.Key) })
		}
		b := NewBuilder("", "", "", 3, Sizes{})
		for i := range in {
			b.Add(&in[i])
		}
		if b.Sorted() != sorted {
			t.Errorf("Sorted() = %v, want %v", b.Sorted(), sorted)
		}
		got := b.Snapshot()
		if fmt.Sprint(got.Keys()) != fmt.Sprint(want.Keys()) || fmt.Sprint(got.Problems()) != fmt.Sprint(want.Problems()) {
			t.Errorf("sorted %v: keys %v problems %v, want %v %v", sorted, got.Keys(), got.Problems(), want.Keys(), want.Problems())
		}
		for _, attrs := range []map[string]any{{"plan": "pro", "country": "DE"}, {"plan": "team"}, {}} {
			ctx := &Context{Key: "user-1", Attributes: attrs}
			if g, w := fmt.Sprint(got.EvaluateAll(ctx)), fmt.Sprint(want.EvaluateAll(ctx)); g != w {
				t.Errorf("sorted %v, %v:\n%s\nwant\n%s", sorted, attrs, g, w)
			}
		}
	}
}
