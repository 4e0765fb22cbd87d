package validate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

func boolFlag(key string) domain.Flag {
	return domain.Flag{Key: key, Name: key, Kind: domain.KindBoolean, Variants: domain.BooleanVariants()}
}

func decodeConfig(t *testing.T, s string) domain.Config {
	t.Helper()
	var c domain.Config
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return c
}

// fields returns the field errors of err as "field: message" strings.
func fields(err error) []string {
	var out []string
	for _, f := range domain.ErrorFields(err) {
		out = append(out, f.Field+": "+f.Message)
	}
	return out
}

// wantFields checks that each expected (field, message fragment) pair is reported.
func wantFields(t *testing.T, err error, want map[string]string) {
	t.Helper()
	if domain.ErrorCode(err) != domain.CodeInvalid {
		t.Fatalf("want an invalid error, got %v", err)
	}
	got := fields(err)
	for field, fragment := range want {
		found := false
		for _, g := range got {
			if strings.HasPrefix(g, field+": ") && strings.Contains(g, fragment) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("missing %s (%q) in:\n  %s", field, fragment, strings.Join(got, "\n  "))
		}
	}
}

// The example of DESIGN.md's wire contract.
const designExample = `{
  "enabled": true,
  "rules": [
    {"id": "staff", "conditions": [{"attribute": "email", "operator": "ends_with", "values": ["@acme.com"]}],
     "serve": {"variant": "on"}},
    {"id": "premium", "conditions": [{"attribute": "plan", "operator": "in", "values": ["premium", "enterprise"]}],
     "serve": {"rollout": {"weights": {"on": 50, "off": 50}, "bucket_by": "company.id"}}}
  ],
  "default": {"rollout": {"weights": {"on": 12.5, "off": 87.5}}},
  "off_variant": "off",
  "prerequisites": [{"flag": "new-ui", "variant": "on"}],
  "version": 3
}`

func env(fcs ...domain.FlagConfig) map[string]domain.FlagConfig {
	m := map[string]domain.FlagConfig{}
	for _, fc := range fcs {
		m[fc.Flag.Key] = fc
	}
	return m
}

func TestConfigValid(t *testing.T) {
	c := decodeConfig(t, designExample)
	e := env(domain.FlagConfig{Flag: boolFlag("new-ui")})
	if err := Config(boolFlag("new-checkout"), c, e); err != nil {
		t.Fatalf("design example rejected: %v", fields(err))
	}
}

