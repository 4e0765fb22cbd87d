package jsonscan_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/switchyard/switchyard/pkg/jsonscan"
)

// walk rebuilds a document's value with the scanner, as encoding/json decodes it.
func walk(t *testing.T, s *jsonscan.Scanner) any {
	switch c := s.Peek(); c {
	case '{':
		m := map[string]any{}
		s.Members(func(name string) { m[name] = walk(t, s) })
		return m
	case '[':
		l := []any{}
		s.Elements(func() { l = append(l, walk(t, s)) })
		return l
	case '"':
		return s.Str()
	case 'n':
		s.Skip()
		return nil
	case 't', 'f':
		s.Skip()
		return c == 't'
	default:
		f, err := strconv.ParseFloat(s.Text(), 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
}

// TestScanner: the scanner reads every kind of value, escapes, nesting and white space
// as encoding/json does; Raw returns a value's exact bytes.
func TestScanner(t *testing.T) {
	for _, doc := range []string{
		`{"a":"b","n":-1.5e3,"t":true,"f":false,"z":null,"l":[1,"x",[],{}],"o":{"p":{"q":["r"]}}}`,
		` { "esc\"aped" : "tab\tquote\"back\\slash\u00e9\ud83d\ude00" , "e" : [ ] , "s":"]}" } `,
		`[{"a":[{"b":[{}]}]},"}",0]`,
		`"just a string"`, `12`, `null`, `{}`, `[]`,
	} {
		var want any
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		s := jsonscan.New([]byte(doc))
		if got := walk(t, &s); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", doc, got, want)
		}
	}
	s := jsonscan.New([]byte(`{"skip":{"x":["]",{"y":"}"}]},"raw":[1, {"a" :2}] ,"after":"yes"}`))
	var raw, after string
	s.Members(func(name string) {
		switch name {
		case "raw":
			raw = string(s.Raw())
		case "after":
			after = s.Str()
		default:
			s.Skip()
		}
	})
	if raw != `[1, {"a" :2}]` || after != "yes" {
		t.Errorf("raw %q, after %q", raw, after)
	}
}
