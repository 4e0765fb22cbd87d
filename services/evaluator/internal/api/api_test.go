package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/secret"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
)

var staff = domain.Rule{ID: "staff", Conditions: []domain.Condition{{Attribute: "email", Operator: domain.OpEndsWith, Values: []any{"@acme.com"}}},
	Serve: domain.Serve{Variant: "on"}}

func seed(h *harness) {
	h.env.Flag(fixture.Bool("new-checkout", domain.Config{Enabled: true, Rules: []domain.Rule{staff},
		Default: domain.Serve{Variant: "off"}, OffVariant: "off"}))
	h.env.Flag(fixture.Bool("checkout/v2/banner", fixture.On()))
	h.env.Flag(fixture.Bool("rollout", domain.Config{Enabled: true, OffVariant: "off",
		Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 50, "off": 50}}}}))
	h.env.Flag(domain.FlagConfig{
		Flag: domain.Flag{Key: "button-color", Kind: domain.KindString,
			Variants: []domain.Variant{{Key: "red", Value: "red"}, {Key: "blue", Value: "blue"}}},
		Config: domain.Config{Enabled: true, Default: domain.Serve{Variant: "blue"}, OffVariant: "red"}})
	off := fixture.On()
	off.Enabled = false
	h.env.Flag(fixture.Bool("disabled", off))
	archived := fixture.Bool("archived", fixture.On())
	archived.Flag.Archived = true
	h.env.Flag(archived)
}

func TestEvaluate(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	seed(h)
	all := h.Must(200, "POST", "/api/v1/evaluate", map[string]any{"context": map[string]any{"key": "user-42", "email": "a@acme.com"}}).JSON(t)
	flags := all["flags"].(map[string]any)
	if len(flags) != 5 {
		t.Fatalf("flags: %v", flags)
	}
	nc := flags["new-checkout"].(map[string]any)
	if nc["value"] != true || nc["reason"] != "TARGETING_MATCH" || nc["rule_id"] != "staff" || nc["variant"] != "on" {
		t.Errorf("new-checkout: %v", nc)
	}
	if d := flags["disabled"].(map[string]any); d["reason"] != "DISABLED" || d["value"] != false {
		t.Errorf("disabled: %v", d)
	}
	if _, ok := flags["archived"]; ok {
		t.Error("archived flags are not evaluated")
	}
	sub := h.Must(200, "POST", "/api/v1/evaluate", map[string]any{"context": map[string]any{}, "flags": []string{"button-color", "ghost"}}).JSON(t)["flags"].(map[string]any)
	if len(sub) != 2 || sub["ghost"].(map[string]any)["error_code"] != "FLAG_NOT_FOUND" || sub["button-color"].(map[string]any)["value"] != "blue" {
		t.Errorf("subset: %v", sub)
	}
	// The rollout needs a targeting key; fixed variants do not.
	nokey := h.Must(200, "POST", "/api/v1/evaluate", map[string]any{"context": map[string]any{"email": "x"}}).JSON(t)["flags"].(map[string]any)
	if nokey["rollout"].(map[string]any)["error_code"] != "TARGETING_KEY_MISSING" || nokey["button-color"].(map[string]any)["error_code"] != nil {
		t.Errorf("without a key: %v", nokey)
	}

	one := h.Must(200, "GET", "/api/v1/evaluate/new-checkout?key=user-1&email=b@acme.com", nil).JSON(t)
	if one["key"] != "new-checkout" || one["value"] != true {
		t.Errorf("single: %v", one)
	}
	h.Must(200, "GET", "/api/v1/evaluate/checkout/v2/banner", nil)
	h.Must(200, "GET", "/api/v1/evaluate/checkout%2Fv2%2Fbanner", nil)
	if r := h.Must(404, "GET", "/api/v1/evaluate/ghost", nil).JSON(t); r["error_code"] != "FLAG_NOT_FOUND" {
		t.Errorf("unknown flag: %v", r)
	}

	for _, bad := range []string{`{"context":[1]}`, `{"context":{"key":7}}`, `{"flags":"x"}`, `nope`, `{"context":{},"extra":1}`} {
		r := h.Must(400, "POST", "/api/v1/evaluate", bad)
		if r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: content type %q", bad, r.Header.Get("Content-Type"))
		}
	}
}

