package api_test

import (
	"testing"
	"time"
)

func TestEvaluationAnalytics(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.flag("shop", "f")
	h.flag("shop", "unused")
	prod, _ := h.envVersion("shop", "production")
	staging, _ := h.envVersion("shop", "staging")
	now := time.Now().UTC().Truncate(time.Minute)
	// What evaluators flush.
	for _, r := range []struct {
		env     string
		minute  time.Time
		variant string
		reason  string
		n       int
	}{
		{prod, now, "on", "TARGETING_MATCH", 5},
		{prod, now.Add(-time.Minute), "on", "TARGETING_MATCH", 2},
		{prod, now, "off", "DEFAULT", 3},
		{staging, now, "off", "DISABLED", 7},
		{prod, now.Add(-48 * time.Hour), "on", "SPLIT", 100},
	} {
		if _, err := h.store.SQL().Exec(`INSERT INTO flag_evaluations (environment_id, flag_key, minute, variant, reason, count)
			VALUES ($1, 'f', $2, $3, $4, $5)`, r.env, r.minute, r.variant, r.reason, r.n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.store.SQL().Exec(`INSERT INTO flag_last_evaluated (environment_id, flag_key, at) VALUES ($1, 'f', $2)`, prod, now); err != nil {
		t.Fatal(err)
	}

	got := h.Must(200, "GET", "/api/v1/projects/shop/flags/f/evaluations", nil).JSON(t)
	counts := map[string]float64{}
	for _, c := range got["counts"].([]any) {
		m := c.(map[string]any)
		counts[m["environment"].(string)+"/"+m["variant"].(string)+"/"+m["reason"].(string)] = m["count"].(float64)
	}
	want := map[string]float64{"production/on/TARGETING_MATCH": 7, "production/off/DEFAULT": 3, "staging/off/DISABLED": 7}
	if len(counts) != len(want) {
		t.Errorf("counts %v, want %v (the default range is the last 24 hours)", counts, want)
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: %v, want %v", k, counts[k], v)
		}
	}
	if last := got["last_evaluated"].(map[string]any); last["production"] == nil || last["staging"] != nil {
		t.Errorf("last evaluated: %v", last)
	}
	since := now.Add(-72 * time.Hour).Format(time.RFC3339)
	older := h.Must(200, "GET", "/api/v1/projects/shop/flags/f/evaluations?environment=production&since="+since, nil).JSON(t)
	if n := len(older["counts"].([]any)); n != 3 {
		t.Errorf("production over three days: %d series", n)
	}
	h.Must(400, "GET", "/api/v1/projects/shop/flags/f/evaluations?since=2030-01-01T00:00:00Z&until=2029-01-01T00:00:00Z", nil)
	h.Must(404, "GET", "/api/v1/projects/shop/flags/ghost/evaluations", nil)
	h.Must(404, "GET", "/api/v1/projects/shop/flags/f/evaluations?environment=nowhere", nil)

	// The flag listing shows when each flag was last evaluated, to spot unused ones.
	items := h.Must(200, "GET", "/api/v1/projects/shop/flags", nil).JSON(t)["items"].([]any)
	for _, it := range items {
		m := it.(map[string]any)
		at := m["environments"].(map[string]any)["production"].(map[string]any)["last_evaluated_at"]
		if (m["key"] == "f") != (at != nil) {
			t.Errorf("%s: last_evaluated_at %v", m["key"], at)
		}
	}
}
