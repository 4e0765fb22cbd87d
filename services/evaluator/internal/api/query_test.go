package api

import (
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
)

// TestQueryContext: the list read from a query string is what url.ParseQuery and
// ContextOf make of it, for plain, escaped, repeated, empty and malformed pairs, and
// for more parameters than the list holds.
func TestQueryContext(t *testing.T) {
	many := make([]string, 20)
	for i := range many {
		many[i] = "p" + strings.Repeat("x", i) + "=v"
	}
	for _, q := range []string{
		"", "key=u1", "key=u1&plan=pro&country=DE", "targetingKey=t&key=k", "targetingKey=t",
		"email=a%40b.c&name=J+Doe&x=%zz&%zz=1&;=2&a;b=3", "tag=a&tag=b&tag=c&key=u", "key=a&key=b",
		"=empty-name&empty=&&&", "plan=pro&plan=pro", strings.Join(many, "&"), "key=u&" + strings.Join(many, "&") + "&p=1&p=2",
	} {
		got, gotErr := queryContext(q, make([]eval.Attribute, 0, 16))
		want, wantErr := queryContextMap(q)
		if (gotErr != nil) != (wantErr != nil) || got.Key != want.Key || !reflect.DeepEqual(maps.Clone(got.Map()), maps.Clone(want.Map())) {
			t.Errorf("%q:\n got %q %v %v\nwant %q %v %v", q, got.Key, got.Map(), gotErr, want.Key, want.Map(), wantErr)
		}
	}
}

// TestCanonicalContext: one context encodes alike whatever its members' order, and
// whether it is held as a list or a map; different contexts differ.
func TestCanonicalContext(t *testing.T) {
	decode := func(doc string) eval.Context {
		t.Helper()
		c, err := eval.ContextFromJSON([]byte(doc), "context", nil, "targetingKey")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := decode(`{"context":{"targetingKey":"u","plan":"pro","n":2,"tags":["x"],"o":{"b":1,"a":2},"gone":null}}`)
	b := decode(`{"context":{"o":{"a":2,"b":1},"tags":["x"],"n":2,"plan":"pro","targetingKey":"u"}}`)
	m := eval.Context{Key: "u", Attributes: a.Map()}
	m.Attributes["gone"] = nil
	canon := func(c eval.Context) string { return string(appendCanonical(nil, &c)) }
	if canon(a) != canon(b) || canon(a) != canon(m) {
		t.Errorf("equal contexts encode differently:\n%s\n%s\n%s", canon(a), canon(b), canon(m))
	}
	for _, other := range []string{
		`{"context":{"targetingKey":"u","plan":"pro","n":2,"tags":["x"],"o":{"b":1,"a":3}}}`,
		`{"context":{"targetingKey":"v","plan":"pro","n":2,"tags":["x"],"o":{"b":1,"a":2}}}`,
		`{"context":{"targetingKey":"u","plan":"pro","n":"2","tags":["x"],"o":{"b":1,"a":2}}}`,
		`{"context":{"targetingKey":"u","plan":"pro","n":2,"tags":["x"],"o":{"b":1,"a":2},"extra":false}}`,
	} {
		if canon(decode(other)) == canon(a) {
			t.Errorf("%s encodes as %s", other, canon(a))
		}
	}
}

// TestUsualEvaluate: a body of the usual shape is scanned, and reads as the strict
// decoder reads it; any other goes to the strict decoder.
func TestUsualEvaluate(t *testing.T) {
	for _, tt := range []struct {
		body  string
		usual bool
		flags []string
	}{
		{`{"context":{"key":"u","plan":"pro"},"flags":["a","b\"c"]}`, true, []string{"a", `b"c`}},
		{`{"context":{"key":"u"}}`, true, nil},
		{`{"flags":null,"context":null}`, true, nil},
		{`{"flags":[]}`, true, []string{}},
		{`{"flags":["a"],"flags":["b"]}`, true, []string{"b"}},
		{`{}`, true, nil},
		{`{"Context":{"key":"u"}}`, false, nil},
		{`{"context":{"key":"u"},"extra":1}`, false, nil},
		{`{"context":[1]}`, false, nil},
		{`{"flags":["a",1]}`, false, nil},
		{`{"flags":"a"}`, false, nil},
		{`{"context":{"k":"\u0000"}}`, false, nil},
		{"{\"context\":{\"k\":\"\xff\"}}", false, nil},
		{`{"context":{}`, false, nil},
		{`[]`, false, nil},
		{``, false, nil},
	} {
		flags, ok := usualEvaluate([]byte(tt.body))
		if ok != tt.usual || ok && !reflect.DeepEqual(flags, tt.flags) {
			t.Errorf("%s: usual %v %#v, want %v %#v", tt.body, ok, flags, tt.usual, tt.flags)
		}
		if !ok {
			continue
		}
		var req evaluateRequest
		if err := httpapi.DecodeBytes([]byte(tt.body), &req); err != nil {
			t.Errorf("%s: scanned, but the strict decoder refuses it: %v", tt.body, err)
			continue
		}
		want, _ := eval.ContextOf(req.Context, "key", "targetingKey")
		got, _ := eval.ContextFromJSON([]byte(tt.body), "context", nil, "key", "targetingKey")
		if got.Key != want.Key || !reflect.DeepEqual(maps.Clone(got.Map()), maps.Clone(want.Map())) && len(want.Map())+len(got.Map()) > 0 ||
			!reflect.DeepEqual(flags, req.Flags) {
			t.Errorf("%s: scanned %q %v %#v, strict %q %v %#v", tt.body, got.Key, got.Map(), flags, want.Key, want.Map(), req.Flags)
		}
	}
}