func TestSDKKeys(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	seed(h)
	revoked := h.env.NewKey(map[string]string{"revoked_at": "now()"})
	expired := h.env.NewKey(map[string]string{"expires_at": "now() - interval '1 second'"})
	rotating := h.env.NewKey(map[string]string{"expires_at": "now() + interval '1 hour'"})
	tests := []struct {
		name    string
		headers []string
		status  int
		detail  string
	}{
		{"bearer", nil, 200, ""},
		{"x-api-key", []string{"Authorization", "", "X-API-Key", h.env.Key}, 200, ""},
		{"in grace period", []string{"Authorization", "Bearer " + rotating}, 200, ""},
		{"missing", []string{"Authorization", ""}, 401, "missing SDK key"},
		{"malformed", []string{"Authorization", "Bearer hello"}, 401, "invalid SDK key"},
		{"unknown", []string{"Authorization", "Bearer sy_sdk_" + strings.Repeat("A", 43)}, 401, "invalid SDK key"},
		{"revoked", []string{"Authorization", "Bearer " + revoked}, 401, "revoked"},
		{"expired", []string{"Authorization", "Bearer " + expired}, 401, "expired"},
		{"an admin token never evaluates", []string{"Authorization", "Bearer " + strings.Repeat("t", 40)}, 401, "invalid SDK key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.Do("POST", "/api/v1/evaluate", map[string]any{"context": map[string]any{"key": "u"}}, tt.headers...)
			if r.Status != tt.status || !strings.Contains(string(r.Body), tt.detail) {
				t.Errorf("%d %s", r.Status, r.Body)
			}
			o := h.Do("POST", "/ofrep/v1/evaluate/flags/new-checkout", map[string]any{"context": map[string]any{}}, tt.headers...)
			if o.Status != tt.status || o.Header.Get("Content-Type") != "application/json" {
				t.Errorf("ofrep: %d %q %s", o.Status, o.Header.Get("Content-Type"), o.Body)
			}
			if tt.status != 200 {
				if m := o.JSON(t); m["key"] != "new-checkout" || m["errorCode"] != "GENERAL" {
					t.Errorf("ofrep error body: %s", o.Body)
				}
			}
		})
	}
	var used bool
	if err := h.env.DB.QueryRow(`SELECT last_used_at IS NOT NULL FROM sdk_keys WHERE prefix = $1`, h.env.Key[:13]).Scan(&used); err != nil || !used {
		t.Errorf("last_used_at not recorded: %v", err)
	}
}

func TestOFREP(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	seed(h)
	ok := h.Must(200, "POST", "/ofrep/v1/evaluate/flags/new-checkout", map[string]any{"context": map[string]any{"targetingKey": "u1", "email": "a@acme.com"}}).JSON(t)
	if ok["key"] != "new-checkout" || ok["value"] != true || ok["reason"] != "TARGETING_MATCH" || ok["variant"] != "on" {
		t.Errorf("success: %v", ok)
	}
	if md := ok["metadata"].(map[string]any); md["ruleId"] != "staff" {
		t.Errorf("metadata: %v", md)
	}
	// Keys with slashes, as the OpenFeature provider sends them: unescaped.
	if r := h.Must(200, "POST", "/ofrep/v1/evaluate/flags/checkout/v2/banner", map[string]any{}).JSON(t); r["key"] != "checkout/v2/banner" {
		t.Errorf("slash key: %v", r)
	}
	errs := []struct {
		name, flag string
		body       any
		status     int
		code       string
	}{
		{"not found", "ghost", map[string]any{"context": map[string]any{}}, 404, "FLAG_NOT_FOUND"},
		{"archived", "archived", map[string]any{"context": map[string]any{}}, 404, "FLAG_NOT_FOUND"},
		{"needs a key", "rollout", map[string]any{"context": map[string]any{"email": "x"}}, 400, "TARGETING_KEY_MISSING"},
		{"bad json", "rollout", "{", 400, "PARSE_ERROR"},
		{"context not an object", "rollout", map[string]any{"context": []int{1}}, 400, "INVALID_CONTEXT"},
		{"key not a string", "rollout", map[string]any{"context": map[string]any{"targetingKey": 5}}, 400, "INVALID_CONTEXT"},
	}
	for _, e := range errs {
		t.Run(e.name, func(t *testing.T) {
			r := h.Must(e.status, "POST", "/ofrep/v1/evaluate/flags/"+e.flag, e.body)
			m := r.JSON(t)
			if m["key"] != e.flag || m["errorCode"] != e.code || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%s %s", r.Header.Get("Content-Type"), r.Body)
			}
		})
	}
	// Only flags that need the key fail without one.
	if r := h.Must(200, "POST", "/ofrep/v1/evaluate/flags/button-color", map[string]any{"context": map[string]any{}}).JSON(t); r["value"] != "blue" {
		t.Errorf("no key needed: %v", r)
	}
	if r := h.Must(200, "POST", "/ofrep/v1/evaluate/flags/disabled", nil).JSON(t); r["reason"] != "DISABLED" || r["value"] != false {
		t.Errorf("disabled: %v", r)
	}

	// Bulk, its ETag and 304.
	ctx := map[string]any{"context": map[string]any{"targetingKey": "u1", "plan": "pro", "email": "x@y.z"}}
	bulk := h.Must(200, "POST", "/ofrep/v1/evaluate/flags", ctx)
	tag := bulk.Header.Get("ETag")
	flags := bulk.JSON(t)["flags"].([]any)
	if tag == "" || len(flags) != 5 {
		t.Fatalf("bulk %q: %s", tag, bulk.Body)
	}
	h.Must(304, "POST", "/ofrep/v1/evaluate/flags", ctx, "If-None-Match", tag)
	reordered := `{"context":{"email":"x@y.z","plan":"pro","targetingKey":"u1"}}`
	h.Must(304, "POST", "/ofrep/v1/evaluate/flags", reordered, "If-None-Match", tag)
	h.Must(200, "POST", "/ofrep/v1/evaluate/flags", map[string]any{"context": map[string]any{"targetingKey": "u2"}}, "If-None-Match", tag)
	v := h.env.Kill("button-color", true)
	if err := h.env.Publish(h.rdb, v); err != nil {
		t.Fatal(err)
	}
	testinfra.Eventually(t, 5*time.Second, "a new ETag after a change", func() bool {
		return h.Do("POST", "/ofrep/v1/evaluate/flags", ctx, "If-None-Match", tag).Status == 200
	})
	// Bulk lists errors inline.
	noKey := h.Must(200, "POST", "/ofrep/v1/evaluate/flags", map[string]any{"context": map[string]any{}}).JSON(t)["flags"].([]any)
	found := false
	for _, f := range noKey {
		m := f.(map[string]any)
		if m["key"] == "rollout" {
			found = m["errorCode"] == "TARGETING_KEY_MISSING"
		}
	}
	if !found {
		t.Errorf("bulk without key: %v", noKey)
	}
	h.Must(400, "POST", "/ofrep/v1/evaluate/flags", "[")
}

