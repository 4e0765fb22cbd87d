package validate

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

func okConfig() domain.Config {
	return domain.Config{Enabled: true, OffVariant: "off", Default: domain.Serve{Variant: "off"},
		Rules: []domain.Rule{}, Prerequisites: []domain.Prerequisite{}}
}

func exists(attr string) domain.Condition {
	return domain.Condition{Attribute: attr, Operator: domain.OpExists}
}

func rules(n int, conds ...domain.Condition) []domain.Rule {
	rs := make([]domain.Rule, n)
	for i := range rs {
		rs[i] = domain.Rule{ID: fmt.Sprintf("r%d", i), Conditions: conds, Serve: domain.Serve{Variant: "on"}}
	}
	return rs
}

func conds(n int, c domain.Condition) []domain.Condition {
	cs := make([]domain.Condition, n)
	for i := range cs {
		cs[i] = c
	}
	return cs
}

func texts(n, width int) []any {
	vs := make([]any, n)
	for i := range vs {
		vs[i] = fmt.Sprintf("%0*d", width, i)
	}
	return vs
}

// TestConfigCountLimits checks each count and size limit of a configuration one over
// it, with a message naming the limit and the numbers, and at it, without.
func TestConfigCountLimits(t *testing.T) {
	flags := map[string]domain.FlagConfig{}
	var prereqs []domain.Prerequisite
	for i := range domain.MaxPrerequisites + 1 {
		k := fmt.Sprintf("p%02d", i)
		flags[k] = domain.FlagConfig{Flag: boolFlag(k), Config: okConfig()}
		prereqs = append(prereqs, domain.Prerequisite{Flag: k, Variant: "on"})
	}
	tests := []struct {
		name    string
		edit    func(c *domain.Config, over bool)
		field   string
		message string
	}{
		{"rules", func(c *domain.Config, over bool) {
			c.Rules = rules(domain.MaxRules + b2i(over))
		}, "rules", "at most 200 rules per configuration (it has 201; the limit is MaxRules)"},
		{"conditions", func(c *domain.Config, over bool) {
			c.Rules = rules(1, conds(domain.MaxConditions+b2i(over), exists("a"))...)
		}, "rules[0].conditions", "at most 50 conditions per rule (it has 51; the limit is MaxConditions)"},
		{"set values", func(c *domain.Config, over bool) {
			c.Rules = rules(1, domain.Condition{Attribute: "a", Operator: domain.OpIn, Values: texts(domain.MaxSetValues+b2i(over), 1)})
		}, "rules[0].conditions[0].values", "in takes at most 10000 values (it has 10001; the limit is MaxSetValues)"},
		{"string values", func(c *domain.Config, over bool) {
			c.Rules = rules(1, domain.Condition{Attribute: "a", Operator: domain.OpContains, Values: texts(domain.MaxStringValues+b2i(over), 1)})
		}, "rules[0].conditions[0].values", "contains takes at most 100 values (it has 101; the limit is MaxStringValues)"},
		{"values in all rules", func(c *domain.Config, over bool) {
			c.Rules = rules(1,
				domain.Condition{Attribute: "a", Operator: domain.OpIn, Values: texts(domain.MaxSetValues, 1)},
				domain.Condition{Attribute: "b", Operator: domain.OpIn, Values: texts(domain.MaxConfigValues-domain.MaxSetValues-1+b2i(over), 1)},
				domain.Condition{Attribute: "c", Operator: domain.OpEq, Values: []any{"x"}})
		}, "rules", "at most 20000 condition values per configuration, all rules together (it has 20001; the limit is MaxConfigValues)"},
		{"prerequisites", func(c *domain.Config, over bool) {
			c.Prerequisites = prereqs[:domain.MaxPrerequisites+b2i(over)]
		}, "prerequisites", "at most 50 prerequisites per configuration (it has 51; the limit is MaxPrerequisites)"},
		{"encoded size", func(c *domain.Config, over bool) {
			// 20,000 values of 23 bytes and their quotes and commas, about 520,000 bytes;
			// then the last value grows to make exactly MaxConfigBytes, or one more.
			vs := texts(domain.MaxSetValues, 23)
			c.Rules = rules(1,
				domain.Condition{Attribute: "a", Operator: domain.OpIn, Values: texts(domain.MaxSetValues, 23)},
				domain.Condition{Attribute: "b", Operator: domain.OpIn, Values: vs})
			grow := domain.MaxConfigBytes - encodedSize(c) + b2i(over)
			vs[len(vs)-1] = vs[len(vs)-1].(string) + strings.Repeat("x", grow)
		}, "rules", "at most 524288 bytes per configuration encoded as JSON (it has 524289; the limit is MaxConfigBytes)"},
		{"pattern text", func(c *domain.Config, over bool) {
			c.Rules = rules(1, domain.Condition{Attribute: "a", Operator: domain.OpMatches,
				Values: []any{"[" + strings.Repeat("a", domain.MaxRegexBytes-2+b2i(over)) + "]"}})
		}, "rules[0].conditions[0].values[0]", "must be at most 1024 bytes (it has 1025; the limit is MaxRegexBytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, over := range []bool{false, true} {
				c := okConfig()
				tt.edit(&c, over)
				err := Config(boolFlag("f"), c, flags)
				var got []string
				for _, fe := range domain.ErrorFields(err) {
					if fe.Field == tt.field {
						got = append(got, fe.Message)
					}
				}
				switch {
				case !over && len(got) > 0:
					t.Errorf("at the limit: %s: %v", tt.field, got)
				case over && (len(got) != 1 || !strings.Contains(got[0], tt.message)):
					t.Errorf("over the limit: %s: %q, want %q in all of %v", tt.field, got, tt.message, fields(err))
				}
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRegexPrograms(t *testing.T) {
	match := func(patterns ...string) domain.Config {
		c := okConfig()
		var cs []domain.Condition
		for _, p := range patterns {
			cs = append(cs, domain.Condition{Attribute: "a", Operator: domain.OpMatches, Values: []any{p}})
		}
		for len(cs) > 0 {
			n := min(len(cs), domain.MaxConditions)
			c.Rules = append(c.Rules, domain.Rule{ID: fmt.Sprintf("r%d", len(c.Rules)), Conditions: cs[:n], Serve: domain.Serve{Variant: "on"}})
			cs = cs[n:]
		}
		return c
	}
	hostile := strings.Repeat("(?:a?){1000}", 80) + "b"
	err := Config(boolFlag("f"), match(`^user-\d+$`, hostile, `a{999}`, `a{998}`), nil)
	wantFields(t, err, map[string]string{
		"rules[0].conditions[1].values[0]": "compiles to about 160003 RE2 instructions, more than 1000 (the limit is MaxRegexInstructions)",
		"rules[0].conditions[2].values[0]": "compiles to 1001 RE2 instructions, more than 1000 (the limit is MaxRegexInstructions)",
	})
	if got := fields(err); len(got) != 2 {
		t.Errorf("only the two large patterns should be reported: %v", got)
	}

	// Distinct patterns of MaxRegexInstructions each, one more than an environment
	// may hold; the same pattern again costs nothing.
	var patterns []string
	for i := range domain.MaxSnapshotRegexInstructions/domain.MaxRegexInstructions + 1 {
		patterns = append(patterns, fmt.Sprintf("b{%d}c{%d}", i+1, domain.MaxRegexInstructions-2-(i+1)))
	}
	err = Config(boolFlag("f"), match(patterns[:len(patterns)-1]...), nil)
	if err != nil {
		t.Fatalf("patterns at the total: %v", fields(err))
	}
	err = Config(boolFlag("f"), match(append(slices.Clone(patterns[:len(patterns)-1]), patterns[0])...), nil)
	if err != nil {
		t.Fatalf("a repeated pattern must count once: %v", fields(err))
	}
	wantFields(t, Config(boolFlag("f"), match(patterns...), nil), map[string]string{
		"rules": "at most 200000 RE2 instructions per environment, all distinct matches patterns together (the limit is MaxSnapshotRegexInstructions)",
	})
}

// chainEnv returns flags named prefix0 … prefixN-1, each requiring the one before.
func chainEnv(env map[string]domain.FlagConfig, prefix string, n int) {
	for i := range n {
		c := okConfig()
		if i > 0 {
			c.Prerequisites = []domain.Prerequisite{{Flag: fmt.Sprintf("%s%d", prefix, i-1), Variant: "on"}}
		}
		k := fmt.Sprintf("%s%d", prefix, i)
		env[k] = domain.FlagConfig{Flag: boolFlag(k), Config: c}
	}
}

func requiring(keys ...string) domain.Config {
	c := okConfig()
	for _, k := range keys {
		c.Prerequisites = append(c.Prerequisites, domain.Prerequisite{Flag: k, Variant: "on"})
	}
	return c
}

func TestPrerequisiteDepth(t *testing.T) {
	const limit = domain.MaxPrerequisiteDepth
	t.Run("down", func(t *testing.T) {
		// down0 … down9: down9 has a chain of 9 below it; f requiring it has 10.
		env := map[string]domain.FlagConfig{}
		chainEnv(env, "down", limit)
		if err := Config(boolFlag("f"), requiring(fmt.Sprintf("down%d", limit-1)), env); err != nil {
			t.Fatalf("a chain at the limit: %v", fields(err))
		}
		// An archived flag is not in a snapshot, so a stored chain ends before it, and
		// the chain stays at the limit; so does one ending at a flag that is gone.
		for _, gone := range []string{"archived", "deleted"} {
			env := maps.Clone(env)
			archived := domain.FlagConfig{Flag: boolFlag("archived"), Config: okConfig()}
			archived.Flag.Archived = true
			env["archived"] = archived
			down0 := env["down0"]
			down0.Config = requiring(gone)
			env["down0"] = down0
			if err := Config(boolFlag("f"), requiring(fmt.Sprintf("down%d", limit-1)), env); err != nil {
				t.Errorf("a chain at the limit, then %s: %v", gone, fields(err))
			}
		}
		chainEnv(env, "down", limit+1)
		wantFields(t, Config(boolFlag("f"), requiring("x", fmt.Sprintf("down%d", limit)), env), map[string]string{
			"prerequisites": "make a prerequisite chain of depth 11, deeper than 10 (the limit is MaxPrerequisiteDepth): f → down10 → down9 → down8 → … (4 more) … → down3 → down2 → down1 → down0",
		})
	})
	t.Run("up", func(t *testing.T) {
		// up1 requires f, up2 requires up1 … up5: f's new prerequisite deepens their chains.
		env := map[string]domain.FlagConfig{"f": {Flag: boolFlag("f"), Config: okConfig()}}
		chainEnv(env, "g", 6) // g5 has a chain of 5 below it
		for i := 1; i <= 5; i++ {
			below := "f"
			if i > 1 {
				below = fmt.Sprintf("up%d", i-1)
			}
			k := fmt.Sprintf("up%d", i)
			env[k] = domain.FlagConfig{Flag: boolFlag(k), Config: requiring(below)}
		}
		if err := Config(boolFlag("f"), requiring("g4"), env); err != nil {
			t.Fatalf("5 above, 5 below: %v", fields(err))
		}
		wantFields(t, Config(boolFlag("f"), requiring("g5"), env), map[string]string{
			"prerequisites": "depth 11, deeper than 10 (the limit is MaxPrerequisiteDepth): up5 → up4 → up3 → up2 → … (4 more) … → g3 → g2 → g1 → g0",
		})
		// Archived dependents are not in a snapshot: their chains do not count.
		up5 := env["up5"]
		up5.Flag.Archived = true
		env["up5"] = up5
		if err := Config(boolFlag("f"), requiring("g5"), env); err != nil {
			t.Errorf("an archived dependent counted: %v", fields(err))
		}
	})
	t.Run("shared prerequisites are walked once", func(t *testing.T) {
		// Each rung requires the two below it: 2^60 paths, 60 flags. A walk that is not
		// memoised never finishes.
		env := map[string]domain.FlagConfig{"l0": {Flag: boolFlag("l0"), Config: okConfig()}, "l1": {Flag: boolFlag("l1"), Config: requiring("l0")}}
		for i := 2; i < 60; i++ {
			k := fmt.Sprintf("l%d", i)
			env[k] = domain.FlagConfig{Flag: boolFlag(k), Config: requiring(fmt.Sprintf("l%d", i-1), fmt.Sprintf("l%d", i-2))}
		}
		wantFields(t, Config(boolFlag("f"), requiring("l59"), env), map[string]string{"prerequisites": "depth 60"})
	})
	t.Run("a cycle is reported as a cycle", func(t *testing.T) {
		env := map[string]domain.FlagConfig{}
		chainEnv(env, "c", 12)
		c0 := env["c0"]
		c0.Config = requiring("f")
		env["c0"] = c0
		err := Config(boolFlag("f"), requiring("c11"), env)
		wantFields(t, err, map[string]string{"prerequisites[0].flag": "creates a prerequisite cycle"})
		if len(fields(err)) != 1 {
			t.Errorf("only the cycle: %v", fields(err))
		}
	})
}

func TestFlagLimits(t *testing.T) {
	f := domain.Flag{Key: "f", Kind: domain.KindString}
	for i := range domain.MaxVariants + 1 {
		f.Variants = append(f.Variants, domain.Variant{Key: fmt.Sprintf("v%d", i), Value: "x"})
	}
	f.Variants[3].Value = strings.Repeat("x", domain.MaxVariantValueBytes-2) // the quotes make it the limit
	f.Variants[4].Value = strings.Repeat("x", domain.MaxVariantValueBytes-1)
	err := Flag(f)
	wantFields(t, err, map[string]string{
		"variants":          "at most 100 variants per flag (it has 101; the limit is MaxVariants)",
		"variants[4].value": "at most 32768 bytes per variant value encoded as JSON (it has 32769; the limit is MaxVariantValueBytes)",
	})
	if len(fields(err)) != 2 {
		t.Errorf("only the count and variants[4]: %v", fields(err))
	}
	f.Variants = f.Variants[:domain.MaxVariants]
	f.Variants[4].Value = "x"
	if err := Flag(f); err != nil {
		t.Errorf("at the limits: %v", fields(err))
	}
}

func TestSnapshot(t *testing.T) {
	flag := func(key string, c domain.Config) domain.FlagConfig {
		return domain.FlagConfig{Flag: boolFlag(key), Config: c}
	}
	var s domain.Snapshot
	for i := range 100 {
		s.Flags = append(s.Flags, flag(fmt.Sprintf("f%d", i), okConfig()))
	}
	if err := Snapshot(s); err != nil {
		t.Fatalf("a small environment: %v", fields(err))
	}

	t.Run("flags", func(t *testing.T) {
		s := domain.Snapshot{Flags: make([]domain.FlagConfig, domain.MaxFlagsPerProject+1)}
		s.Flags[0].Flag.Archived = true
		if err := Snapshot(s); err != nil {
			t.Errorf("archived flags are not part of a snapshot: %v", fields(err))
		}
		s.Flags[0].Flag.Archived = false
		wantFields(t, Snapshot(s), map[string]string{"flags": "at most 10000 flags per environment (it has 10001; the limit is MaxFlagsPerProject)"})
	})
	t.Run("bytes", func(t *testing.T) {
		// Configurations of 20,000 values of 26 bytes, each just within MaxConfigBytes.
		c := okConfig()
		c.Rules = rules(1,
			domain.Condition{Attribute: "a", Operator: domain.OpIn, Values: texts(domain.MaxSetValues, 23)},
			domain.Condition{Attribute: "b", Operator: domain.OpIn, Values: texts(domain.MaxSetValues, 23)})
		if err := Config(boolFlag("f"), c, nil); err != nil {
			t.Fatal(fields(err))
		}
		s := domain.Snapshot{}
		for i := range domain.MaxSnapshotBytes/(domain.MaxConfigBytes-4096) + 1 {
			s.Flags = append(s.Flags, flag(fmt.Sprintf("f%d", i), c))
		}
		wantFields(t, Snapshot(s), map[string]string{"flags": "bytes per environment, every flag and configuration encoded as JSON (it has 33"})
		// Exactly at the limit, then one byte over: a last flag's rule value fills the gap.
		s.Flags = s.Flags[:len(s.Flags)-2]
		fill := okConfig()
		fill.Rules = rules(1, domain.Condition{Attribute: "a", Operator: domain.OpEq, Values: []any{""}})
		s.Flags = append(s.Flags, flag("fill", fill))
		gap := domain.MaxSnapshotBytes - encodedSize(s)
		for _, over := range []bool{false, true} {
			fill.Rules[0].Conditions[0].Values[0] = strings.Repeat("x", gap+b2i(over))
			err := Snapshot(s)
			switch {
			case !over && err != nil:
				t.Errorf("at MaxSnapshotBytes: %v", fields(err))
			case over:
				wantFields(t, err, map[string]string{"flags": "(it has 33554433; the limit is MaxSnapshotBytes)"})
			}
		}
	})
	t.Run("variant values", func(t *testing.T) {
		s := domain.Snapshot{}
		big := strings.Repeat("x", domain.MaxVariantValueBytes-2)
		for i := 0; len(s.Flags)*2*domain.MaxVariantValueBytes <= domain.MaxSnapshotVariantBytes; i++ {
			f := domain.Flag{Key: fmt.Sprintf("s%d", i), Kind: domain.KindString,
				Variants: []domain.Variant{{Key: "a", Value: big}, {Key: "b", Value: big}}}
			s.Flags = append(s.Flags, domain.FlagConfig{Flag: f, Config: okConfig()})
		}
		wantFields(t, Snapshot(s), map[string]string{"flags": "bytes of variant values per environment, every flag's values encoded as JSON (it has 4259840; the limit is MaxSnapshotVariantBytes)"})
		s.Flags = s.Flags[:len(s.Flags)-1]
		if err := Snapshot(s); err != nil {
			t.Errorf("within MaxSnapshotVariantBytes: %v", fields(err))
		}
	})
	t.Run("patterns", func(t *testing.T) {
		s := domain.Snapshot{}
		for i := range domain.MaxSnapshotRegexInstructions/domain.MaxRegexInstructions + 1 {
			c := okConfig()
			c.Rules = rules(1, domain.Condition{Attribute: "a", Operator: domain.OpMatches,
				Values: []any{fmt.Sprintf("b{%d}c{%d}", i+1, domain.MaxRegexInstructions-2-(i+1))}})
			s.Flags = append(s.Flags, flag(fmt.Sprintf("f%d", i), c))
		}
		wantFields(t, Snapshot(s), map[string]string{"flags": "at most 200000 RE2 instructions per environment"})
		s.Flags = s.Flags[:len(s.Flags)-1]
		if err := Snapshot(s); err != nil {
			t.Errorf("within MaxSnapshotRegexInstructions: %v", fields(err))
		}
		// The same pattern in many flags counts once.
		same := s.Flags[0].Config
		for i := range s.Flags {
			s.Flags[i].Config = same
		}
		for range 1000 {
			s.Flags = append(s.Flags, flag(fmt.Sprintf("g%d", len(s.Flags)), same))
		}
		if err := Snapshot(s); err != nil {
			t.Errorf("one pattern in every flag: %v", fields(err))
		}
		// Text: patterns of 1 KiB that compile to little, over MaxSnapshotRegexBytes.
		s.Flags = nil
		for i := range domain.MaxSnapshotRegexBytes/domain.MaxRegexBytes + 1 {
			c := okConfig()
			c.Rules = rules(1, domain.Condition{Attribute: "a", Operator: domain.OpMatches,
				Values: []any{fmt.Sprintf("[%s]%04d", strings.Repeat("x", domain.MaxRegexBytes-6), i)}})
			s.Flags = append(s.Flags, flag(fmt.Sprintf("f%d", i), c))
		}
		wantFields(t, Snapshot(s), map[string]string{"flags": "at most 262144 bytes of matches patterns per environment"})
	})
}

// TestLongCycleReportedInLinearTime closes a cycle through a stored chain of 5,000
// flags: finding it must not copy the chain at every step (one allocation each).
func TestLongCycleReportedInLinearTime(t *testing.T) {
	env := map[string]domain.FlagConfig{}
	chainEnv(env, "c", 5000)
	c0 := env["c0"]
	c0.Config = requiring("f")
	env["c0"] = c0
	var err error
	allocs := testing.AllocsPerRun(3, func() { err = Config(boolFlag("f"), requiring("c4999"), env) })
	wantFields(t, err, map[string]string{"prerequisites[0].flag": "creates a prerequisite cycle: f → c4999 → c4998"})
	if allocs > 1000 {
		t.Errorf("finding the cycle allocated %.0f times", allocs)
	}
}
