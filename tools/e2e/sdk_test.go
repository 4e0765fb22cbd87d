package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"

	switchyard "github.com/switchyard/switchyard/sdk/go"
	provider "github.com/switchyard/switchyard/sdk/go/openfeature"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/testinfra"
)

// sdkKey creates an SDK key of the kind in the environment through the admin API.
func (s *stack) sdkKey(env, kind string) string {
	s.t.Helper()
	var k struct{ Key string }
	decode(s.t, s.api.Must(http.StatusCreated, "POST", "/api/v1/projects/"+project+"/environments/"+env+"/sdk-keys",
		map[string]any{"name": kind + " key", "kind": kind}), &k)
	return k.Key
}

func cond(attr string, op domain.Operator, values ...any) map[string]any {
	if values == nil {
		values = []any{}
	}
	return map[string]any{"attribute": attr, "operator": op, "values": values}
}

func ruleOf(id, variant string, conds ...map[string]any) map[string]any {
	return map[string]any{"id": id, "conditions": conds, "serve": map[string]any{"variant": variant}}
}

// operatorFlags are flags whose rules use every operator of the engine, on strings,
// numbers, versions, times, lists and nested attributes, with rollouts by key and by
// attribute and a prerequisite: the definitions SDKs and the evaluator must agree on.
func operatorFlags(s *stack, env string) []string {
	s.t.Helper()
	bools := map[string][]map[string]any{
		"op-text": {
			ruleOf("eq", "on", cond("plan", domain.OpEq, "pro")),
			ruleOf("neq-in", "off", cond("plan", domain.OpNeq, "free"), cond("country", domain.OpIn, "DE", "FR", 7)),
			ruleOf("not-in", "on", cond("country", domain.OpNotIn, "US", "GB")),
		},
		"op-strings": {
			ruleOf("starts", "on", cond("email", domain.OpStartsWith, "admin", "root")),
			ruleOf("ends", "off", cond("email", domain.OpEndsWith, "@acme.com")),
			ruleOf("contains", "on", cond("email", domain.OpContains, "+test")),
			ruleOf("not-contains", "off", cond("email", domain.OpNotContains, "a", "e")),
			ruleOf("matches", "on", cond("email", domain.OpMatches, `^[a-c][a-z0-9]*@`)),
		},
		"op-numbers": {
			ruleOf("gt", "on", cond("age", domain.OpGt, 60)),
			ruleOf("gte-lt", "off", cond("age", domain.OpGte, 18), cond("age", domain.OpLt, 21)),
			ruleOf("lte", "on", cond("score", domain.OpLte, 0.5)),
		},
		"op-versions": {
			ruleOf("eq", "on", cond("app.version", domain.OpSemverEq, "2.0.0")),
			ruleOf("gt", "off", cond("app.version", domain.OpSemverGt, "3.1.0")),
			ruleOf("lt", "on", cond("app.version", domain.OpSemverLt, "1.5.0-beta.2")),
		},
		"op-times": {
			ruleOf("before", "on", cond("created", domain.OpBefore, "2024-01-01T00:00:00Z")),
			ruleOf("after", "off", cond("created", domain.OpAfter, "2026-06-01T12:00:00+02:00")),
		},
		"op-presence": {
			ruleOf("exists", "on", cond("company.plan", domain.OpExists), cond("tags", domain.OpIn, "beta")),
			ruleOf("not-exists", "off", cond("company.plan", domain.OpNotExists)),
		},
	}
	var keys []string
	for key, rules := range bools {
		s.flag(map[string]any{"key": key, "kind": "boolean"})
		s.configure(nil, key, env, map[string]any{"enabled": true, "rules": rules, "off_variant": "off",
			"default": map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 37.5, "off": 62.5}}}})
		keys = append(keys, key)
	}
	s.flag(map[string]any{"key": "op-variants", "kind": "string", "variants": []map[string]any{
		{"key": "red", "value": "#f00"}, {"key": "green", "value": "#0f0"}, {"key": "blue", "value": "#00f"}}})
	s.configure(nil, "op-variants", env, map[string]any{"enabled": true, "off_variant": "red",
		"rules": []map[string]any{{"id": "by-company", "conditions": []map[string]any{cond("company.plan", domain.OpEq, "enterprise")},
			"serve": map[string]any{"rollout": map[string]any{"weights": map[string]any{"green": 50, "blue": 50}, "bucket_by": "company.id"}}}},
		"default": map[string]any{"rollout": map[string]any{"weights": map[string]any{"red": 33.333, "green": 33.333, "blue": 33.334}}}})
	s.flag(map[string]any{"key": "op-number", "kind": "number", "variants": []map[string]any{
		{"key": "low", "value": 1.5}, {"key": "high", "value": 1e6}}})
	s.configure(nil, "op-number", env, map[string]any{"enabled": true, "off_variant": "low",
		"prerequisites": []map[string]any{{"flag": "op-text", "variant": "on"}},
		"rules":         []map[string]any{ruleOf("old", "high", cond("age", domain.OpGte, 40))}, "default": map[string]any{"variant": "low"}})
	s.flag(map[string]any{"key": "op-json", "kind": "json", "variants": []map[string]any{
		{"key": "a", "value": map[string]any{"limit": 10, "tags": []any{"x"}}}, {"key": "b", "value": []any{1, "two", nil}}}})
	s.configure(nil, "op-json", env, map[string]any{"enabled": false, "off_variant": "b", "default": map[string]any{"variant": "a"}})
	return append(keys, "op-variants", "op-number", "op-json", "op-missing")
}

