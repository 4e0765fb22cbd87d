package api_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/platform/rediscache"
	"github.com/switchyard/switchyard/pkg/testinfra"
)

// TestConcurrentConfigWrites sends 50 writes carrying the same version at once: exactly
// one wins, the others get 409, and the audit trail records exactly the winners.
func TestConcurrentConfigWrites(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.flag("shop", "f")
	const writers = 50
	path := "/api/v1/projects/shop/flags/f/environments/production"
	statuses := make([]int, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			body := onConfig(1)
			body["rules"] = []map[string]any{{"id": fmt.Sprintf("writer-%d", i), "conditions": []any{}, "serve": map[string]any{"variant": "on"}}}
			statuses[i] = h.Do("PUT", path, body).Status
		}()
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[200] != 1 || count[409] != writers-1 {
		t.Fatalf("statuses %v: want one 200 and %d 409s", count, writers-1)
	}
	audited := len(h.Must(200, "GET", "/api/v1/audit?action=config.update", nil).JSON(t)["items"].([]any))
	if audited != count[200] {
		t.Errorf("%d audit rows for %d successful writes", audited, count[200])
	}
	if v := h.Must(200, "GET", path, nil).JSON(t)["version"]; v != float64(2) {
		t.Errorf("version %v, want 2", v)
	}
}

// subscribe listens to the invalidation channel of a Redis.
func subscribe(t *testing.T, url string) <-chan rediscache.Invalidation {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	sub := rdb.Subscribe(context.Background(), rediscache.Channel)
	if _, err := sub.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := make(chan rediscache.Invalidation, 1000)
	go func() {
		for msg := range sub.Channel() {
			if inv, err := rediscache.ParseInvalidation(msg.Payload); err == nil {
				out <- inv
			}
		}
	}()
	t.Cleanup(func() { sub.Close(); rdb.Close() })
	return out
}

// await waits for an invalidation of env at version or later.
func await(t *testing.T, ch <-chan rediscache.Invalidation, env string, version int64) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case inv := <-ch:
			if inv.EnvironmentID == env && inv.Version >= version {
				return
			}
		case <-timeout:
			t.Fatalf("no invalidation of %s at version %d", env, version)
		}
	}
}

// TestInvalidationOnCommit checks that a change fences Redis and publishes the
// environment's new version.
func TestInvalidationOnCommit(t *testing.T) {
	h := newHarness(t)
	ch := subscribe(t, h.redisURL)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.flag("shop", "f")
	prod, v := h.envVersion("shop", "production")
	h.Must(200, "PUT", "/api/v1/projects/shop/flags/f/environments/production", onConfig(1))
	await(t, ch, prod, v+1)
	if _, now := h.envVersion("shop", "production"); now != v+1 {
		t.Fatalf("version %d, want %d", now, v+1)
	}
	fence, err := rediscache.Fenced(context.Background(), h.rdb, prod)
	if err != nil || fence != v+1 {
		t.Errorf("fence %d %v, want %d", fence, err, v+1)
	}
	// Deleting an environment still invalidates it.
	staging, sv := h.envVersion("shop", "staging")
	h.Must(204, "DELETE", "/api/v1/projects/shop/environments/staging", nil)
	await(t, ch, staging, sv+1)
	testinfra.Eventually(t, 5*time.Second, "an empty outbox", func() bool { return h.outboxDepth() == 0 })
}

// TestRedisDownDuringWrites stops Redis, writes, restarts the admin service while Redis
// is still down, then starts Redis: every write succeeds, and every environment's
// newest version reaches Redis.
func TestRedisDownDuringWrites(t *testing.T) {
	srv := testinfra.StartRedis(t)
	db := testinfra.PostgresDB(t)
	h1 := startHarness(t, db, srv.URL(), true)
	h1.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	for i := range 3 {
		h1.flag("shop", fmt.Sprintf("f%d", i))
	}
	testinfra.Eventually(t, 5*time.Second, "the setup's invalidations", func() bool { return h1.outboxDepth() == 0 })

	srv.Stop()
	envs := []string{"development", "staging", "production"}
	writes := 0
	for round := range 4 {
		for i := range 3 {
			for _, e := range envs {
				h1.Must(200, "POST", fmt.Sprintf("/api/v1/projects/shop/flags/f%d/environments/%s/toggle", i, e), nil)
				writes++
			}
		}
		if round == 1 {
			h1.Must(200, "POST", "/api/v1/projects/shop/flags/f0/kill", nil)
			writes++
		}
	}
	if depth := h1.outboxDepth(); depth == 0 {
		t.Fatal("with Redis down, the invalidations must wait in the outbox")
	}
	ready := h1.Do("GET", "/readyz", nil)
	if ready.Status != 503 || ready.JSON(t)["checks"].(map[string]any)["redis"] != "unavailable" {
		t.Errorf("readyz with Redis down: %d %s", ready.Status, ready.Body)
	}
	h1.stop() // the admin service restarts while Redis is down

	srv.Start()
	ch := subscribe(t, srv.URL())
	h2 := startHarness(t, db, srv.URL(), false)
	testinfra.Eventually(t, 15*time.Second, "the outbox to drain", func() bool { return h2.outboxDepth() == 0 })
	for _, e := range envs {
		id, v := h2.envVersion("shop", e)
		await(t, ch, id, v)
		fence, err := rediscache.Fenced(context.Background(), h2.rdb, id)
		if err != nil || fence != v {
			t.Errorf("%s: fence %d %v, want %d", e, fence, err, v)
		}
	}
	if got := len(h2.Must(200, "GET", "/api/v1/audit?limit=200&action=config.toggle", nil).JSON(t)["items"].([]any)); got != writes-1 {
		t.Errorf("%d toggles audited, want %d", got, writes-1)
	}
}