func TestConfigEveryProblemAtOnce(t *testing.T) {
	c := decodeConfig(t, `{
	  "enabled": true,
	  "rules": [
	    {"id": "r1", "conditions": [
	      {"attribute": "plan", "operator": "like", "values": ["x"]},
	      {"attribute": "age", "operator": "gt", "values": ["eighteen"]},
	      {"attribute": "version", "operator": "semver_gt", "values": ["1.x"]},
	      {"attribute": "signup", "operator": "before", "values": ["yesterday"]},
	      {"attribute": "email", "operator": "matches", "values": ["(unclosed"]},
	      {"attribute": "email", "operator": "exists", "values": ["x"]},
	      {"attribute": "email", "operator": "eq", "values": ["a", "b"]},
	      {"attribute": "country", "operator": "in", "values": []},
	      {"attribute": "tags", "operator": "in", "values": [{"nested": true}]},
	      {"attribute": "a..b", "operator": "exists"},
	      {"attribute": "", "operator": "exists"},
	      {"attribute": "x", "operator": "starts_with", "values": [""]},
	      {"attribute": "x", "operator": ""}
	    ], "serve": {"variant": "maybe"}},
	    {"id": "r1", "conditions": [], "serve": {"variant": "on", "rollout": {"weights": {"on": 100}}}},
	    {"id": "bad id!", "conditions": [], "serve": {}},
	    {"id": "r4", "conditions": [], "serve": {"rollout": {"weights": {"on": 50.0001, "off": 49.9999}}}},
	    {"id": "r5", "conditions": [], "serve": {"rollout": {"weights": {"on": 60, "off": 30, "blue": 10}, "bucket_by": "a b"}}},
	    {"id": "r6", "conditions": [], "serve": {"rollout": {"weights": {"on": 150, "off": -50}}}},
	    {"id": "", "conditions": [], "serve": {"rollout": {"weights": {}}}}
	  ],
	  "default": {"rollout": {"weights": {"on": 12.5, "off": 80}}},
	  "off_variant": "gone",
	  "prerequisites": [
	    {"flag": "new-checkout", "variant": "on"},
	    {"flag": "ghost", "variant": "on"},
	    {"flag": "old", "variant": "on"},
	    {"flag": "color", "variant": "purple"},
	    {"flag": "color", "variant": "red"},
	    {"flag": "", "variant": ""}
	  ]
	}`)
	old := domain.FlagConfig{Flag: boolFlag("old")}
	old.Flag.Archived = true
	color := domain.FlagConfig{Flag: domain.Flag{Key: "color", Kind: domain.KindString,
		Variants: []domain.Variant{{Key: "red", Value: "red"}, {Key: "blue", Value: "blue"}}}}
	err := Config(boolFlag("new-checkout"), c, env(old, color))
	wantFields(t, err, map[string]string{
		"rules[0].conditions[0].operator":  `unknown operator "like"; allowed: eq, neq, in, not_in, starts_with`,
		"rules[0].conditions[1].values[0]": "must be a number",
		"rules[0].conditions[2].values[0]": "must be a semantic version",
		"rules[0].conditions[3].values[0]": "must be an RFC 3339 time",
		"rules[0].conditions[4].values[0]": "does not compile: missing closing )",
		"rules[0].conditions[5].values":    "exists takes no values",
		"rules[0].conditions[6].values":    "eq takes exactly one value",
		"rules[0].conditions[7].values":    "in takes at least 1 value",
		"rules[0].conditions[8].values[0]": "must be a string, number or boolean",
		"rules[0].conditions[9].attribute": "without empty segments",
		// The struct rules and the semantic rules both see an empty attribute.
		"rules[0].conditions[10].attribute":   "is required",
		"rules[0].conditions[11].values[0]":   "must be a non-empty string",
		"rules[0].conditions[12].operator":    "is required",
		"rules[0].serve.variant":              `unknown variant "maybe" (the flag has on, off)`,
		"rules[1].id":                         `duplicate rule id "r1" (also rules[0])`,
		"rules[1].serve":                      "set either variant or rollout, not both",
		"rules[2].id":                         "must be 1-64 letters",
		"rules[2].serve":                      "set variant or rollout",
		"rules[3].serve.rollout.weights.on":   "must have at most three decimals",
		"rules[4].serve.rollout.weights.blue": `unknown variant "blue"`,
		"rules[4].serve.rollout.bucket_by":    "must not contain spaces",
		"rules[5].serve.rollout.weights.on":   "must be between 0 and 100",
		"rules[5].serve.rollout.weights.off":  "must be between 0 and 100",
		"rules[6].id":                         "is required",
		"rules[6].serve.rollout.weights":      "is required",
		"default.rollout.weights":             "must sum to 100 (they sum to 92.5)",
		"off_variant":                         `unknown variant "gone"`,
		"prerequisites[0].flag":               "cannot be its own prerequisite",
		"prerequisites[1].flag":               `unknown flag "ghost"`,
		"prerequisites[2].flag":               `flag "old" is archived`,
		"prerequisites[3].variant":            `unknown variant "purple" of flag "color" (it has red, blue)`,
		"prerequisites[4].flag":               `duplicate prerequisite "color"`,
		"prerequisites[5].flag":               "is required",
		"prerequisites[5].variant":            "is required",
	})
}

func TestConfigLimits(t *testing.T) {
	many := make([]any, domain.MaxSetValues+1)
	for i := range many {
		many[i] = fmt.Sprint(i)
	}
	long := strings.Repeat("a", domain.MaxRegexBytes+1)
	c := domain.Config{
		Enabled: true, OffVariant: "off", Default: domain.Serve{Variant: "off"},
		Rules: []domain.Rule{{ID: "r", Serve: domain.Serve{Variant: "on"}, Conditions: []domain.Condition{
			{Attribute: "a", Operator: domain.OpNotIn, Values: many},
			{Attribute: "a", Operator: domain.OpMatches, Values: []any{long}},
			{Attribute: "a", Operator: domain.OpIn, Values: many[:domain.MaxSetValues]},
			{Attribute: strings.Repeat("x", MaxAttributeLen+1), Operator: domain.OpExists},
			{Attribute: strings.Repeat("x", MaxAttributeLen), Operator: domain.OpExists},
		}}},
	}
	err := Config(boolFlag("f"), c, nil)
	wantFields(t, err, map[string]string{
		"rules[0].conditions[0].values":    "not_in takes at most 10000 values",
		"rules[0].conditions[1].values[0]": "must be at most 1024 bytes",
		"rules[0].conditions[3].attribute": "must be at most 256 characters",
	})
	for _, f := range fields(err) {
		if strings.HasPrefix(f, "rules[0].conditions[2]") {
			t.Errorf("10,000 values must be accepted: %s", f)
		}
		if strings.HasPrefix(f, "rules[0].conditions[4]") {
			t.Errorf("an attribute of %d characters must be accepted: %s", MaxAttributeLen, f)
		}
	}
}

