package eval_test

import (
	"reflect"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
)

// TestContextOf: the first key field present is the targeting key, the rest are
// attributes; a key that is not a string is invalid, naming its field.
func TestContextOf(t *testing.T) {
	for _, tt := range []struct {
		name   string
		raw    map[string]any
		fields []string
		want   eval.Context
		bad    string
	}{
		{"key", map[string]any{"key": "u1", "plan": "pro"}, []string{"key", "targetingKey"},
			eval.Context{Key: "u1", Attributes: map[string]any{"plan": "pro"}}, ""},
		{"alias", map[string]any{"targetingKey": "u2"}, []string{"key", "targetingKey"},
			eval.Context{Key: "u2", Attributes: map[string]any{}}, ""},
		{"first wins", map[string]any{"key": "a", "targetingKey": "b"}, []string{"targetingKey", "key"},
			eval.Context{Key: "b", Attributes: map[string]any{"key": "a"}}, ""},
		{"null key", map[string]any{"key": nil, "n": 1.0}, []string{"key"},
			eval.Context{Attributes: map[string]any{"key": nil, "n": 1.0}}, ""},
		{"number key", map[string]any{"key": 42.0}, []string{"key"}, eval.Context{}, "context.key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eval.ContextOf(tt.raw, tt.fields...)
			if tt.bad != "" {
				if f := domain.ErrorFields(err); len(f) != 1 || f[0].Field != tt.bad {
					t.Fatalf("error %v, want one naming %s", err, tt.bad)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ContextOf = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
