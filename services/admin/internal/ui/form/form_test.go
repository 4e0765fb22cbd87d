package form

import (
	"fmt"
	"net/url"
	"reflect"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

// TestValues: the values box reads what people paste (lines, commas for lists) and
// writes back what reads the same, quoting what would not survive.
func TestValues(t *testing.T) {
	cases := []struct {
		op   domain.Operator
		text string
		want []any
	}{
		{domain.OpIn, "pro, enterprise\nfree", []any{"pro", "enterprise", "free"}},
		{domain.OpIn, `"Acme, Inc.", pro`, []any{"Acme, Inc.", "pro"}},
		{domain.OpIn, "\r\n  a  \r\n\r\n", []any{"a"}},
		{domain.OpEq, "a, b", []any{"a, b"}},
		{domain.OpEq, `""`, []any{""}},
		{domain.OpMatches, `^x,y{1,3}$`, []any{`^x,y{1,3}$`}},
		{domain.OpGt, "42.5", []any{42.5}},
		{domain.OpGt, "lots", []any{"lots"}},
		{domain.OpExists, "", []any{}},
	}
	for _, c := range cases {
		if got := ParseValues(c.op, c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %q: %#v, want %#v", c.op, c.text, got, c.want)
		}
	}
	for _, c := range []struct {
		op     domain.Operator
		values []any
	}{
		{domain.OpIn, []any{"Acme, Inc.", " padded", `"quoted"`, "", "plain"}},
		{domain.OpEq, []any{"a, b"}},
		{domain.OpEq, []any{""}},
		{domain.OpStartsWith, []any{"@acme.com", "x,y"}},
		{domain.OpMatches, []any{`"^a,b$`}},
		{domain.OpGte, []any{float64(3)}},
		{domain.OpSemverGt, []any{"2.1.0"}},
	} {
		if got := ParseValues(c.op, FormatValues(c.op, c.values)); !reflect.DeepEqual(got, c.values) {
			t.Errorf("%s %#v: round trip gives %#v (text %q)", c.op, c.values, got, FormatValues(c.op, c.values))
		}
	}
}

// TestConfigForm: the editor reads rows by index (gaps closed), serves and weights,
// and names what it cannot read with the service's paths; a stored configuration read
// back through the form is the same.
func TestConfigForm(t *testing.T) {
	v := url.Values{
		"version": {"3"}, "enabled": {"on"}, "off_variant": {"off"},
		"rules[5].id": {"second"}, "rules[5].serve.mode": {"variant"}, "rules[5].serve.variant": {"off"},
		"rules[2].id": {"first"}, "rules[2].serve.mode": {"rollout"},
		"rules[2].serve.rollout.weights.on": {"abc"}, "rules[2].serve.rollout.weights.off": {"50"},
		"rules[2].conditions[7].attribute": {" plan "}, "rules[2].conditions[7].operator": {"in"}, "rules[2].conditions[7].values": {"a,b"},
		"rules[2].conditions[1].attribute": {"email"}, "rules[2].conditions[1].operator": {"exists"},
		"default.mode": {"variant"}, "default.variant": {"on"},
		"prerequisites[3].flag": {"other"}, "prerequisites[3].variant": {"on"}, "prerequisites[9].flag": {""},
	}
	f := NewConfig(v)
	if len(f.Rules) != 2 || f.Rules[0].ID != "first" || f.Rules[1].ID != "second" || len(f.Rules[0].Conditions) != 2 ||
		f.Rules[0].Conditions[0].Attribute != "email" || f.Rules[0].Conditions[1].Attribute != "plan" || len(f.Prerequisites) != 1 {
		t.Fatalf("parsed %+v", f)
	}
	_, err := f.Input()
	if fields := domain.ErrorFields(err); len(fields) != 1 || fields[0].Field != "rules[0].serve.rollout.weights.on" {
		t.Fatalf("problems %v", err)
	}
	f.Rules[0].Serve.Weights["on"] = "50"
	in, err := f.Input()
	if err != nil || *in.Version != 3 || !in.Enabled || in.Rules[0].Serve.Rollout.Weights["on"] != 50 ||
		!reflect.DeepEqual(in.Rules[0].Conditions[1].Values, []any{"a", "b"}) || in.Default.Variant != "on" {
		t.Fatalf("input %+v, %v", in, err)
	}

	stored := domain.Config{Enabled: true, OffVariant: "off", Version: 7,
		Rules: []domain.Rule{{ID: "r", Conditions: []domain.Condition{{Attribute: "plan", Operator: domain.OpIn, Values: []any{"pro", "Acme, Inc."}}},
			Serve: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 12.5, "off": 87.5}, BucketBy: "company.id"}}}},
		Default: domain.Serve{Variant: "off"}, Prerequisites: []domain.Prerequisite{{Flag: "x", Variant: "on"}}}
	back, err := ConfigOf(stored).Input()
	if err != nil {
		t.Fatal(err)
	}
	got := domain.Config{Enabled: back.Enabled, OffVariant: back.OffVariant, Version: *back.Version, Rules: back.Rules,
		Default: *back.Default, Prerequisites: back.Prerequisites}
	if !reflect.DeepEqual(got, stored) {
		t.Errorf("round trip:\n%+v\n%+v", got, stored)
	}
}