// TestRolloutWeights checks the range of a weight at both ends: 0 and 100 are weights
// (a rollout at 0% or 100%), anything beyond is not.
func TestRolloutWeights(t *testing.T) {
	tests := []struct {
		weights map[string]float64
		want    map[string]string // nil: valid
	}{
		{map[string]float64{"on": 0, "off": 100}, nil},
		{map[string]float64{"on": 100, "off": 0}, nil},
		{map[string]float64{"on": 0.001, "off": 99.999}, nil},
		{map[string]float64{"on": -0.001, "off": 100.001}, map[string]string{
			"default.rollout.weights.on":  "must be between 0 and 100",
			"default.rollout.weights.off": "must be between 0 and 100",
		}},
		{map[string]float64{"on": 50, "off": 49.999}, map[string]string{"default.rollout.weights": "must sum to 100 (they sum to 99.999)"}},
	}
	for _, tt := range tests {
		c := okConfig()
		c.Default = domain.Serve{Rollout: &domain.Rollout{Weights: tt.weights}}
		err := Config(boolFlag("f"), c, nil)
		if tt.want == nil {
			if err != nil {
				t.Errorf("%v refused: %v", tt.weights, fields(err))
			}
			continue
		}
		wantFields(t, err, tt.want)
	}
}

// TestConditionValueCounts checks the message for each wrong number of values: an
// operator that takes one value says so, whether it got none or several.
func TestConditionValueCounts(t *testing.T) {
	tests := []struct {
		op     domain.Operator
		values []any
		want   string // "" when the count is right
	}{
		{domain.OpGt, []any{}, "gt takes exactly one value: a number"},
		{domain.OpGt, []any{1.0, 2.0}, "gt takes exactly one value: a number"},
		{domain.OpGt, []any{1.0}, ""},
		{domain.OpMatches, nil, "matches takes exactly one value: an RE2 regular expression"},
		{domain.OpSemverLt, []any{}, "semver_lt takes exactly one value: a semantic version"},
		{domain.OpIn, []any{}, "in takes at least 1 value(s): each a string, number or boolean"},
		{domain.OpExists, []any{"x"}, "exists takes no values"},
		{domain.OpExists, nil, ""},
	}
	for _, tt := range tests {
		c := okConfig()
		c.Rules = rules(1, domain.Condition{Attribute: "a", Operator: tt.op, Values: tt.values})
		err := Config(boolFlag("f"), c, nil)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s %v refused: %v", tt.op, tt.values, fields(err))
			}
			continue
		}
		got := fields(err)
		if len(got) != 1 || got[0] != "rules[0].conditions[0].values: "+tt.want {
			t.Errorf("%s %v: %q, want only %q", tt.op, tt.values, got, tt.want)
		}
	}
}

func TestPrerequisiteCycles(t *testing.T) {
	with := func(key string, prereqs ...string) domain.FlagConfig {
		fc := domain.FlagConfig{Flag: boolFlag(key), Config: domain.Config{OffVariant: "off", Default: domain.Serve{Variant: "on"}}}
		for _, p := range prereqs {
			fc.Config.Prerequisites = append(fc.Config.Prerequisites, domain.Prerequisite{Flag: p, Variant: "on"})
		}
		return fc
	}
	// b → c → d → a already exist; making a depend on b closes a cycle of depth 4.
	e := env(with("a"), with("b", "c"), with("c", "d"), with("d", "a"), with("x"))
	cfg := with("a", "x", "b").Config
	err := Config(boolFlag("a"), cfg, e)
	wantFields(t, err, map[string]string{
		"prerequisites[1].flag": "creates a prerequisite cycle: a → b → c → d → a",
	})
	if len(fields(err)) != 1 {
		t.Errorf("only the cycle should be reported: %v", fields(err))
	}
	// The same chain without the closing edge is fine.
	e["d"] = with("d")
	if err := Config(boolFlag("a"), cfg, e); err != nil {
		t.Errorf("acyclic chain rejected: %v", fields(err))
	}
	// a's own stored prerequisites are replaced by the new config, not followed.
	e["a"] = with("a", "b")
	if err := Config(boolFlag("a"), with("a", "x").Config, e); err != nil {
		t.Errorf("a's old prerequisites must not count: %v", fields(err))
	}
}

