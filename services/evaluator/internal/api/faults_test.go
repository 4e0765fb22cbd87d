package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/platform/rediscache"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
)

// stream evaluates a flag from several goroutines until stopped, counting failures:
// any answer but 200 with a value.
type stream struct {
	total, failures atomic.Int64
	last            atomic.Value
	stop            chan struct{}
	wg              sync.WaitGroup
	mu              sync.Mutex
	errors          []string
}

func (h *harness) stream(flag string, workers int) *stream {
	s := &stream{stop: make(chan struct{})}
	// Every answer of the stream is validated against the OpenAPI document too.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &testinfra.ValidatingTransport{T: h.t, Check: validate(h.t)}}
	body, _ := json.Marshal(map[string]any{"context": map[string]any{"targetingKey": "user-1"}})
	for range workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				select {
				case <-s.stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", h.srv.URL+"/ofrep/v1/evaluate/flags/"+flag, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+h.env.Key)
				res, err := client.Do(req)
				s.total.Add(1)
				if err != nil {
					s.fail(err.Error())
					continue
				}
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				var m map[string]any
				if res.StatusCode != 200 || json.Unmarshal(raw, &m) != nil {
					s.fail(fmt.Sprintf("%d %s", res.StatusCode, raw))
					continue
				}
				s.last.Store(m["value"])
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	return s
}

func (s *stream) fail(msg string) {
	s.failures.Add(1)
	s.mu.Lock()
	if len(s.errors) < 5 {
		s.errors = append(s.errors, msg)
	}
	s.mu.Unlock()
}

// finish stops the stream and checks that no evaluation failed.
func (s *stream) finish(t *testing.T) {
	t.Helper()
	close(s.stop)
	s.wg.Wait()
	if s.total.Load() < 100 {
		t.Errorf("only %d evaluations", s.total.Load())
	}
	if n := s.failures.Load(); n != 0 {
		t.Errorf("%d of %d evaluations failed: %v", n, s.total.Load(), s.errors)
	}
	t.Logf("%d evaluations, %d failed", s.total.Load(), s.failures.Load())
}

func (s *stream) serves(v any) func() bool { return func() bool { return s.last.Load() == v } }

func client(url string) *redis.Client {
	opt, _ := redis.ParseURL(url)
	return redis.NewClient(opt)
}

// TestRedisDown stops Redis during a stream of evaluations and changes a flag while it
// is down: nothing fails, the change is served from PostgreSQL, and changes announced
// after Redis returns arrive as before.
func TestRedisDown(t *testing.T) {
	srv := testinfra.StartRedis(t)
	h := newHarness(t, newDB(t), srv.URL(), options{maxAge: 200 * time.Millisecond, keyTTL: 200 * time.Millisecond})
	h.env.Flag(fixture.Bool("f", fixture.On()))
	s := h.stream("f", 4)
	testinfra.Eventually(t, 5*time.Second, "the first answers", s.serves(true))

	srv.Stop()
	testinfra.Eventually(t, 5*time.Second, "the evaluator to notice Redis is gone", func() bool { return !h.listener.Connected() })
	down := h.env.SetConfig("f", fixture.Off()) // its invalidation cannot be delivered now
	testinfra.Eventually(t, 5*time.Second, "the change served from PostgreSQL while Redis is down", s.serves(false))
	if r := h.Do("GET", "/readyz", nil); r.Status != 200 || r.JSON(t)["status"] != "degraded" {
		t.Errorf("readyz with Redis down: %d %s", r.Status, r.Body)
	}

	srv.Start()
	rdb := client(srv.URL())
	defer rdb.Close()
	if err := h.env.Publish(rdb, down); err != nil { // the outbox delivers what waited
		t.Fatal(err)
	}
	testinfra.Eventually(t, 5*time.Second, "the resubscription", h.listener.Connected)
	v := h.env.SetConfig("f", fixture.On())
	if err := h.env.Publish(rdb, v); err != nil {
		t.Fatal(err)
	}
	testinfra.Eventually(t, 5*time.Second, "a fresh value after Redis returned", s.serves(true))
	s.finish(t)
}

// TestPostgresDown stops PostgreSQL during a stream of evaluations: snapshots come from
// Redis and memory, SDK keys from memory; nothing fails; changes after it returns are
// served.
func TestPostgresDown(t *testing.T) {
	pg := testinfra.StartPostgres(t)
	pg.Migrate()
	env := fixture.New(t, pg.URL())
	redisURL := testinfra.RedisURL(t)
	h := startEvaluator(t, env, pg.URL(), redisURL, options{maxAge: 200 * time.Millisecond, keyTTL: 200 * time.Millisecond})
	env.Flag(fixture.Bool("f", fixture.On()))
	s := h.stream("f", 4)
	testinfra.Eventually(t, 5*time.Second, "the first answers", s.serves(true))

	// Past the maximum age, Redis confirms the snapshot in memory (or sends it).
	refreshed := func() int64 { return h.cache.Stats.RedisHits.Load() + h.cache.Stats.Revalidated.Load() }
	before := refreshed()
	pg.Stop()
	testinfra.Eventually(t, 10*time.Second, "a refresh from Redis while PostgreSQL is down", func() bool {
		return refreshed() > before
	})
	if r := h.Do("GET", "/readyz", nil); r.Status != 200 || r.JSON(t)["checks"].(map[string]any)["postgres"] != "unavailable" {
		t.Errorf("readyz with PostgreSQL down: %d %s", r.Status, r.Body)
	}

	pg.Start()
	// The fixture's pooled connections died with the server: let them go.
	env.DB.SetMaxIdleConns(0)
	env.DB.SetMaxIdleConns(2)
	rdb := client(redisURL)
	defer rdb.Close()
	v := env.SetConfig("f", fixture.Off())
	if err := env.Publish(rdb, v); err != nil {
		t.Fatal(err)
	}
	testinfra.Eventually(t, 5*time.Second, "a fresh value after PostgreSQL returned", s.serves(false))
	s.finish(t)
}

// TestBothDown stops Redis and PostgreSQL: the last snapshot in memory is served, and
// counted as stale.
func TestBothDown(t *testing.T) {
	pg := testinfra.StartPostgres(t)
	pg.Migrate()
	srv := testinfra.StartRedis(t)
	env := fixture.New(t, pg.URL())
	h := startEvaluator(t, env, pg.URL(), srv.URL(), options{maxAge: 100 * time.Millisecond, keyTTL: 100 * time.Millisecond})
	env.Flag(fixture.Bool("f", fixture.On()))
	s := h.stream("f", 4)
	testinfra.Eventually(t, 5*time.Second, "the first answers", s.serves(true))

	srv.Stop()
	pg.Stop()
	testinfra.Eventually(t, 10*time.Second, "the stale snapshot served and counted with both down", func() bool {
		return h.cache.Stats.StaleServed.Load() > 0
	})
	if r := h.Do("GET", "/readyz", nil); r.Status != 503 {
		t.Errorf("readyz with both down: %d %s", r.Status, r.Body)
	}

	pg.Start()
	srv.Start()
	// The fixture's pooled connections died with the server: let them go.
	env.DB.SetMaxIdleConns(0)
	env.DB.SetMaxIdleConns(2)
	rdb := client(srv.URL())
	defer rdb.Close()
	testinfra.Eventually(t, 5*time.Second, "the resubscription", h.listener.Connected)
	v := env.SetConfig("f", fixture.Off())
	if err := env.Publish(rdb, v); err != nil {
		t.Fatal(err)
	}
	testinfra.Eventually(t, 5*time.Second, "a fresh value after both returned", s.serves(false))
	s.finish(t)
}

// TestMissedMessages makes the evaluator miss an invalidation, deterministically: the
// evaluator's Redis user loses its channel permission (Redis disconnects its
// subscription and refuses it again), the change is announced by another user, and
// only then is the permission given back. After resubscribing, the evaluator drops
// what it held, so the change is served at once rather than after the one-minute
// maximum age.
func TestMissedMessages(t *testing.T) {
	srv := testinfra.StartRedis(t)
	h := newHarness(t, newDB(t), srv.URL(), options{maxAge: time.Minute, keyTTL: time.Minute})
	h.env.Flag(fixture.Bool("f", fixture.On()))
	if _, v := h.ofrep("f", map[string]any{"targetingKey": "u"}); v != true {
		t.Fatalf("value %v, want true", v)
	}
	ctx := context.Background()
	admin := client(srv.URL())
	defer admin.Close()
	// The announcer: a user of its own that may publish, as the admin service's is.
	if err := admin.Do(ctx, "ACL", "SETUSER", "announcer", "on", ">announcer-password", "~*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "ACL", "SETUSER", "default", "resetchannels").Err(); err != nil {
		t.Fatal(err)
	}
	testinfra.Eventually(t, 5*time.Second, "the subscription to be cut", func() bool { return !h.listener.Connected() })
	resubscribed := h.listener.Resubscribed.Load()

	opt, _ := redis.ParseURL(srv.URL())
	opt.Username, opt.Password = "announcer", "announcer-password"
	announcer := redis.NewClient(opt)
	defer announcer.Close()
	v := h.env.SetConfig("f", fixture.Off())
	if err := h.env.Publish(announcer, v); err != nil {
		t.Fatal(err)
	}
	if h.listener.Connected() || h.listener.Resubscribed.Load() != resubscribed {
		t.Fatal("the listener resubscribed while it had no permission: nothing was missed")
	}
	// Nothing told this evaluator: it still serves what it holds.
	if _, got := h.ofrep("f", map[string]any{"targetingKey": "u"}); got != true {
		t.Fatalf("served %v before the resubscription; the message was not missed", got)
	}

	if err := admin.Do(ctx, "ACL", "SETUSER", "default", "allchannels").Err(); err != nil {
		t.Fatal(err)
	}
	testinfra.Eventually(t, 10*time.Second, "the resubscription", func() bool { return h.listener.Resubscribed.Load() > resubscribed })
	testinfra.Eventually(t, 5*time.Second, "the change, well before the one-minute maximum age", func() bool {
		_, got := h.ofrep("f", map[string]any{"targetingKey": "u"})
		return got == false
	})
}

// TestRedisCluster runs the evaluator on a real 3-node Redis Cluster: snapshots are
// written back to it, and a change announced through it is served.
func TestRedisCluster(t *testing.T) {
	url := testinfra.StartRedisCluster(t)
	h := newHarness(t, newDB(t), url, options{maxAge: time.Minute, keyTTL: time.Minute})
	h.env.Flag(fixture.Bool("f", fixture.On()))
	if _, v := h.ofrep("f", map[string]any{"targetingKey": "u"}); v != true {
		t.Fatalf("value %v", v)
	}
	if _, version, err := rediscache.Load(t.Context(), h.rdb, h.env.ID); err != nil || version == 0 {
		t.Fatalf("the snapshot was not written back to the cluster: %v", err)
	}
	v := h.env.SetConfig("f", fixture.Off())
	if err := h.env.Publish(h.rdb, v); err != nil {
		t.Fatal(err)
	}
	testinfra.Eventually(t, 5*time.Second, "the change through the cluster", func() bool {
		_, got := h.ofrep("f", map[string]any{"targetingKey": "u"})
		return got == false
	})
	if h.listener.Received.Load() == 0 {
		t.Error("the invalidation did not arrive through the cluster")
	}
}

// TestStreamThroughRedisOutage: while Redis is down, invalidations cannot arrive, so
// the evaluator reads the versions of environments with open streams from PostgreSQL:
// streams keep announcing changes, in order, and after Redis returns as before.
func TestStreamThroughRedisOutage(t *testing.T) {
	srv := testinfra.StartRedis(t)
	h := newHarness(t, newDB(t), srv.URL(), defaults())
	h.env.Flag(fixture.Bool("f", fixture.On()))
	s := openStream(t, h.URL+"/api/v1/stream", "Authorization", "Bearer "+h.env.Key)
	seen, _ := strconv.ParseInt(s.next(t, 5*time.Second).id, 10, 64)
	expect := func(v int64, when string) {
		t.Helper()
		for seen < v {
			ev := s.next(t, 5*time.Second)
			n, _ := strconv.ParseInt(ev.id, 10, 64)
			if n <= seen {
				t.Fatalf("%s: version %d after %d", when, n, seen)
			}
			seen = n
		}
	}

	srv.Stop()
	testinfra.Eventually(t, 5*time.Second, "the evaluator to notice Redis is gone", func() bool { return !h.listener.Connected() })
	down := h.env.SetConfig("f", fixture.Off()) // no invalidation can be delivered
	expect(down, "during the outage")
	// The definitions served are the new ones: the announcement is kept.
	if r := h.Must(200, "GET", "/api/v1/flags", nil, "Accept-Encoding", "identity"); r.Header.Get("ETag") != strconv.Quote(strconv.FormatInt(down, 10)) {
		t.Errorf("definitions during the outage: ETag %s, want version %d", r.Header.Get("ETag"), down)
	}

	srv.Start()
	testinfra.Eventually(t, 5*time.Second, "the resubscription", h.listener.Connected)
	rdb := client(srv.URL())
	defer rdb.Close()
	v := h.env.SetConfig("f", fixture.On())
	if err := h.env.Publish(rdb, v); err != nil {
		t.Fatal(err)
	}
	expect(v, "after Redis returned")
}
