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
		at := m["environments"].(map[string]any)["production"].(map[string]any)["last_evaluated"]
		if (m["key"] == "f") != (at != nil) || at != m["last_evaluated"] {
			t.Errorf("%s: last_evaluated %v, overall %v", m["key"], at, m["last_evaluated"])
		}
		if m["stale"] != false {
			t.Errorf("%s: a flag created now is not stale yet: %v", m["key"], m["stale"])
		}
	}
}

// TestEvaluationSeries: with bucket=hour or day, the evaluations answer also carries
// every bucket of the range, empty ones included, with its counts by variant and
// reason; the other fields stay as they were.
func TestEvaluationSeries(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.flag("shop", "f")
	prod, _ := h.envVersion("shop", "production")
	staging, _ := h.envVersion("shop", "staging")
	day := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	for _, r := range []struct {
		env     string
		at      time.Duration
		variant string
		reason  string
		n       int
	}{
		{prod, 3*time.Hour + 5*time.Minute, "on", "TARGETING_MATCH", 5},
		{prod, 3*time.Hour + 59*time.Minute, "on", "TARGETING_MATCH", 2},
		{prod, 4 * time.Hour, "off", "DEFAULT", 3},
		{staging, 23*time.Hour + 59*time.Minute, "off", "DISABLED", 7},
		{prod, 24 * time.Hour, "on", "SPLIT", 100},
	} {
		if _, err := h.store.SQL().Exec(`INSERT INTO flag_evaluations (environment_id, flag_key, minute, variant, reason, count)
			VALUES ($1, 'f', $2, $3, $4, $5)`, r.env, day.Add(r.at), r.variant, r.reason, r.n); err != nil {
			t.Fatal(err)
		}
	}
	base := "/api/v1/projects/shop/flags/f/evaluations?since=" + day.Format(time.RFC3339)
	got := h.Must(200, "GET", base+"&until="+day.Add(24*time.Hour).Format(time.RFC3339)+"&bucket=hour", nil).JSON(t)
	series := got["series"].([]any)
	if len(series) != 24 || got["bucket"] != "hour" || len(got["counts"].([]any)) != 3 || got["last_evaluated"] == nil {
		t.Fatalf("a day by the hour: %d buckets: %v", len(series), got)
	}
	totals := map[int]float64{3: 7, 4: 3, 23: 7}
	for i, b := range series {
		m := b.(map[string]any)
		if m["start"] != day.Add(time.Duration(i)*time.Hour).Format(time.RFC3339) || m["total"] != totals[i] {
			t.Errorf("bucket %d: %v, want total %v", i, m, totals[i])
		}
	}
	three := series[3].(map[string]any)["counts"].([]any)
	if len(three) != 1 || three[0].(map[string]any)["variant"] != "on" || three[0].(map[string]any)["count"] != 7.0 {
		t.Errorf("03:00 counts %v", three)
	}
	// By the day, in production alone.
	days := h.Must(200, "GET", base+"&until="+day.Add(7*24*time.Hour).Format(time.RFC3339)+"&bucket=day&environment=production", nil).JSON(t)["series"].([]any)
	if len(days) != 7 || days[0].(map[string]any)["total"] != 10.0 || days[1].(map[string]any)["total"] != 100.0 || days[2].(map[string]any)["total"] != 0.0 {
		t.Errorf("a week by the day: %v", days)
	}
	// The dashboard's defaults: the last 24 hours by the hour, 7 days by the day; a
	// range that does not start on a bucket's start has one more.
	if n := len(h.Must(200, "GET", "/api/v1/projects/shop/flags/f/evaluations?bucket=hour", nil).JSON(t)["series"].([]any)); n != 24 && n != 25 {
		t.Errorf("default hours: %d buckets", n)
	}
	if n := len(h.Must(200, "GET", "/api/v1/projects/shop/flags/f/evaluations?bucket=day", nil).JSON(t)["series"].([]any)); n != 7 && n != 8 {
		t.Errorf("default days: %d buckets", n)
	}
	// Without a bucket, no series.
	if plain := h.Must(200, "GET", base, nil).JSON(t); plain["series"] != nil || plain["bucket"] != nil {
		t.Errorf("series without a bucket: %v", plain)
	}
	for _, bad := range []struct{ query, field string }{
		{"&bucket=week", "bucket"},
		{"&bucket=hour&until=" + day.Add(32*24*time.Hour).Format(time.RFC3339), "since"},
		{"&bucket=day&until=" + day.Add(800*24*time.Hour).Format(time.RFC3339), "since"},
	} {
		if f := h.Must(400, "GET", base+bad.query, nil).Fields(t); len(f) != 1 || f[0] != bad.field {
			t.Errorf("%s: fields %v, want %s", bad.query, f, bad.field)
		}
	}
	// 31 days by the hour is the most.
	h.Must(200, "GET", base+"&bucket=hour&until="+day.Add(31*24*time.Hour).Format(time.RFC3339), nil)
}

