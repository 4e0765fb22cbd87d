package api

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/switchyard/switchyard/pkg/eval"
)

// serialize is what the JSON serializer writes (HTML escaping off, trailing newline).
func serialize(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestHandEncodingMatchesTheSerializer(t *testing.T) {
	values := []any{nil, true, false, "on", "", `quote " and \ backslash`, "tab\tnew\nline", "<b>&</b>", "héllo ✓",
		"\u2028", "\x7f", 0.0, 1.0, -2.5, 3.14159, 1e20, 1e21, 1e-6, 1e-7, -1e-7, 123456789.125, math.MaxFloat64,
		map[string]any{"theme": "dark", "n": 2.0}, []any{"a", 1.0, true}}
	for _, v := range values {
		for _, r := range []resultView{
			{Value: v, Variant: "on", Reason: eval.ReasonTargetingMatch, RuleID: "staff"},
			{Key: "a/b \"c\"", Value: v, Reason: eval.ReasonDefault},
			{Key: "gone", Value: v, Reason: eval.ReasonError, ErrorCode: eval.ErrFlagNotFound},
		} {
			if got, want := string(r.appendJSON(nil)), serialize(t, r); got != want {
				t.Errorf("resultView:\n got %s\nwant %s", got, want)
			}
		}
		for _, s := range []ofrepSuccess{
			{Key: "f", Value: v, Reason: "TARGETING_MATCH", Variant: "on", Metadata: ofrepMetadata{EnvironmentVersion: 12, RuleID: "pro"}},
			{Key: "ünïcode/key", Value: v, Reason: "DEFAULT", Metadata: ofrepMetadata{EnvironmentVersion: 0}},
		} {
			if got, want := string(s.appendJSON(nil)), serialize(t, s); got != want {
				t.Errorf("ofrepSuccess:\n got %s\nwant %s", got, want)
			}
		}
	}
}

// TestBulkEncodingMatchesTheSerializer: the OFREP bulk answer, with successes and
// errors of every shape, byte for byte as the serializer writes it.
func TestBulkEncodingMatchesTheSerializer(t *testing.T) {
	answers := []ofrepBulkAnswer{
		{Flags: []any{}, EventStreams: []eventStream{}},
		{Flags: []any{
			ofrepSuccess{Key: "f", Value: map[string]any{"a": []any{1.0, "x"}}, Reason: "TARGETING_MATCH", Variant: "on", Metadata: ofrepMetadata{EnvironmentVersion: 7, RuleID: "r"}},
			ofrepError{Key: "gone", ErrorCode: "FLAG_NOT_FOUND", ErrorDetails: `flag "gone" <missing>`},
			ofrepError{ErrorCode: "GENERAL"},
			ofrepSuccess{Key: "é/\u2028", Value: "<b>", Reason: "DEFAULT", Metadata: ofrepMetadata{EnvironmentVersion: 0}},
		}, EventStreams: []eventStream{{Type: "sse", URL: "http://h:1/ofrep/v1/stream?token=a.b.c&x=<y>", InactivityDelaySec: 120}}},
	}
	for _, a := range answers {
		if got, want := string(a.appendJSON(nil)), serialize(t, a); got != want {
			t.Errorf("bulk answer:\n got %s\nwant %s", got, want)
		}
	}
}