// TestEditOps: the buttons that edit rows without JavaScript.
func TestEditOps(t *testing.T) {
	f := &Config{}
	for _, op := range []string{"add:rules", "add:rules", "add:rules[1].conditions", "add:prerequisites"} {
		if !f.Apply(op, "on") {
			t.Fatalf("%s refused", op)
		}
	}
	f.Rules[0].ID, f.Rules[1].ID = "a", "b"
	if len(f.Rules[1].Conditions) != 2 || f.Rules[0].Serve.Variant != "on" || len(f.Prerequisites) != 1 {
		t.Fatalf("after adds: %+v", f)
	}
	f.Apply("up:rules[1]", "")
	if f.Rules[0].ID != "b" {
		t.Fatal("up")
	}
	f.Apply("remove:rules[0].conditions[1]", "")
	f.Apply("down:rules[0]", "")
	f.Apply("remove:prerequisites[0]", "")
	if f.Rules[1].ID != "b" || len(f.Rules[1].Conditions) != 1 || len(f.Prerequisites) != 0 {
		t.Fatalf("after moves: %+v", f)
	}
	for _, bad := range []string{"up:rules[0]", "down:rules[1]", "remove:rules[9]", "remove:rules[0].conditions[5]", "drop:rules", "add:users", "save"} {
		if f.Apply(bad, "") {
			t.Errorf("%s accepted", bad)
		}
	}
	fl := &Flag{}
	fl.Apply("add:variants")
	fl.Apply("add:variants")
	fl.Variants[0].Key, fl.Variants[1].Key = "a", "b"
	fl.Apply("down:variants[0]")
	if fl.Variants[0].Key != "b" || fl.Apply("add:rules") {
		t.Fatalf("variants: %+v", fl.Variants)
	}
}

// TestFlagPatch: only what changed is sent, so a rename never counts as a change of
// what environments serve.
func TestFlagPatch(t *testing.T) {
	cur := domain.Flag{Key: "color", Kind: domain.KindString, Name: "Color", Tags: []string{"web"},
		Variants: []domain.Variant{{Key: "red", Value: "#f00"}, {Key: "blue", Value: "#00f"}}}
	f := FlagOf(cur)
	f.Name = "Colour"
	p, err := f.Patch(cur)
	if err != nil || p.Name == nil || *p.Name != "Colour" || p.Variants != nil || p.Tags != nil || p.Description != nil {
		t.Fatalf("rename: %+v %v", p, err)
	}
	f.Variants[0].Value = "#e00"
	if p, _ := f.Patch(cur); p.Variants == nil || (*p.Variants)[0].Value != "#e00" {
		t.Fatalf("value change: %+v", p)
	}
	n := FlagOf(domain.Flag{Key: "n", Kind: domain.KindNumber, Variants: []domain.Variant{{Key: "a", Value: 1.5}}})
	n.Variants[0].Value = "x"
	if _, err := n.Patch(domain.Flag{Kind: domain.KindNumber}); len(domain.ErrorFields(err)) != 1 || domain.ErrorFields(err)[0].Field != "variants[0].value" {
		t.Fatalf("bad number: %v", err)
	}
}