// TestStaleFlagListing: projects carry stale_after_days (30 unless set, 1 to 3650);
// the flag listing says which flags are stale, and filters on it.
func TestStaleFlagListing(t *testing.T) {
	h := newHarness(t)
	if p := h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"}).JSON(t); p["stale_after_days"] != 30.0 {
		t.Fatalf("default stale_after_days: %v", p)
	}
	if p := h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "quick", "stale_after_days": 7}).JSON(t); p["stale_after_days"] != 7.0 {
		t.Fatalf("stale_after_days on create: %v", p)
	}
	for _, bad := range []any{0, 3651, -1, 1.5, "30"} {
		h.Must(400, "POST", "/api/v1/projects", map[string]any{"key": "bad", "stale_after_days": bad})
		if f := h.Must(400, "PATCH", "/api/v1/projects/shop", map[string]any{"stale_after_days": bad}).Fields(t); len(f) != 1 || f[0] != "stale_after_days" {
			t.Errorf("%v: fields %v", bad, f)
		}
	}
	if p := h.Must(200, "PATCH", "/api/v1/projects/shop", map[string]any{"stale_after_days": 3650}).JSON(t); p["stale_after_days"] != 3650.0 {
		t.Fatalf("patched: %v", p)
	}
	if p := h.Must(200, "GET", "/api/v1/projects/shop", nil).JSON(t); p["stale_after_days"] != 3650.0 {
		t.Fatalf("read: %v", p)
	}
	h.Must(200, "PATCH", "/api/v1/projects/shop", map[string]any{"stale_after_days": 10})
	for _, f := range []string{"used", "unused", "new"} {
		h.flag("shop", f)
	}
	prod, _ := h.envVersion("shop", "production")
	for _, q := range []string{
		`UPDATE flags SET created_at = now() - interval '20 days' WHERE key IN ('used', 'unused')`,
		`INSERT INTO flag_last_evaluated (environment_id, flag_key, at) VALUES ('` + prod + `', 'used', now() - interval '2 days')`,
		`INSERT INTO flag_last_evaluated (environment_id, flag_key, at) VALUES ('` + prod + `', 'unused', now() - interval '15 days')`,
	} {
		if _, err := h.store.SQL().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	stale := map[string]any{}
	for _, it := range h.Must(200, "GET", "/api/v1/projects/shop/flags", nil).JSON(t)["items"].([]any) {
		m := it.(map[string]any)
		stale[m["key"].(string)] = m["stale"]
	}
	if stale["used"] != false || stale["unused"] != true || stale["new"] != false {
		t.Errorf("stale: %v", stale)
	}
	keys := func(query string) []string {
		var out []string
		for _, it := range h.Must(200, "GET", "/api/v1/projects/shop/flags?"+query, nil).JSON(t)["items"].([]any) {
			out = append(out, it.(map[string]any)["key"].(string))
		}
		return out
	}
	if got := keys("stale=true"); len(got) != 1 || got[0] != "unused" {
		t.Errorf("stale=true: %v", got)
	}
	if got := keys("stale=false"); len(got) != 2 {
		t.Errorf("stale=false: %v", got)
	}
	h.Must(400, "GET", "/api/v1/projects/shop/flags?stale=maybe", nil)
}
