package eval

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/validate"
)

// fuzzFlags builds the environment a fuzzed config is evaluated in: the config under
// test on flag "f" of the given kind, next to two fixed flags it may name as
// prerequisites.
func fuzzFlags(kind domain.Kind, cfg domain.Config) []domain.FlagConfig {
	f := domain.Flag{Key: "f", Kind: kind}
	switch kind {
	case domain.KindString:
		f.Variants = []domain.Variant{{Key: "on", Value: "on"}, {Key: "off", Value: "off"}, {Key: "red", Value: "red"}}
	case domain.KindNumber:
		f.Variants = []domain.Variant{{Key: "on", Value: 1.0}, {Key: "off", Value: 0.0}}
	default:
		f.Kind = domain.KindBoolean
		f.Normalize()
	}
	base := domain.Config{Enabled: true, OffVariant: "off", Default: domain.Serve{Variant: "on"}}
	dep := base
	dep.Prerequisites = []domain.Prerequisite{{Flag: "base", Variant: "on"}}
	return []domain.FlagConfig{
		{Flag: f, Config: cfg},
		{Flag: domain.Flag{Key: "base", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()}, Config: base},
		{Flag: domain.Flag{Key: "dep", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()}, Config: dep},
	}
}

func decodeContext(data []byte) (Context, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return Context{}, false
	}
	key, _ := m["key"].(string)
	delete(m, "key")
	return Context{Key: key, Attributes: m}, true
}

var fuzzSeeds = []struct{ config, context string }{
	{designConfig, `{"key":"user-42","email":"a@acme.com","plan":"premium","company":{"id":"c-1"}}`},
	{`{"enabled":true,"rules":[{"id":"r","conditions":[{"attribute":"v","operator":"semver_gt","values":["1.2.3"]},{"attribute":"t","operator":"before","values":["2030-01-01T00:00:00Z"]}],"serve":{"variant":"on"}}],"default":{"variant":"off"},"off_variant":"off"}`,
		`{"key":"k","v":"2.0.0","t":1700000000000}`},
	{`{"enabled":true,"rules":[{"id":"r","conditions":[{"attribute":"n","operator":"gte","values":[3]},{"attribute":"s","operator":"matches","values":["^a+$"]},{"attribute":"l","operator":"not_in","values":["x",1,true]}],"serve":{"rollout":{"weights":{"on":33.333,"off":66.667},"bucket_by":"org.id"}}}],"default":{"variant":"on"},"off_variant":"off","prerequisites":[{"flag":"dep","variant":"on"}]}`,
		`{"key":"","n":"4","s":"aaa","l":["y",2],"org":{"id":12}}`},
	{`{"enabled":false,"rules":[],"default":{"variant":"on"},"off_variant":"off"}`, `{}`},
	{`{"enabled":true,"rules":[{"id":"x","conditions":[{"attribute":"a.b.c","operator":"exists"}],"serve":{"variant":"red"}}],"default":{"rollout":{"weights":{"on":100}}},"off_variant":"off"}`,
		`{"key":"u","a":{"b":{"c":null}}}`},
	// Limits: a pattern near MaxRegexInstructions, strings and lists near the input bounds.
	{`{"enabled":true,"rules":[{"id":"x","conditions":[{"attribute":"s","operator":"matches","values":["(?:a?){300}a{390}b"]},{"attribute":"l","operator":"not_contains","values":["b"]}],"serve":{"variant":"on"}}],"default":{"variant":"off"},"off_variant":"off","prerequisites":[{"flag":"dep","variant":"on"}]}`,
		`{"key":"u","s":"` + strings.Repeat("a", 4000) + `","l":["a","` + strings.Repeat("b", 4097) + `"]}`},
}

const designConfig = `{"enabled":true,"rules":[{"id":"staff","conditions":[{"attribute":"email","operator":"ends_with","values":["@acme.com"]}],"serve":{"variant":"on"}},{"id":"premium","conditions":[{"attribute":"plan","operator":"in","values":["premium","enterprise"]}],"serve":{"rollout":{"weights":{"on":50,"off":50},"bucket_by":"company.id"}}}],"default":{"rollout":{"weights":{"on":12.5,"off":87.5}}},"off_variant":"off","prerequisites":[{"flag":"base","variant":"on"}],"version":3}`

