package switchyard

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/sdk/go/internal/fakeserver"
)

// offline returns a client serving snap without a network.
func offline(t testing.TB, snap domain.Snapshot, opts ...Option) *Client {
	t.Helper()
	raw, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(t.Context(), "", "", append([]Option{WithOffline(), WithBootstrap(raw), WithLogger(testLogger(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(t.Context()) })
	return c
}

// TestTypedHelpers: each kind's helper answers its flags, and the default with an
// error code for a missing flag, a flag of another kind, or a failed evaluation; a
// disabled flag serves its off variant.
func TestTypedHelpers(t *testing.T) {
	c := offline(t, snapshot(1, fixtureFlags()...))
	staff := &Context{Key: "u1", Attributes: map[string]any{"email": "a@acme.com", "country": "NL"}}
	other := &Context{Key: "u2", Attributes: map[string]any{"email": "b@example.com"}}
	noKey := &Context{}
	type answer struct {
		value  any
		reason Reason
		code   ErrorCode
		vari   string
	}
	for _, tt := range []struct {
		name string
		eval func() (any, Result)
		want answer
	}{
		{"bool match", func() (any, Result) { return c.BoolDetail("new-checkout", staff, false) }, answer{true, ReasonTargetingMatch, "", "on"}},
		{"bool default", func() (any, Result) { return c.BoolDetail("new-checkout", other, true) }, answer{false, ReasonDefault, "", "off"}},
		{"bool split", func() (any, Result) { return c.BoolDetail("everyone", other, false) }, answer{true, ReasonSplit, "", "on"}},
		{"bool disabled", func() (any, Result) { return c.BoolDetail("disabled", other, true) }, answer{false, ReasonDisabled, "", "off"}},
		{"bool no targeting key", func() (any, Result) { return c.BoolDetail("half", noKey, true) }, answer{true, ReasonError, CodeTargetingKeyMissing, "off"}},
		{"bool missing", func() (any, Result) { return c.BoolDetail("ghost", staff, true) }, answer{true, ReasonError, CodeFlagNotFound, ""}},
		{"bool of a string flag", func() (any, Result) { return c.BoolDetail("button-color", staff, true) }, answer{true, ReasonError, CodeTypeMismatch, "green"}},
		{"string match", func() (any, Result) { return c.StringDetail("button-color", staff, "blue") }, answer{"green", ReasonTargetingMatch, "", "green"}},
		{"string default", func() (any, Result) { return c.StringDetail("button-color", other, "blue") }, answer{"red", ReasonDefault, "", "red"}},
		{"string of a number flag", func() (any, Result) { return c.StringDetail("max-items", other, "blue") }, answer{"blue", ReasonError, CodeTypeMismatch, "many"}},
		{"number", func() (any, Result) { return c.NumberDetail("max-items", other, 1) }, answer{250.0, ReasonDefault, "", "many"}},
		{"number of a json flag", func() (any, Result) { return c.NumberDetail("limits", other, 1) }, answer{1.0, ReasonError, CodeTypeMismatch, "pro"}},
		{"json", func() (any, Result) { return c.JSONDetail("limits", other, nil) }, answer{map[string]any{"rate": 1000.0, "burst": true}, ReasonDefault, "", "pro"}},
		{"json of a bool flag", func() (any, Result) { return c.JSONDetail("everyone", other, "d") }, answer{"d", ReasonError, CodeTypeMismatch, "on"}},
		{"json missing", func() (any, Result) { return c.JSONDetail("ghost", other, "d") }, answer{"d", ReasonError, CodeFlagNotFound, ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, r := tt.eval()
			got := answer{v, r.Reason, r.ErrorCode, r.Variant}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v (result %+v)", got, tt.want, r)
			}
		})
	}
	// The short forms answer the same values.
	if !c.Bool("new-checkout", staff, false) || c.String("button-color", staff, "") != "green" ||
		c.Number("max-items", other, 0) != 250 || c.JSON("limits", other, nil) == nil || c.Bool("ghost", staff, false) {
		t.Error("short forms differ from the detailed ones")
	}
}

// TestSameAnswersAsEngine: Evaluate answers exactly what the engine answers for the
// same definitions, the evaluator's answers: values, variants, reasons, rules, codes.
func TestSameAnswersAsEngine(t *testing.T) {
	snap := snapshot(3, append(fixtureFlags(), benchFlag("ten-rules", 3))...)
	srv := fakeserver.New(t, snap)
	c := start(t, srv)
	// The engine compiles what the evaluator decodes from JSON.
	raw, _ := json.Marshal(snap)
	var decoded domain.Snapshot
	if err := json.Unmarshal(raw, &decoded); err != nil {
		t.Fatal(err)
	}
	engine := eval.Compile(decoded)
	contexts := []*Context{
		nil, {}, benchContext(),
		{Key: "u1", Attributes: map[string]any{"email": "a@acme.com", "country": "NL"}},
		{Key: "u2", Attributes: map[string]any{"email": "b@example.com", "country": "DE", "plan": "premium", "age": 70}},
	}
	for i := range 200 {
		contexts = append(contexts, &Context{Key: fmt.Sprintf("user-%d", i), Attributes: map[string]any{"country": "PL", "plan": "enterprise", "age": float64(i), "app_version": "2.4.1", "email": "x@y"}})
	}
	for _, key := range append(engine.Keys(), "ghost") {
		for i, ctx := range contexts {
			want := engine.Evaluate(key, orEmpty(ctx))
			if got := c.Evaluate(key, ctx); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, context %d: SDK %+v, engine %+v", key, i, got, want)
			}
		}
	}
}

func orEmpty(ctx *Context) *Context {
	if ctx == nil {
		return &Context{}
	}
	return ctx
}

// TestEvaluateBeforeReady: without definitions every helper answers its default.
func TestEvaluateBeforeReady(t *testing.T) {
	c := &Client{}
	if r := c.Evaluate("x", nil); r.ErrorCode != CodeNotReady || r.Reason != ReasonError {
		t.Errorf("Evaluate: %+v", r)
	}
	if !c.Bool("x", nil, true) || c.String("x", nil, "d") != "d" || c.Number("x", nil, 2) != 2 || c.JSON("x", nil, 3) != 3 {
		t.Error("defaults not answered")
	}
}

// TestEvaluateAllocatesNothing: through the public API, with a reused context, a
// 10-rule flag is evaluated and counted without allocating.
func TestEvaluateAllocatesNothing(t *testing.T) {
	c := offline(t, snapshot(1, benchFlag("ten-rules", 0)))
	c.counting = true // offline clients do not count; this one must, as online ones do
	ctx := benchContext()
	if !c.Bool("ten-rules", ctx, false) && c.Evaluate("ten-rules", ctx).RuleID != "rule-9" {
		t.Fatal("the context does not reach the last rule")
	}
	if n := testing.AllocsPerRun(1000, func() { c.Bool("ten-rules", ctx, false) }); n != 0 {
		t.Errorf("Bool allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(1000, func() { c.BoolDetail("ghost", ctx, false) }); n != 0 {
		t.Errorf("BoolDetail of a missing flag allocates %v times per call", n)
	}
	if got := c.defs.Load().flag("ten-rules").counts; total(got) < 1000 {
		t.Errorf("evaluations not counted: %d", total(got))
	}
}
