package eval

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

// boolFlag returns a boolean flag and its config decoded from the wire JSON shape.
func boolFlag(t testing.TB, key, config string) domain.FlagConfig {
	t.Helper()
	fc := domain.FlagConfig{Flag: domain.Flag{Key: key, Kind: domain.KindBoolean, Variants: domain.BooleanVariants()}}
	if err := json.Unmarshal([]byte(config), &fc.Config); err != nil {
		t.Fatalf("config of %s: %v", key, err)
	}
	return fc
}

func compile(t testing.TB, fcs ...domain.FlagConfig) *Snapshot {
	t.Helper()
	s := Compile(domain.Snapshot{EnvironmentKey: "production", Version: 7, Flags: fcs})
	if p := s.Problems(); len(p) > 0 {
		t.Fatalf("compile: %v", p)
	}
	return s
}

const staffRule = `{"id":"staff","conditions":[{"attribute":"email","operator":"ends_with","values":["@acme.com"]}],"serve":{"variant":"on"}}`

func TestEvaluationOrder(t *testing.T) {
	staff := Context{Key: "u1", Attributes: map[string]any{"email": "a@acme.com"}}
	other := Context{Key: "u2", Attributes: map[string]any{"email": "b@example.com"}}
	tests := []struct {
		name   string
		fc     domain.FlagConfig
		ctx    Context
		want   Result
		killed bool
	}{
		{
			name: "targeting match",
			fc:   boolFlag(t, "f", `{"enabled":true,"rules":[`+staffRule+`],"default":{"variant":"off"},"off_variant":"off"}`),
			ctx:  staff,
			want: Result{Key: "f", Value: true, Variant: "on", Reason: ReasonTargetingMatch, RuleID: "staff"},
		},
		{
			name: "default when no rule matches",
			fc:   boolFlag(t, "f", `{"enabled":true,"rules":[`+staffRule+`],"default":{"variant":"off"},"off_variant":"off"}`),
			ctx:  other,
			want: Result{Key: "f", Value: false, Variant: "off", Reason: ReasonDefault},
		},
		{
			name: "disabled serves the off variant before rules",
			fc:   boolFlag(t, "f", `{"enabled":false,"rules":[`+staffRule+`],"default":{"variant":"on"},"off_variant":"off"}`),
			ctx:  staff,
			want: Result{Key: "f", Value: false, Variant: "off", Reason: ReasonDisabled},
		},
		{
			name:   "kill switch wins over an enabled config",
			fc:     boolFlag(t, "f", `{"enabled":true,"rules":[`+staffRule+`],"default":{"variant":"on"},"off_variant":"off"}`),
			ctx:    staff,
			killed: true,
			want:   Result{Key: "f", Value: false, Variant: "off", Reason: ReasonDisabled},
		},
		{
			name: "first matching rule wins",
			fc: boolFlag(t, "f", `{"enabled":true,"rules":[
				{"id":"nobody","conditions":[{"attribute":"email","operator":"eq","values":["x"]}],"serve":{"variant":"on"}},
				{"id":"first","conditions":[{"attribute":"email","operator":"exists"}],"serve":{"variant":"off"}},
				`+staffRule+`],"default":{"variant":"on"},"off_variant":"off"}`),
			ctx:  staff,
			want: Result{Key: "f", Value: false, Variant: "off", Reason: ReasonTargetingMatch, RuleID: "first"},
		},
		{
			name: "rule without conditions matches everyone",
			fc:   boolFlag(t, "f", `{"enabled":true,"rules":[{"id":"all","conditions":[],"serve":{"variant":"on"}}],"default":{"variant":"off"},"off_variant":"off"}`),
			ctx:  Context{},
			want: Result{Key: "f", Value: true, Variant: "on", Reason: ReasonTargetingMatch, RuleID: "all"},
		},
		{
			name: "default rollout is a split",
			fc:   boolFlag(t, "f", `{"enabled":true,"default":{"rollout":{"weights":{"on":100,"off":0}}},"off_variant":"off"}`),
			ctx:  other,
			want: Result{Key: "f", Value: true, Variant: "on", Reason: ReasonSplit},
		},
		{
			name: "rule rollout is a targeting match",
			fc: boolFlag(t, "f", `{"enabled":true,"rules":[{"id":"r","conditions":[],"serve":{"rollout":{"weights":{"on":0,"off":100}}}}],
				"default":{"variant":"on"},"off_variant":"off"}`),
			ctx:  other,
			want: Result{Key: "f", Value: false, Variant: "off", Reason: ReasonTargetingMatch, RuleID: "r"},
		},
		{
			name: "rollout without a targeting key",
			fc:   boolFlag(t, "f", `{"enabled":true,"default":{"rollout":{"weights":{"on":50,"off":50}}},"off_variant":"off"}`),
			ctx:  Context{Attributes: map[string]any{"email": "x"}},
			want: Result{Key: "f", Value: false, Variant: "off", Reason: ReasonError, ErrorCode: ErrTargetingKeyMissing},
		},
		{
			name: "fixed variant needs no targeting key",
			fc:   boolFlag(t, "f", `{"enabled":true,"default":{"variant":"on"},"off_variant":"off"}`),
			ctx:  Context{},
			want: Result{Key: "f", Value: true, Variant: "on", Reason: ReasonDefault},
		},
		{
			name: "rollout bucketed by a missing attribute",
			fc:   boolFlag(t, "f", `{"enabled":true,"default":{"rollout":{"weights":{"on":50,"off":50},"bucket_by":"company.id"}},"off_variant":"off"}`),
			ctx:  staff,
			want: Result{Key: "f", Value: false, Variant: "off", Reason: ReasonError, ErrorCode: ErrTargetingKeyMissing},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fc.Flag.Killed = tt.killed
			s := compile(t, tt.fc)
			if got := s.Evaluate("f", &tt.ctx); got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	archived := boolFlag(t, "old", `{"enabled":true,"default":{"variant":"on"},"off_variant":"off"}`)
	archived.Flag.Archived = true
	s := compile(t, archived)
	for _, key := range []string{"missing", "old"} {
		got := s.Evaluate(key, &Context{Key: "u"})
		want := Result{Key: key, Reason: ReasonError, ErrorCode: ErrFlagNotFound}
		if got != want {
			t.Errorf("%s: got %+v, want %+v", key, got, want)
		}
	}
}

func TestVariantFlags(t *testing.T) {
	color := domain.FlagConfig{
		Flag: domain.Flag{Key: "button-color", Kind: domain.KindString, Variants: []domain.Variant{
			{Key: "red", Value: "red"}, {Key: "blue", Value: "blue"}, {Key: "green", Value: "green"}}},
		Config: domain.Config{Enabled: true, OffVariant: "red",
			Rules: []domain.Rule{{ID: "eu", Conditions: []domain.Condition{
				{Attribute: "country", Operator: domain.OpIn, Values: []any{"NL", "DE"}}},
				Serve: domain.Serve{Variant: "green"}}},
			Default: domain.Serve{Variant: "blue"}},
	}
	limits := domain.FlagConfig{
		Flag: domain.Flag{Key: "limits", Kind: domain.KindJSON, Variants: []domain.Variant{
			{Key: "small", Value: map[string]any{"max": 10.0}}, {Key: "large", Value: map[string]any{"max": 1000.0}}}},
		Config: domain.Config{Enabled: true, OffVariant: "small", Default: domain.Serve{Variant: "large"}},
	}
	s := compile(t, color, limits)
	if r := s.Evaluate("button-color", &Context{Key: "u", Attributes: map[string]any{"country": "NL"}}); r.Value != "green" || r.RuleID != "eu" {
		t.Errorf("got %+v", r)
	}
	if r := s.Evaluate("button-color", &Context{Key: "u"}); r.Value != "blue" || r.Reason != ReasonDefault {
		t.Errorf("got %+v", r)
	}
	r := s.Evaluate("limits", &Context{Key: "u"})
	if m, ok := r.Value.(map[string]any); !ok || m["max"] != 1000.0 {
		t.Errorf("got %+v", r)
	}
}

func TestPrerequisites(t *testing.T) {
	on := `{"enabled":true,"default":{"variant":"on"},"off_variant":"off"}`
	withPrereq := func(key, prereqs string) domain.FlagConfig {
		return boolFlag(t, key, `{"enabled":true,"default":{"variant":"on"},"off_variant":"off","prerequisites":`+prereqs+`}`)
	}
	t.Run("chain met", func(t *testing.T) {
		s := compile(t, boolFlag(t, "a", on), withPrereq("b", `[{"flag":"a","variant":"on"}]`), withPrereq("c", `[{"flag":"b","variant":"on"}]`))
		if r := s.Evaluate("c", &Context{Key: "u"}); r.Reason != ReasonDefault || r.Value != true {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("chain broken at the root", func(t *testing.T) {
		s := compile(t,
			boolFlag(t, "a", `{"enabled":false,"default":{"variant":"on"},"off_variant":"off"}`),
			withPrereq("b", `[{"flag":"a","variant":"off"}]`), withPrereq("c", `[{"flag":"b","variant":"on"}]`))
		// a is off: even though it serves "off", a disabled prerequisite is not met.
		for _, k := range []string{"b", "c"} {
			want := Result{Key: k, Value: false, Variant: "off", Reason: ReasonPrerequisiteFailed}
			if r := s.Evaluate(k, &Context{Key: "u"}); r != want {
				t.Errorf("%s: got %+v, want %+v", k, r, want)
			}
		}
	})
	t.Run("a prerequisite that failed its own is not met, whatever it serves", func(t *testing.T) {
		// b fails (a is off) and serves its off variant; c requires exactly that variant.
		s := compile(t,
			boolFlag(t, "a", `{"enabled":false,"default":{"variant":"on"},"off_variant":"off"}`),
			withPrereq("b", `[{"flag":"a","variant":"on"}]`), withPrereq("c", `[{"flag":"b","variant":"off"}]`))
		want := Result{Key: "c", Value: false, Variant: "off", Reason: ReasonPrerequisiteFailed}
		if r := s.Evaluate("c", &Context{Key: "u"}); r != want {
			t.Errorf("single: got %+v, want %+v", r, want)
		}
		if r := s.EvaluateAll(&Context{Key: "u"})[2]; r != want {
			t.Errorf("bulk: got %+v, want %+v", r, want)
		}
	})
	t.Run("wrong variant", func(t *testing.T) {
		s := compile(t, boolFlag(t, "a", on), withPrereq("b", `[{"flag":"a","variant":"off"}]`))
		if r := s.Evaluate("b", &Context{Key: "u"}); r.Reason != ReasonPrerequisiteFailed {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("prerequisite depends on targeting", func(t *testing.T) {
		s := compile(t,
			boolFlag(t, "a", `{"enabled":true,"rules":[`+staffRule+`],"default":{"variant":"off"},"off_variant":"off"}`),
			withPrereq("b", `[{"flag":"a","variant":"on"}]`))
		staff := Context{Key: "u", Attributes: map[string]any{"email": "x@acme.com"}}
		if r := s.Evaluate("b", &staff); r.Reason != ReasonDefault {
			t.Errorf("staff: got %+v", r)
		}
		if r := s.Evaluate("b", &Context{Key: "u"}); r.Reason != ReasonPrerequisiteFailed {
			t.Errorf("other: got %+v", r)
		}
	})
	t.Run("unknown or archived prerequisite fails", func(t *testing.T) {
		old := boolFlag(t, "old", on)
		old.Flag.Archived = true
		s := compile(t, old, withPrereq("b", `[{"flag":"old","variant":"on"}]`), withPrereq("c", `[{"flag":"ghost","variant":"on"}]`))
		for _, k := range []string{"b", "c"} {
			if r := s.Evaluate(k, &Context{Key: "u"}); r.Reason != ReasonPrerequisiteFailed {
				t.Errorf("%s: got %+v", k, r)
			}
		}
	})
	t.Run("disabled flag does not look at prerequisites", func(t *testing.T) {
		s := compile(t, boolFlag(t, "b", `{"enabled":false,"default":{"variant":"on"},"off_variant":"off","prerequisites":[{"flag":"ghost","variant":"on"}]}`))
		if r := s.Evaluate("b", &Context{Key: "u"}); r.Reason != ReasonDisabled {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("cycle in stored data answers an error, never loops", func(t *testing.T) {
		s := Compile(domain.Snapshot{Flags: []domain.FlagConfig{
			withPrereq("a", `[{"flag":"c","variant":"on"}]`),
			withPrereq("b", `[{"flag":"a","variant":"on"}]`),
			withPrereq("c", `[{"flag":"b","variant":"on"}]`),
			withPrereq("d", `[{"flag":"c","variant":"on"}]`),
		}})
		if len(s.Problems()) == 0 {
			t.Error("expected problems for the cycle")
		}
		for _, k := range []string{"a", "b", "c"} {
			if r := s.Evaluate(k, &Context{Key: "u"}); r.ErrorCode != ErrGeneral {
				t.Errorf("%s: got %+v", k, r)
			}
		}
		if r := s.Evaluate("d", &Context{Key: "u"}); r.Reason != ReasonPrerequisiteFailed {
			t.Errorf("d: got %+v", r)
		}
		if all := s.EvaluateAll(&Context{Key: "u"}); len(all) != 4 {
			t.Errorf("bulk: %d results", len(all))
		}
	})
	t.Run("more prerequisites than the stack memo holds", func(t *testing.T) {
		// top requires 40 flags, each of which requires base: 41 results to remember.
		fcs := []domain.FlagConfig{boolFlag(t, "base", on)}
		var top []string
		for i := range 40 {
			k := fmt.Sprintf("f%02d", i)
			fcs = append(fcs, withPrereq(k, `[{"flag":"base","variant":"on"}]`))
			top = append(top, fmt.Sprintf(`{"flag":%q,"variant":"on"}`, k))
		}
		fcs = append(fcs, withPrereq("top", "["+strings.Join(top, ",")+"]"))
		s := compile(t, fcs...)
		if r := s.Evaluate("top", &Context{Key: "u"}); r.Reason != ReasonDefault {
			t.Errorf("got %+v", r)
		}
		fcs[0] = boolFlag(t, "base", `{"enabled":false,"default":{"variant":"on"},"off_variant":"off"}`)
		s = compile(t, fcs...)
		if r := s.Evaluate("top", &Context{Key: "u"}); r.Reason != ReasonPrerequisiteFailed {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("remembered results are read back after the memo spills", func(t *testing.T) {
		// base serves off and every fNN serves on, so reading base's remembered result
		// from any other slot of the table gives the wrong answer.
		fcs := []domain.FlagConfig{boolFlag(t, "base", `{"enabled":true,"default":{"variant":"off"},"off_variant":"off"}`)}
		var top []string
		for i := range 40 {
			k := fmt.Sprintf("f%02d", i)
			fcs = append(fcs, withPrereq(k, `[{"flag":"base","variant":"off"}]`))
			top = append(top, fmt.Sprintf(`{"flag":%q,"variant":"on"}`, k))
		}
		fcs = append(fcs, withPrereq("top", "["+strings.Join(top, ",")+"]"))
		s := compile(t, fcs...)
		if r := s.Evaluate("top", &Context{Key: "u"}); r.Reason != ReasonDefault || r.Value != true {
			t.Errorf("got %+v", r)
		}
	})
}

// TestBulkMatchesSingle checks that every way of evaluating agrees, on a diamond of
// prerequisites mixed with independent flags.
func TestBulkMatchesSingle(t *testing.T) {
	s := compile(t,
		boolFlag(t, "root", `{"enabled":true,"default":{"rollout":{"weights":{"on":50,"off":50}}},"off_variant":"off"}`),
		boolFlag(t, "left", `{"enabled":true,"default":{"variant":"on"},"off_variant":"off","prerequisites":[{"flag":"root","variant":"on"}]}`),
		boolFlag(t, "right", `{"enabled":true,"rules":[`+staffRule+`],"default":{"variant":"off"},"off_variant":"off","prerequisites":[{"flag":"root","variant":"on"}]}`),
		boolFlag(t, "top", `{"enabled":true,"default":{"variant":"on"},"off_variant":"off","prerequisites":[{"flag":"left","variant":"on"},{"flag":"right","variant":"off"}]}`),
		boolFlag(t, "solo", `{"enabled":false,"default":{"variant":"on"},"off_variant":"off"}`),
	)
	for i := range 200 {
		ctx := Context{Key: fmt.Sprintf("user-%d", i), Attributes: map[string]any{"email": fmt.Sprintf("u%d@%s", i, []string{"acme.com", "example.com"}[i%2])}}
		all := s.EvaluateAll(&ctx)
		keys := s.Keys()
		sub := s.EvaluateKeys(&ctx, []string{"top", "nope", "left"})
		for j, k := range keys {
			if single := s.Evaluate(k, &ctx); single != all[j] {
				t.Fatalf("%s for %s: single %+v, bulk %+v", k, ctx.Key, single, all[j])
			}
		}
		if sub[0] != s.Evaluate("top", &ctx) || sub[2] != s.Evaluate("left", &ctx) || sub[1].ErrorCode != ErrFlagNotFound {
			t.Fatalf("subset disagrees: %+v", sub)
		}
	}
}

func TestBrokenFlagIsIsolated(t *testing.T) {
	bad := boolFlag(t, "bad", `{"enabled":true,"rules":[{"id":"r","conditions":[{"attribute":"a","operator":"matches","values":["("]}],"serve":{"variant":"on"}}],"default":{"variant":"on"},"off_variant":"off"}`)
	good := boolFlag(t, "good", `{"enabled":true,"default":{"variant":"on"},"off_variant":"off"}`)
	s := Compile(domain.Snapshot{Flags: []domain.FlagConfig{bad, good}})
	if len(s.Problems()) != 1 {
		t.Fatalf("problems: %v", s.Problems())
	}
	if r := s.Evaluate("bad", &Context{Key: "u"}); r.Reason != ReasonError || r.ErrorCode != ErrGeneral {
		t.Errorf("bad: %+v", r)
	}
	if r := s.Evaluate("good", &Context{Key: "u"}); r.Value != true {
		t.Errorf("good: %+v", r)
	}
}

// allocs is testing.AllocsPerRun's count, the least of three measurements: it counts
// every allocation of the process, so an allocation that another goroutine (the test
// framework's, the runtime's) makes during one measurement must not fail the test. An
// evaluation that allocates does so in every measurement.
func allocs(f func()) float64 {
	least := testing.AllocsPerRun(200, f)
	for range 2 {
		least = min(least, testing.AllocsPerRun(200, f))
	}
	return least
}

func TestSingleEvaluationDoesNotAllocate(t *testing.T) {
	s, ctx := benchSnapshot(t, 1)
	key := s.Keys()[0]
	if n := allocs(func() { s.Evaluate(key, ctx) }); n != 0 {
		t.Errorf("Evaluate allocates %v times per call, want 0", n)
	}
	chain := compile(t,
		boolFlag(t, "a", `{"enabled":true,"default":{"rollout":{"weights":{"on":100}}},"off_variant":"off"}`),
		boolFlag(t, "b", `{"enabled":true,"default":{"variant":"on"},"off_variant":"off","prerequisites":[{"flag":"a","variant":"on"}]}`))
	if n := allocs(func() { chain.Evaluate("b", ctx) }); n != 0 {
		t.Errorf("Evaluate with prerequisites allocates %v times per call, want 0", n)
	}
	// 16 transitive prerequisites, each remembered once: all on the stack.
	fcs := []domain.FlagConfig{boolFlag(t, "p00", `{"enabled":true,"default":{"variant":"on"},"off_variant":"off"}`)}
	var prereqs []string
	for i := 1; i < 16; i++ {
		k := fmt.Sprintf("p%02d", i)
		fcs = append(fcs, boolFlag(t, k, `{"enabled":true,"default":{"variant":"on"},"off_variant":"off","prerequisites":[{"flag":"p00","variant":"on"}]}`))
		prereqs = append(prereqs, fmt.Sprintf(`{"flag":%q,"variant":"on"}`, k))
	}
	fcs = append(fcs, boolFlag(t, "top", `{"enabled":true,"default":{"variant":"on"},"off_variant":"off","prerequisites":[`+strings.Join(prereqs, ",")+`]}`))
	wide := compile(t, fcs...)
	if r := wide.Evaluate("top", ctx); r.Reason != ReasonDefault {
		t.Fatalf("got %+v", r)
	}
	if n := allocs(func() { wide.Evaluate("top", ctx) }); n != 0 {
		t.Errorf("Evaluate with 16 transitive prerequisites allocates %v times per call, want 0", n)
	}
}
