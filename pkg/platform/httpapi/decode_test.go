package httpapi

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

func TestDecode(t *testing.T) {
	type inner struct {
		N int `json:"n"`
	}
	type body struct {
		Name  string  `json:"name"`
		Items []inner `json:"items"`
		On    bool    `json:"on"`
	}
	tests := []struct {
		in    string
		field string
	}{
		{``, "body"},
		{`   `, "body"},
		{`{"name":`, "body"},
		{`{"name":"a"}x`, "body"},
		{`{"name":"a"}{}`, "body"},
		{`{"nmae":"a"}`, "nmae"},
		{`{"name":1}`, "name"},
		{`{"on":"yes"}`, "on"},
		{`{"items":[{"n":"x"}]}`, "items[0].n"},
		{`{"items":[{"n":1.5}]}`, "items[0].n"},
		{`"just a string"`, "body"},
	}
	for _, tt := range tests {
		var b body
		err := DecodeBytes([]byte(tt.in), &b)
		if domain.ErrorCode(err) != domain.CodeInvalid {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		fields := domain.ErrorFields(err)
		if len(fields) != 1 || fields[0].Field != tt.field {
			t.Errorf("%q: fields %+v, want %s", tt.in, fields, tt.field)
		}
	}
	var b body
	if err := DecodeBytes([]byte(`{"name":"a","items":[{"n":1}],"on":true}`), &b); err != nil || b.Name != "a" || !b.On {
		t.Errorf("valid body: %v %+v", err, b)
	}
}

// TestDecodeEveryProblem checks that one answer names every unknown field and every
// value of the wrong type, however deep.
func TestDecodeEveryProblem(t *testing.T) {
	type cond struct {
		Attribute string `json:"attribute"`
		Values    []any  `json:"values"`
	}
	type rule struct {
		ID         string `json:"id"`
		Conditions []cond `json:"conditions"`
	}
	type body struct {
		Enabled bool               `json:"enabled"`
		Rules   []rule             `json:"rules"`
		Weights map[string]float64 `json:"weights"`
		Version *int64             `json:"version"`
		Raw     json.RawMessage    `json:"raw"`
	}
	in := `{"enabled":"yes","nmae":1,"rules":[{"id":7,"conditions":[{"attribute":"a","values":[1,"x"],"op":"eq"}]}],
		"weights":{"on":"50"},"version":1.5,"raw":{"anything":true}}`
	var b body
	err := DecodeBytes([]byte(in), &b)
	var got []string
	for _, f := range domain.ErrorFields(err) {
		got = append(got, f.Field)
	}
	want := []string{"enabled", "nmae", "rules[0].conditions[0].op", "rules[0].id", "version", "weights.on"}
	if !slices.Equal(got, want) {
		t.Errorf("fields %v, want %v", got, want)
	}
}
