package eval_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
)

// contextCorpus are request bodies whose context ContextFromJSON must read as
// encoding/json and ContextOf do: escapes, duplicates, nulls, nested values, numbers,
// members around the context, and more members than a list holds.
var contextCorpus = []string{
	`{"context":{"targetingKey":"user-42","email":"a@example.com","plan":"pro","country":"DE","app_version":"2.4.1"}}`,
	`{"flags":["x"],"context":{"key":"u1","n":3.5,"ok":true,"no":false},"other":{"context":{"x":1}}}`,
	`{"context":{"targetingKey":"first","targetingKey":"second","plan":"a","plan":"b"}}`,
	`{"context":{"targetingKey":null,"key":"fallback","gone":null,"plan":"p","plan":null}}`,
	`{"context":{"targetingKey":"t","key":"stays"}}`,
	`{"context":{"em\u0061il":"x\"y\\z\u00e9","t\nab":"a\tb","app":{"version":"2.1.0","build":{"n":7}},"app.version":"1.0.0"}}`,
	`{"context":{"tags":["a",1,true,null,{"k":"v"}],"deep":{"list":[[1],[2]]},"e":1e3,"neg":-0.25}}`,
	`{"context":{"app":{"version":null},"app.version":"3.0.0"}}`,
	`{"context":{"app":{"build":null},"app.build.n":9}}`,
	`{"context":{}}`,
	`{"context":null}`,
	`{}`,
	` { "context" : { "a" : "b" , "c" : [ ] } } `,
	`{"context":{"a":"1","a":"2","a":"3"},"context":{"b":"last context wins"}}`,
	manyMembers(40),
}

func manyMembers(n int) string {
	ctx := map[string]any{"targetingKey": "k"}
	for i := range n {
		ctx[fmt.Sprintf("m%02d", i)] = fmt.Sprintf("v%d", i)
	}
	ctx["m03"] = nil
	b, _ := json.Marshal(map[string]any{"context": ctx})
	return string(b)
}

// viaMap is the reference: encoding/json's map, then ContextOf.
func viaMap(doc []byte, keyFields ...string) (eval.Context, error) {
	var req struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(doc, &req); err != nil {
		return eval.Context{}, err
	}
	return eval.ContextOf(req.Context, keyFields...)
}

// withoutNulls is a context's attributes as a map, null members dropped (ContextOf
// keeps them; both read them as absent).
func withoutNulls(c eval.Context) map[string]any {
	m := maps.Clone(c.Map())
	if m == nil {
		m = map[string]any{}
	}
	maps.DeleteFunc(m, func(_ string, v any) bool { return v == nil })
	return m
}

func TestContextFromJSON(t *testing.T) {
	for i, doc := range contextCorpus {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			checkSameContext(t, []byte(doc))
		})
	}
	t.Run("list or map", func(t *testing.T) {
		small, _ := eval.ContextFromJSON([]byte(contextCorpus[0]), "context", nil, "targetingKey", "key")
		if small.List == nil || small.Attributes != nil || len(small.List) != 4 {
			t.Errorf("a small context: List %v, Attributes %v; want a list of 4", small.List, small.Attributes)
		}
		big, _ := eval.ContextFromJSON([]byte(manyMembers(40)), "context", nil, "targetingKey", "key")
		if big.List != nil || len(big.Attributes) != 39 {
			t.Errorf("40 members: List %d, Attributes %d; want a map of 39", len(big.List), len(big.Attributes))
		}
	})
	for _, tt := range []struct{ doc, field string }{
		{`{"context":{"targetingKey":42}}`, "context.targetingKey"},
		{`{"context":{"key":{"a":1}}}`, "context.key"},
	} {
		_, err := eval.ContextFromJSON([]byte(tt.doc), "context", nil, "targetingKey", "key")
		if f := domain.ErrorFields(err); len(f) != 1 || f[0].Field != tt.field {
			t.Errorf("%s: error %v, want one naming %s", tt.doc, err, tt.field)
		}
	}
	for _, doc := range []string{`{"context":[1]}`, `{"context":"x"}`, `{"context":{"n":1e400}}`, `{"context":{"n":[1e400]}}`} {
		if _, err := eval.ContextFromJSON([]byte(doc), "context", nil, "targetingKey"); !errors.Is(err, eval.ErrNotObject) {
			t.Errorf("%s: error %v, want ErrNotObject", doc, err)
		}
	}
}

