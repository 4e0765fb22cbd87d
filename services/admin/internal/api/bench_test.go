package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkConfigWrite replaces flags' configurations through the whole stack: HTTP on
// a loopback listener, authentication with an API token owned by a developer (token,
// owner and grants looked up as in production), the service's checks, the write with
// its audit row and outbox row in PostgreSQL, and the outbox worker fencing Redis
// after each commit. sequential is one writer (p50-ms is its median latency);
// concurrent is eight writers, each on its own flag of one environment (writes/s).
// Every write changes what is stored; the end checks the values, versions and audit
// rows.
//
//	RACE=0 scripts/test -run '^$' -bench ConfigWrite -benchtime 2000x ./services/admin/internal/api/
func BenchmarkConfigWrite(b *testing.B) {
	h := newHarness(b)
	h.Check = nil // the benchmark measures the service, not the document's validator
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "bench", "name": "Bench"})
	const writers = 8
	for i := range writers {
		h.flag("bench", fmt.Sprintf("flag-%d", i))
	}
	dev := h.user("dev@example.com", false)
	h.Must(200, "PUT", "/api/v1/projects/bench/members/"+dev, map[string]any{"role": "developer"})
	tok := h.as(h.login("dev@example.com")).Must(201, "POST", "/api/v1/tokens",
		map[string]any{"name": "ci", "project": "bench", "role": "developer"}).JSON(b)["token"].(string)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * writers}}
	versions := make([]int64, writers) // each flag's stored version, as the last write answered
	for i := range versions {
		versions[i] = 1
	}
	var written sync.Map // flag → the last rule value written

	// write replaces flag i's configuration in staging with one that targets value.
	write := func(i int, value string) error {
		body, _ := json.Marshal(map[string]any{"enabled": true, "off_variant": "off", "version": versions[i],
			"default": map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 25, "off": 75}}},
			"rules": []map[string]any{{"id": "beta", "serve": map[string]any{"variant": "on"},
				"conditions": []map[string]any{{"attribute": "email", "operator": "ends_with", "values": []string{value}}}}}})
		req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/api/v1/projects/bench/flags/flag-%d/environments/staging", h.srv.URL, i), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("flag-%d: %d %s", i, res.StatusCode, raw)
		}
		var out struct{ Version int64 }
		if err := json.Unmarshal(raw, &out); err != nil || out.Version != versions[i]+1 {
			return fmt.Errorf("flag-%d: version %d after %d (%v): %s", i, out.Version, versions[i], err, raw)
		}
		versions[i] = out.Version
		written.Store(i, value)
		return nil
	}
	total := 0
	b.Run("sequential", func(b *testing.B) {
		durations := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for n := range b.N {
			start := time.Now()
			if err := write(0, fmt.Sprintf("@s%d.example.com", n)); err != nil {
				b.Fatal(err)
			}
			durations = append(durations, time.Since(start))
		}
		b.StopTimer()
		total += b.N
		slices.Sort(durations)
		b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "p50-ms")
	})
	b.Run("concurrent", func(b *testing.B) {
		var wg sync.WaitGroup
		errs := make([]error, writers)
		b.ResetTimer()
		start := time.Now()
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := w; n < b.N; n += writers {
					if err := write(w, fmt.Sprintf("@c%d.example.com", n)); err != nil {
						errs[w] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		total += b.N
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	})

	// The work was done: each flag holds its last value at the version its writes
	// reached, one audit row per write, and staging's version moved once per write.
	for i := range writers {
		want, ok := written.Load(i)
		if !ok {
			continue
		}
		cfg := h.Must(200, "GET", fmt.Sprintf("/api/v1/projects/bench/flags/flag-%d/environments/staging", i), nil).JSON(b)
		rule := cfg["rules"].([]any)[0].(map[string]any)
		if got := rule["conditions"].([]any)[0].(map[string]any)["values"].([]any)[0]; got != want || int64(cfg["version"].(float64)) != versions[i] {
			b.Fatalf("flag-%d holds %v at version %v, want %v at %d", i, got, cfg["version"], want, versions[i])
		}
	}
	var audited, moved int
	if err := h.store.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'config.update' AND project_key = 'bench'`).Scan(&audited); err != nil {
		b.Fatal(err)
	}
	if err := h.store.SQL().QueryRow(`SELECT e.version - 1 - (SELECT count(*) FROM flags f WHERE f.project_id = p.id)
		FROM environments e JOIN projects p ON p.id = e.project_id WHERE p.key = 'bench' AND e.key = 'staging'`).Scan(&moved); err != nil {
		b.Fatal(err)
	}
	if audited != total || moved != total {
		b.Fatalf("%d writes, %d audit rows, staging moved %d times", total, audited, moved)
	}
}