// randomContext is a JSON object drawn from small pools, so that every rule both
// matches and fails for some contexts; some lack the targeting key or an attribute.
func randomContext(r *rand.Rand) []byte {
	pick := func(xs ...any) any { return xs[r.IntN(len(xs))] }
	m := map[string]any{}
	if r.IntN(20) != 0 {
		m["key"] = fmt.Sprintf("user-%d", r.IntN(5000))
	}
	set := func(name string, v any) {
		if r.IntN(6) != 0 {
			m[name] = v
		}
	}
	set("plan", pick("pro", "free", "team", 3, true))
	set("country", pick("DE", "FR", "US", "GB", "JP", 7))
	set("email", pick("admin@acme.com", "bob+test@example.org", "carol@acme.com", "dave@x.io", "root@host", "zed@q.q", ""))
	set("age", pick(17, 18, 20, 21, 39, 40, 61, "40", 18.5))
	set("score", pick(0.1, 0.5, 0.51, 2, "0.5"))
	set("app", map[string]any{"version": pick("2.0.0", "3.1.0", "3.2.0", "1.5.0-beta.1", "1.5.0", "v2", "not-a-version")})
	set("created", pick("2023-12-31T23:59:59Z", "2024-01-01T00:00:00Z", "2026-06-01T10:00:01Z", "2026-06-01T09:59:59Z", "yesterday"))
	set("company", map[string]any{"plan": pick("enterprise", "pro", nil), "id": pick("c1", "c2", "c3", 42)})
	set("tags", pick([]any{"beta", "x"}, []any{"alpha"}, []any{}, "beta"))
	b, _ := json.Marshal(m)
	return b
}

// TestSDKMatchesEvaluator: the Go SDK, evaluating in process from the definitions it
// downloaded, gives the evaluator's answer (value, variant, reason, rule, error) for
// 10,000 random contexts over flags that use every operator.
func TestSDKMatchesEvaluator(t *testing.T) {
	s := newStack(t, true)
	flags := operatorFlags(s, "staging")
	key := s.sdkKey("staging", "server")
	ctx := context.Background()
	c, err := switchyard.New(ctx, s.EvalURL, key, switchyard.WithStartTimeout(10*time.Second), switchyard.WithEventReporting(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	evaluator := &testinfra.Client{T: t, URL: s.EvalURL, Auth: "Bearer " + key}
	const contexts = 10_000
	seeds := rand.New(rand.NewPCG(1, 2))
	jobs := make(chan []byte)
	var mu sync.Mutex
	var mismatches []string
	compared := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for raw := range jobs {
				var ctxMap map[string]any
				if err := json.Unmarshal(raw, &ctxMap); err != nil {
					t.Error(err)
					return
				}
				r := evaluator.Do("POST", "/api/v1/evaluate", map[string]any{"context": json.RawMessage(raw), "flags": flags})
				var answer struct {
					Flags map[string]struct {
						Value     any    `json:"value"`
						Variant   string `json:"variant"`
						Reason    string `json:"reason"`
						RuleID    string `json:"rule_id"`
						ErrorCode string `json:"error_code"`
					} `json:"flags"`
				}
				if r.Status != 200 || json.Unmarshal(r.Body, &answer) != nil {
					t.Errorf("evaluator: %d %s", r.Status, r.Body)
					return
				}
				local := switchyard.Context{Attributes: ctxMap}
				if k, ok := ctxMap["key"].(string); ok {
					local.Key = k
				}
				for _, f := range flags {
					want := answer.Flags[f]
					got := c.Evaluate(f, &local)
					// Values compare as JSON, as they travel.
					gotValue, _ := json.Marshal(got.Value)
					wantValue, _ := json.Marshal(want.Value)
					if got.Variant != want.Variant || string(got.Reason) != want.Reason || got.RuleID != want.RuleID ||
						string(got.ErrorCode) != want.ErrorCode || !bytes.Equal(gotValue, wantValue) {
						mu.Lock()
						mismatches = append(mismatches, fmt.Sprintf("%s for %s: SDK %+v, evaluator %+v", f, raw, got, want))
						mu.Unlock()
					}
				}
				mu.Lock()
				compared++
				mu.Unlock()
			}
		})
	}
	for range contexts {
		jobs <- randomContext(seeds)
	}
	close(jobs)
	wg.Wait()
	if compared != contexts {
		t.Fatalf("compared %d contexts, want %d", compared, contexts)
	}
	if len(mismatches) > 0 {
		t.Fatalf("%d of %d answers differ; first: %s", len(mismatches), contexts*len(flags), mismatches[0])
	}
	t.Logf("%d contexts × %d flags: the SDK and the evaluator agree", contexts, len(flags))

}