func TestAnalytics(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	seed(h)
	for range 3 {
		h.Must(200, "POST", "/api/v1/evaluate", map[string]any{"context": map[string]any{"key": "u", "email": "a@acme.com"}})
	}
	h.Must(200, "POST", "/ofrep/v1/evaluate/flags/new-checkout", map[string]any{"context": map[string]any{"targetingKey": "u"}})
	if err := h.counter.Flush(context.Background(), h.store); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	rows, err := h.env.DB.Query(`SELECT flag_key || '/' || variant || '/' || reason, sum(count) FROM flag_evaluations GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		counts[k] = n
	}
	if counts["new-checkout/on/TARGETING_MATCH"] != 3 || counts["new-checkout/off/DEFAULT"] != 1 || counts["disabled/off/DISABLED"] != 3 {
		t.Errorf("counts: %v", counts)
	}
	var last int
	if err := h.env.DB.QueryRow(`SELECT count(*) FROM flag_last_evaluated`).Scan(&last); err != nil || last != 5 {
		t.Errorf("last evaluated rows: %d %v", last, err)
	}
	// A second flush adds to the same minute.
	h.Must(200, "POST", "/ofrep/v1/evaluate/flags/new-checkout", map[string]any{"context": map[string]any{"targetingKey": "u"}})
	if err := h.counter.Flush(context.Background(), h.store); err != nil {
		t.Fatal(err)
	}
	var n int64
	_ = h.env.DB.QueryRow(`SELECT sum(count) FROM flag_evaluations WHERE flag_key = 'new-checkout' AND reason = 'DEFAULT'`).Scan(&n)
	if n != 2 {
		t.Errorf("after two flushes: %d", n)
	}
}

// TestFailedAuthenticationLimit: past the limit of failed authentications, an address
// gets 429 with Retry-After (problem+json natively, OFREP's shape on OFREP) from every
// replica, since the count lives in Redis; a key that worked before keeps working.
func TestFailedAuthenticationLimit(t *testing.T) {
	db := newDB(t)
	opt := defaults()
	opt.authFailures = 4
	h := newHarness(t, db, testinfra.RedisURL(t), opt)
	seed(h)
	other := startEvaluator(t, h.env, db, testinfra.RedisURL(t), opt)
	body := map[string]any{"context": map[string]any{"key": "u"}}
	h.Must(200, "POST", "/api/v1/evaluate", body) // the good key is confirmed
	for i := range 4 {
		guess, _, _ := secret.SDKKey.New()
		c := h.Client
		if i%2 == 1 {
			c = other.Client
		}
		c.Must(401, "POST", "/api/v1/evaluate", body, "Authorization", "Bearer "+guess)
	}
	guess, _, _ := secret.SDKKey.New()
	for _, c := range []*testinfra.Client{h.Client, other.Client} {
		r := c.Must(429, "POST", "/api/v1/evaluate", body, "Authorization", "Bearer "+guess)
		if r.Header.Get("Retry-After") == "" || r.JSON(t)["retry_after"] == nil {
			t.Errorf("429 without Retry-After: %v %s", r.Header, r.Body)
		}
		o := c.Must(429, "POST", "/ofrep/v1/evaluate/flags/new-checkout", body, "Authorization", "Bearer "+guess)
		if o.Header.Get("Retry-After") == "" || o.JSON(t)["errorCode"] != "GENERAL" {
			t.Errorf("OFREP 429: %v %s", o.Header, o.Body)
		}
	}
	h.Must(200, "POST", "/api/v1/evaluate", body)
}