func checkSameContext(t *testing.T, doc []byte) {
	t.Helper()
	want, wantErr := viaMap(doc, "targetingKey", "key")
	got, err := eval.ContextFromJSON(doc, "context", make([]eval.Attribute, 0, 4), "targetingKey", "key")
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%s: error %v, encoding/json's %v", doc, err, wantErr)
	}
	if err != nil {
		return
	}
	if got.Key != want.Key || !reflect.DeepEqual(withoutNulls(got), withoutNulls(want)) {
		t.Fatalf("%s:\n got key %q %v\nwant key %q %v", doc, got.Key, withoutNulls(got), want.Key, withoutNulls(want))
	}
	// The engine reads both alike: every flag of a snapshot testing the corpus's
	// attributes (plain, dotted, nested, lists, numbers, booleans) gives one result.
	snap := contextSnapshot()
	for _, r := range snap.EvaluateAll(&want) {
		if g := snap.Evaluate(r.Key, &got); !reflect.DeepEqual(g, r) {
			t.Fatalf("%s: flag %s: listed context gives %+v, map %+v", doc, r.Key, g, r)
		}
	}
}

func contextSnapshot() *eval.Snapshot {
	var flags []domain.FlagConfig
	add := func(attr string, op domain.Operator, values ...any) {
		key := fmt.Sprintf("f%02d", len(flags))
		flags = append(flags, domain.FlagConfig{
			Flag: domain.Flag{Key: key, Kind: domain.KindBoolean, Variants: []domain.Variant{{Key: "on", Value: true}, {Key: "off", Value: false}}},
			Config: domain.Config{Enabled: true, OffVariant: "off", Default: domain.Serve{Variant: "off"},
				Rules: []domain.Rule{{ID: "r", Conditions: []domain.Condition{{Attribute: attr, Operator: op, Values: values}}, Serve: domain.Serve{Variant: "on"}}}},
		})
	}
	add("email", domain.OpEndsWith, "@example.com")
	add("plan", domain.OpIn, "pro", "b", "p")
	add("plan", domain.OpExists)
	add("gone", domain.OpNotExists)
	add("app.version", domain.OpSemverGt, "2.0.0")
	add("app.build.n", domain.OpGt, 5)
	add("app.version", domain.OpNotExists)
	add("n", domain.OpGt, 3)
	add("ok", domain.OpEq, true)
	add("tags", domain.OpIn, "a")
	add("neg", domain.OpLt, 0)
	add("key", domain.OpEq, "stays")
	add("email", domain.OpContains, "\"y")
	add("m10", domain.OpEq, "v10")
	add("m03", domain.OpExists)
	add("b", domain.OpStartsWith, "last")
	return eval.Compile(domain.Snapshot{EnvironmentID: "e", Version: 1, Flags: flags})
}

// FuzzContextFromJSON: for any valid JSON document, ContextFromJSON reads the context
// as encoding/json and ContextOf do, and the engine evaluates both alike.
func FuzzContextFromJSON(f *testing.F) {
	for _, doc := range contextCorpus {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		// A document that is not an object is the caller's to refuse (OFREP answers
		// PARSE_ERROR, not INVALID_CONTEXT).
		// Invalid UTF-8 is refused before too (encoding/json would replace it).
		if !json.Valid(doc) || !utf8.Valid(doc) || bytes.TrimSpace(doc)[0] != '{' {
			return
		}
		checkSameContext(t, doc)
	})
}