// TestSDKLive: a change made through the admin API reaches a Go SDK client through the
// stream; the client rides through an evaluator restart (reconnecting, catching up on
// the change made while the evaluator was down) and never goes back to an older
// version. Its evaluation counts reach the evaluator's analytics.
func TestSDKLive(t *testing.T) {
	s := newStack(t, true)
	s.flag(map[string]any{"key": "live", "kind": "boolean"})
	s.configure(nil, "live", "staging", map[string]any{"enabled": true, "off_variant": "off", "default": map[string]any{"variant": "off"}})
	key := s.sdkKey("staging", "server")
	ctx := context.Background()
	c, err := switchyard.New(ctx, s.EvalURL, key, switchyard.WithStartTimeout(10*time.Second),
		switchyard.WithBackoff(50*time.Millisecond, 500*time.Millisecond), switchyard.WithFlushInterval(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	// What the client serves is watched all along: its version must never go back,
	// through changes, an outage and a restart.
	watching, stopWatch := context.WithCancel(ctx)
	backwards := make(chan string, 1)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		seen := c.Version()
		for watching.Err() == nil {
			if v := c.Version(); v < seen {
				backwards <- fmt.Sprintf("version %d after %d", v, seen)
				return
			} else {
				seen = v
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	user := &switchyard.Context{Key: "u1"}
	if c.Bool("live", user, true) {
		t.Fatal("initial value")
	}
	serves := func(want bool) func() bool { return func() bool { return c.Bool("live", user, !want) == want } }

	var lags []time.Duration
	for i := range 10 {
		want := i%2 == 0
		variant := map[bool]string{true: "on", false: "off"}[want]
		s.configure(nil, "live", "staging", map[string]any{"enabled": true, "off_variant": "off", "default": map[string]any{"variant": variant}})
		acked := time.Now()
		testinfra.Eventually(t, 5*time.Second, "the change through the stream", serves(want))
		lags = append(lags, time.Since(acked))
	}
	t.Logf("admin write acknowledged → SDK serves it: %v", lags)

	// The evaluator restarts; a change made while it is down arrives after it returns.
	s.eval.stop()
	s.configure(nil, "live", "staging", map[string]any{"enabled": true, "off_variant": "off", "default": map[string]any{"variant": "on"}})
	// Meanwhile the client serves the last definitions it has: the last change above
	// turned the flag off.
	if c.Bool("live", user, true) {
		t.Error("the client lost its definitions while the evaluator was down")
	}
	s.eval.restart(t)
	testinfra.Eventually(t, 15*time.Second, "the change made during the restart", serves(true))

	stopWatch()
	<-watched
	select {
	case msg := <-backwards:
		t.Errorf("the client went back: %s", msg)
	default:
	}

	// The SDK's evaluations are counted by the evaluator.
	testinfra.Eventually(t, 10*time.Second, "the SDK's counts in analytics", func() bool {
		r := s.api.Do("GET", "/api/v1/projects/"+project+"/flags/live/evaluations?environment=staging", nil)
		return r.Status == http.StatusOK && bytes.Contains(r.Body, []byte(`"count"`))
	})
}

// TestOpenFeatureProvider: the Switchyard provider through the OpenFeature Go SDK,
// against a real evaluator: it is ready, evaluates with the evaluator's answers, and
// announces a change made through the admin API as PROVIDER_CONFIGURATION_CHANGED
// naming the flag, after which the client serves the new value.
func TestOpenFeatureProvider(t *testing.T) {
	s := newStack(t, true)
	s.flag(map[string]any{"key": "of-flag", "kind": "string", "variants": []map[string]any{
		{"key": "a", "value": "alpha"}, {"key": "b", "value": "beta"}}})
	s.configure(nil, "of-flag", "staging", map[string]any{"enabled": true, "off_variant": "a",
		"rules":   []map[string]any{ruleOf("pro", "b", cond("plan", domain.OpEq, "pro"))},
		"default": map[string]any{"variant": "a"}})
	key := s.sdkKey("staging", "server")

	changes := make(chan openfeature.EventDetails, 16)
	handler := func(d openfeature.EventDetails) { changes <- d }
	openfeature.AddHandler(openfeature.ProviderConfigChange, &handler)
	defer openfeature.RemoveHandler(openfeature.ProviderConfigChange, &handler)
	if err := openfeature.SetNamedProviderAndWait("e2e", provider.New(s.EvalURL, key)); err != nil {
		t.Fatal(err)
	}
	defer openfeature.Shutdown()
	client := openfeature.NewClient("e2e")
	ctx := context.Background()
	pro := openfeature.NewEvaluationContext("u1", map[string]any{"plan": "pro"})
	d, err := client.StringValueDetails(ctx, "of-flag", "none", pro)
	if err != nil || d.Value != "beta" || d.Variant != "b" || d.Reason != openfeature.TargetingMatchReason {
		t.Fatalf("pro user: %+v %v", d, err)
	}
	if v, _ := client.StringValue(ctx, "of-flag", "none", openfeature.NewEvaluationContext("u2", nil)); v != "alpha" {
		t.Errorf("default: %q", v)
	}
	if _, err := client.BooleanValue(ctx, "of-flag", false, pro); err == nil {
		t.Error("a string flag read as a boolean gave no error")
	}

	s.configure(nil, "of-flag", "staging", map[string]any{"enabled": true, "off_variant": "a", "default": map[string]any{"variant": "b"}})
	select {
	case ev := <-changes:
		if !slices.Contains(ev.FlagChanges, "of-flag") {
			t.Errorf("configuration changed names %v, want of-flag", ev.FlagChanges)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no PROVIDER_CONFIGURATION_CHANGED")
	}
	if v, _ := client.StringValue(ctx, "of-flag", "none", openfeature.NewEvaluationContext("u2", nil)); v != "beta" {
		t.Errorf("after the change: %q", v)
	}
}

// TestSDKPollsWhenStreamRefused: a client whose stream is refused (the key's stream
// limit is reached) still follows changes, by polling the definitions.
func TestSDKPollsWhenStreamRefused(t *testing.T) {
	s := newStack(t, true, "STREAMS_PER_KEY=1")
	s.flag(map[string]any{"key": "busy", "kind": "boolean"})
	s.configure(nil, "busy", "staging", map[string]any{"enabled": true, "off_variant": "off", "default": map[string]any{"variant": "off"}})
	key := s.sdkKey("staging", "server")
	ctx := context.Background()
	first, err := switchyard.New(ctx, s.EvalURL, key, switchyard.WithEventReporting(false))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close(ctx)
	testinfra.Eventually(t, 5*time.Second, "the first client's stream", func() bool { return first.Status().Streaming })
	second, err := switchyard.New(ctx, s.EvalURL, key, switchyard.WithEventReporting(false),
		switchyard.WithPollInterval(200*time.Millisecond), switchyard.WithBackoff(100*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close(ctx)
	user := &switchyard.Context{Key: "u1"}
	s.configure(nil, "busy", "staging", map[string]any{"enabled": true, "off_variant": "off", "default": map[string]any{"variant": "on"}})
	testinfra.Eventually(t, 5*time.Second, "the streaming client to serve the change", func() bool { return first.Bool("busy", user, false) })
	testinfra.Eventually(t, 5*time.Second, "the polling client to serve the change", func() bool { return second.Bool("busy", user, false) })
	if second.Status().Streaming {
		t.Error("the second client streams past STREAMS_PER_KEY=1")
	}
}