// FuzzEvaluate feeds arbitrary configs and contexts to validation, compilation and
// evaluation. Nothing may panic; a config that validation accepts must compile without
// problems; single, bulk and subset evaluation must agree.
func FuzzEvaluate(f *testing.F) {
	for _, s := range fuzzSeeds {
		for _, kind := range []string{"boolean", "string"} {
			f.Add(kind, []byte(s.config), []byte(s.context))
		}
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
		fcs := fuzzFlags(domain.Kind(kind), cfg)
		env := map[string]domain.FlagConfig{}
		for _, fc := range fcs {
			env[fc.Flag.Key] = fc
		}
		valid := validate.Flag(fcs[0].Flag) == nil && validate.Config(fcs[0].Flag, cfg, env) == nil
		snap := Compile(domain.Snapshot{Flags: fcs})
		if valid && len(snap.Problems()) > 0 {
			t.Fatalf("validation accepted a config that does not compile: %v", snap.Problems())
		}
		all := snap.EvaluateAll(&ctx)
		for i, k := range snap.Keys() {
			if single := snap.Evaluate(k, &ctx); !sameResult(single, all[i]) {
				t.Fatalf("%s: single %+v, bulk %+v", k, single, all[i])
			}
		}
		sub := snap.EvaluateKeys(&ctx, []string{"f", "missing"})
		if !sameResult(sub[0], snap.Evaluate("f", &ctx)) || sub[1].ErrorCode != ErrFlagNotFound {
			t.Fatalf("subset disagrees: %+v", sub)
		}
		if valid {
			r := snap.Evaluate("f", &ctx)
			if r.Reason != ReasonError && r.Variant == "" {
				t.Fatalf("a valid flag served no variant: %+v", r)
			}
		}
	})
}

// sameResult compares results whose values may be uncomparable JSON (maps).
func sameResult(a, b Result) bool {
	av, _ := json.Marshal(a.Value)
	bv, _ := json.Marshal(b.Value)
	a.Value, b.Value = nil, nil
	return a == b && bytes.Equal(av, bv)
}

// FuzzValidate feeds arbitrary flag and config JSON to validation: it must not panic,
// and every problem it reports must name a field.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"key":"f","kind":"boolean","variants":[{"key":"on","value":true},{"key":"off","value":false}]}`), []byte(designConfig))
	f.Add([]byte(`{"key":"c","kind":"string","variants":[{"key":"a","value":"a"},{"key":"a","value":1}],"tags":["x","x"]}`),
		[]byte(`{"rules":[{"id":"r","conditions":[{"attribute":"x","operator":"in","values":[{}]}],"serve":{"rollout":{"weights":{"a":1e400}}}}]}`))
	f.Add([]byte(`{"key":"n","kind":"number","variants":[{"key":"a","value":1.5},{"key":"b","value":-2}]}`),
		[]byte(`{"default":{"rollout":{"weights":{"a":0.0005,"b":99.9995}}},"off_variant":"a","prerequisites":[{"flag":"n","variant":"a"}]}`))
	f.Fuzz(func(t *testing.T, flagJSON, configJSON []byte) {
		var fl domain.Flag
		var cfg domain.Config
		if json.Unmarshal(flagJSON, &fl) != nil || json.Unmarshal(configJSON, &cfg) != nil {
			return
		}
		env := map[string]domain.FlagConfig{"base": {Flag: domain.Flag{Key: "base", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()}}}
		for _, err := range []error{validate.Flag(fl), validate.Config(fl, cfg, env)} {
			if err == nil {
				continue
			}
			if domain.ErrorCode(err) != domain.CodeInvalid {
				t.Fatalf("unexpected error code: %v", err)
			}
			for _, fe := range domain.ErrorFields(err) {
				if fe.Field == "" || fe.Message == "" {
					t.Fatalf("problem without field or message: %+v", fe)
				}
			}
		}
	})
}