func TestFlag(t *testing.T) {
	tests := []struct {
		name string
		flag domain.Flag
		want map[string]string // nil: valid
	}{
		{"boolean", boolFlag("new-checkout"), nil},
		{"key with slashes", boolFlag("checkout/v2/button"), nil},
		{"string variants", domain.Flag{Key: "color", Kind: domain.KindString, Tags: []string{"team:web", "ui"},
			Variants: []domain.Variant{{Key: "red", Value: "red"}, {Key: "blue", Value: "blue"}}}, nil},
		{"number variants", domain.Flag{Key: "limit", Kind: domain.KindNumber,
			Variants: []domain.Variant{{Key: "low", Value: 10.0}, {Key: "high", Value: 1000.0}}}, nil},
		{"json variants", domain.Flag{Key: "cfg", Kind: domain.KindJSON,
			Variants: []domain.Variant{{Key: "a", Value: map[string]any{"x": 1.0}}, {Key: "b", Value: []any{"y"}}}}, nil},
		{"bad key", domain.Flag{Key: "-bad key", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
			map[string]string{"key": "must be at most 128 letters"}},
		{"key with empty segment", domain.Flag{Key: "a//b", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
			map[string]string{"key": "segment starting with a letter or digit"}},
		{"key with dot segment", domain.Flag{Key: "a/../b", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
			map[string]string{"key": "segment"}},
		{"key of 128 bytes", domain.Flag{Key: strings.Repeat("k", 128), Kind: domain.KindBoolean, Variants: domain.BooleanVariants()}, nil},
		{"key too long", domain.Flag{Key: strings.Repeat("k", 129), Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
			map[string]string{"key": "at most 128"}},
		{"missing key and kind", domain.Flag{}, map[string]string{"key": "is required", "kind": "is required"}},
		{"unknown kind", domain.Flag{Key: "f", Kind: "date"}, map[string]string{"kind": "must be one of: boolean, string, number, json"}},
		{"boolean with other variants", domain.Flag{Key: "f", Kind: domain.KindBoolean,
			Variants: []domain.Variant{{Key: "yes", Value: true}, {Key: "no", Value: false}}},
			map[string]string{"variants": `exactly the variants "on" (true) and "off" (false)`}},
		{"boolean with off true", domain.Flag{Key: "f", Kind: domain.KindBoolean,
			Variants: []domain.Variant{{Key: "on", Value: true}, {Key: "off", Value: true}}},
			map[string]string{"variants": `exactly the variants "on" (true) and "off" (false)`}},
		{"too few variants", domain.Flag{Key: "f", Kind: domain.KindString, Variants: []domain.Variant{{Key: "a", Value: "a"}}},
			map[string]string{"variants": "a string flag needs at least 2 variants"}},
		{"variant problems", domain.Flag{Key: "f", Kind: domain.KindNumber, Variants: []domain.Variant{
			{Key: "a", Value: 1.0}, {Key: "a", Value: 2.0}, {Key: "c", Value: "three"}, {Key: "", Value: nil}}},
			map[string]string{
				"variants[1].key":   `duplicate variant "a"`,
				"variants[2].value": "must be a number (the flag's kind is number)",
				"variants[3].key":   "is required",
				"variants[3].value": "is required",
			}},
		{"string value type", domain.Flag{Key: "f", Kind: domain.KindString, Variants: []domain.Variant{
			{Key: "a", Value: "a"}, {Key: "b", Value: true}}},
			map[string]string{"variants[1].value": "must be a string"}},
		{"tags", domain.Flag{Key: "f", Kind: domain.KindBoolean, Variants: domain.BooleanVariants(), Tags: []string{"ok", "no spaces", "ok"}},
			map[string]string{"tags[1]": "must be 1-64 letters", "tags[2]": `duplicate tag "ok"`}},
		{"salt", domain.Flag{Key: "f", Kind: domain.KindBoolean, Variants: domain.BooleanVariants(), Salt: "has:colon"},
			map[string]string{"salt": "must be 1-128 letters"}},
		{"long name", domain.Flag{Key: "f", Name: strings.Repeat("n", 201), Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
			map[string]string{"name": "must be at most 200 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Flag(tt.flag)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected: %v", fields(err))
				}
				return
			}
			wantFields(t, err, tt.want)
		})
	}
}

func TestProjectAndEnvironment(t *testing.T) {
	if err := Project(domain.Project{Key: "shop", Name: "Shop"}); err != nil {
		t.Errorf("valid project: %v", err)
	}
	wantFields(t, Project(domain.Project{Key: "Shop!", Name: ""}), map[string]string{
		"key":  "must be 1-63 lowercase letters",
		"name": "is required",
	})
	if err := Environment(domain.Environment{Key: "qa-eu", Name: "QA EU", Protected: true}); err != nil {
		t.Errorf("valid environment: %v", err)
	}
	wantFields(t, Environment(domain.Environment{Key: strings.Repeat("e", 64), Name: "x"}), map[string]string{
		"key": "must be 1-63 lowercase letters",
	})
}

func TestNormalize(t *testing.T) {
	f := domain.Flag{Key: "f", Kind: domain.KindBoolean}
	f.Normalize()
	if err := Flag(f); err != nil {
		t.Errorf("normalized boolean flag: %v", fields(err))
	}
}