// TestPlaygroundContext: rows with dotted keys make nested objects, JSON values are
// JSON, and the JSON form reads back as rows.
func TestPlaygroundContext(t *testing.T) {
	p := NewPlayground(url.Values{"ctx[0].key": {"key"}, "ctx[0].value": {"user-1"}, "ctx[2].key": {"company.plan"},
		"ctx[2].value": {"pro"}, "ctx[3].key": {"age"}, "ctx[3].value": {"30"}, "ctx[4].key": {"zip"}, "ctx[4].value": {"007"}})
	ctx, err := p.Context()
	if err != nil || fmt.Sprint(ctx) != "map[age:30 company:map[plan:pro] key:user-1 zip:007]" {
		t.Fatalf("context %v %v", ctx, err)
	}
	j := &Playground{Mode: "json", JSON: `{"key": "u", "n": 3, "s": "30", "o": {"a": 1}}`}
	if _, err := j.Context(); err != nil || fmt.Sprint(j.Rows) != `[{key u} {n 3} {o {"a":1}} {s "30"}]` {
		t.Fatalf("rows %v %v", j.Rows, err)
	}
	bad := NewPlayground(url.Values{"ctx[0].key": {"a"}, "ctx[0].value": {"1"}, "ctx[1].key": {"a.b"}, "ctx[1].value": {"2"}})
	if _, err := bad.Context(); len(domain.ErrorFields(err)) != 1 {
		t.Fatalf("a value and an object at once: %v", err)
	}
}

// TestConfigFormIsBounded: a crafted form cannot make the editor hold more rows than
// one past each limit (the service names the limit for that one), and weights are read
// for the serve they belong to.
func TestConfigFormIsBounded(t *testing.T) {
	v := url.Values{"version": {"1"}}
	for i := range 3000 {
		v.Set(fmt.Sprintf("rules[%d].id", i), fmt.Sprintf("r%d", i))
		v.Set(fmt.Sprintf("rules[0].conditions[%d].attribute", i), "a")
		v.Set(fmt.Sprintf("prerequisites[%d].flag", i), "p")
	}
	v.Set("rules[1].serve.mode", "rollout")
	v.Set("rules[1].serve.rollout.weights.on", "30")
	v.Set("rules[1].serve.rollout.weights.off", "70")
	v.Set("default.rollout.weights.on", "5")
	f := NewConfig(v)
	if len(f.Rules) != domain.MaxRules+1 {
		t.Errorf("%d rules read, want %d", len(f.Rules), domain.MaxRules+1)
	}
	if n := len(f.Rules[0].Conditions); n != domain.MaxConditions+1 {
		t.Errorf("%d conditions read, want %d", n, domain.MaxConditions+1)
	}
	if len(f.Prerequisites) != domain.MaxPrerequisites+1 {
		t.Errorf("%d prerequisites read, want %d", len(f.Prerequisites), domain.MaxPrerequisites+1)
	}
	if w := f.Rules[1].Serve.Weights; w["on"] != "30" || w["off"] != "70" || len(w) != 2 {
		t.Errorf("rules[1] weights %v", w)
	}
	if w := f.Default.Weights; w["on"] != "5" || len(w) != 1 {
		t.Errorf("default weights %v", w)
	}
	if len(f.Rules[0].Serve.Weights) != 0 {
		t.Errorf("rules[0] has weights %v", f.Rules[0].Serve.Weights)
	}
}

// TestTargetingKeyIsText: a targeting key that looks like a number stays a string.
func TestTargetingKeyIsText(t *testing.T) {
	p := NewPlayground(url.Values{"ctx[0].key": {"key"}, "ctx[0].value": {"42"}, "ctx[1].key": {"age"}, "ctx[1].value": {"42"}})
	ctx, err := p.Context()
	if err != nil {
		t.Fatal(err)
	}
	if ctx["key"] != "42" || ctx["age"] != float64(42) {
		t.Errorf("context %#v", ctx)
	}
}
