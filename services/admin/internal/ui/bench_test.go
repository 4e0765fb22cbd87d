package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// benchFlags fills project bench with 10,000 flags (the most a project may hold), each
// with a configuration in every environment, straight into the database: creating
// them one by one through the service would take minutes, and the pages only read.
func benchFlags(b *testing.B, h *harness) {
	b.Helper()
	h.project("bench")
	_, err := h.app.Store.SQL().Exec(`
		INSERT INTO flags (project_id, key, name, description, kind, variants, tags, salt)
		SELECT p.id, 'flag-' || lpad(i::text, 5, '0'), 'Flag number ' || i, 'A flag of the benchmark, number ' || i,
			'boolean', '[{"key":"on","value":true},{"key":"off","value":false}]',
			CASE WHEN i % 3 = 0 THEN '["web","checkout"]'::jsonb ELSE '["api"]'::jsonb END, md5(i::text)
		FROM projects p, generate_series(1, 10000) i WHERE p.key = 'bench';
		INSERT INTO flag_configs (flag_id, environment_id, enabled, rules, default_serve, off_variant, prerequisites)
		SELECT f.id, e.id, (hashtext(f.key || e.key) % 2 = 0),
			'[{"id":"staff","conditions":[{"attribute":"email","operator":"ends_with","values":["@acme.com"]}],"serve":{"variant":"on"}}]',
			'{"rollout":{"weights":{"on":25,"off":75}}}', 'off', '[]'
		FROM flags f JOIN environments e ON e.project_id = f.project_id JOIN projects p ON p.id = f.project_id WHERE p.key = 'bench';
		ANALYZE flags; ANALYZE flag_configs;`)
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPages renders the dashboard's pages with 10,000 flags in the project,
// through the whole stack (HTTP, session, service, PostgreSQL, templates), and reports
// the 95th percentile and the bytes of HTML per page beside ns/op.
//
//	scripts/test -run '^$' -bench BenchmarkPages -benchtime 200x ./services/admin/internal/ui/
func BenchmarkPages(b *testing.B) {
	h := newHarness(b)
	benchFlags(b, h)
	admin := h.admin("root@example.com")
	for _, pg := range []struct{ name, path string }{
		{"flag-list", "/projects/bench/flags"},
		{"flag-list-page-100", "/projects/bench/flags?cursor=ZmxhZy0wNTAwMA"}, // after flag-05000
		{"flag-list-search", "/projects/bench/flags?q=number+99"},
		{"flag-list-tag", "/projects/bench/flags?tag=checkout"},
		{"flag", "/projects/bench/flags/flag-05000?env=production"},
		{"flag-history", "/projects/bench/flags/flag-05000/history"},
		{"flag-edit", "/projects/bench/flags/flag-05000/edit"},
		{"new-flag", "/projects/bench/new-flag"},
		{"history", "/projects/bench/history"},
		{"settings", "/projects/bench/settings"},
		{"environment", "/projects/bench/environments/production"},
		{"members", "/projects/bench/members"},
		{"tokens", "/projects/bench/tokens"},
		{"users", "/users"},
		{"playground", "/projects/bench/playground"},
		{"playground-explain-one-flag", "POST /projects/bench/playground"},
	} {
		b.Run(pg.name, func(b *testing.B) {
			durations := make([]time.Duration, 0, b.N)
			var size int
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				var p page
				if path, ok := strings.CutPrefix(pg.path, "POST "); ok {
					// Explaining one flag compiles the whole environment, as an evaluator's
					// cold load does: the playground's heavy case.
					p = admin.post(path, url.Values{"env": {"production"}, "flags": {"flag-05000"}, "mode": {"rows"},
						"ctx[0].key": {"key"}, "ctx[0].value": {"user-1"}, "op": {"run"}})
				} else {
					p = admin.get(pg.path)
				}
				durations = append(durations, time.Since(start))
				if p.Status != http.StatusOK {
					b.Fatalf("%s: %d", pg.path, p.Status)
				}
				size = len(p.Body)
			}
			b.StopTimer()
			slices.Sort(durations)
			p95 := durations[len(durations)*95/100]
			b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(size), "html-bytes")
		})
	}
}

// TestBudgets: the flag list's page stays under 100 KB of HTML with 50 flags in
// ten environments, and the stylesheet and script together under 60 KB.
func TestBudgets(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	for i := range 7 {
		h.api.Must(201, "POST", "/api/v1/projects/shop/environments", map[string]any{"key": fmt.Sprintf("region-%d", i), "protected": i%2 == 0})
	}
	for i := range 55 {
		h.api.Must(201, "POST", "/api/v1/projects/shop/flags", map[string]any{"key": fmt.Sprintf("checkout-experiment-%03d", i),
			"kind": "boolean", "name": fmt.Sprintf("Checkout experiment number %d", i), "tags": []string{"web", "checkout", "team-payments"}})
	}
	admin := h.admin("root@example.com")
	p := admin.must(200, "/projects/shop/flags")
	if len(p.Body) > 100<<10 {
		t.Errorf("the flag list's page is %d bytes with 10 environments, over 100 KB", len(p.Body))
	}
	t.Logf("flag list, 50 flags × 10 environments: %d bytes of HTML", len(p.Body))
	var assets int
	for _, name := range []string{"app.css", "app.js"} {
		r := admin.get("/static/" + name)
		if r.Status != 200 || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: %d %v", name, r.Status, r.Header)
		}
		assets += len(r.Body)
	}
	t.Logf("JS + CSS: %d bytes", assets)
	if assets > 60<<10 {
		t.Errorf("JS + CSS are %d bytes, over 60 KB", assets)
	}
}
