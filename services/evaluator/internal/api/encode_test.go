package api

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
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
			if got, want := string(s.appendObject(nil))+"\n", serialize(t, s); got != want {
				t.Errorf("ofrepSuccess:\n got %s\nwant %s", got, want)
			}
		}
	}
}

// TestBulkEncodingMatchesTheSerializer: the OFREP bulk answer, with successes and
// errors of every shape, byte for byte as the serializer writes each result's
// ofrepResult body.
func TestBulkEncodingMatchesTheSerializer(t *testing.T) {
	answers := []ofrepBulkAnswer{
		{Results: []eval.Result{}, EventStreams: []eventStream{}},
		{Version: 7, Results: []eval.Result{
			{Key: "f", Value: map[string]any{"a": []any{1.0, "x"}}, Reason: eval.ReasonTargetingMatch, Variant: "on", RuleID: "r"},
			{Key: "gone \"<x>\"", Reason: eval.ReasonError, ErrorCode: eval.ErrFlagNotFound},
			{Key: "rollout", Reason: eval.ReasonError, ErrorCode: eval.ErrTargetingKeyMissing},
			{Key: "broken", Reason: eval.ReasonError, ErrorCode: eval.ErrGeneral},
			{Key: "budget", Reason: eval.ReasonError, ErrorCode: eval.ErrGeneral, ErrorMessage: eval.MessageBudget},
			{Key: "é/\u2028", Value: "<b>", Reason: eval.ReasonDefault},
		}, EventStreams: []eventStream{{Type: "sse", URL: "http://h:1/ofrep/v1/stream?token=a.b.c&x=<y>", InactivityDelaySec: 120}}},
	}
	for _, a := range answers {
		flags := make([]any, len(a.Results))
		for i, r := range a.Results {
			_, flags[i] = ofrepResult(r, a.Version)
		}
		want := serialize(t, struct {
			Flags        []any         `json:"flags"`
			EventStreams []eventStream `json:"eventStreams"`
		}{flags, a.EventStreams})
		if got := string(a.appendJSON(nil)); got != want {
			t.Errorf("bulk answer:\n got %s\nwant %s", got, want)
		}
	}
}

// TestEvaluateAnswerMatchesTheSerializer: the native bulk answer, keys sorted and a
// key asked for twice answered once, byte for byte as the serializer writes the map.
func TestEvaluateAnswerMatchesTheSerializer(t *testing.T) {
	results := []eval.Result{
		{Key: "zeta", Value: true, Variant: "on", Reason: eval.ReasonTargetingMatch, RuleID: "r"},
		{Key: "alpha", Value: map[string]any{"a": []any{1.0, "<x>"}}, Reason: eval.ReasonDefault},
		{Key: "gone", Reason: eval.ReasonError, ErrorCode: eval.ErrFlagNotFound},
		{Key: "alpha", Value: "second", Reason: eval.ReasonSplit, Variant: "b"},
		{Key: "é/\u2028", Value: 2.5, Reason: eval.ReasonDisabled},
	}
	for _, rs := range [][]eval.Result{{}, results} {
		out := map[string]resultView{}
		for _, r := range rs {
			out[r.Key] = view(r)
		}
		want := serialize(t, map[string]any{"flags": out})
		if got := string(appendEvaluateAnswer(nil, slices.Clone(rs))); got != want {
			t.Errorf("evaluate answer:\n got %s\nwant %s", got, want)
		}
	}
}
