package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// testOutboxDelivery: one round delivers each environment once, at its newest version
// (older invalidations coalesce); a failed round keeps every invalidation for a retry
// after a backoff; two replicas delivering at once skip each other's rows.
func testOutboxDelivery(t *testing.T, c *contract) {
	c.project("shop")
	c.flag("shop", "f")
	c.pending()
	toggle := func(env string) {
		t.Helper()
		must(c.s.UpdateConfig(ctx, c.o, domain.ActionConfigToggle, "shop", "f", env, nil,
			func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
				cfg := st.Config
				cfg.Enabled = !cfg.Enabled
				return cfg, nil
			}))(t)
	}
	toggle("production")
	toggle("production")
	toggle("staging")
	envs := c.envs("shop")

	// Redis is down: nothing is delivered, everything is kept, and backs off.
	var tried []domain.Invalidation
	rep, err := c.s.DeliverOutbox(ctx, 100, func(_ context.Context, inv domain.Invalidation) error {
		tried = append(tried, inv)
		return errors.New("redis down")
	})
	ok(t, err)
	if rep.Delivered != 0 || rep.Failed != 3 || len(tried) != 1 {
		t.Fatalf("a failing round: %+v after %d attempts; want 3 kept after 1 attempt", rep, len(tried))
	}
	rep, err = c.s.DeliverOutbox(ctx, 100, func(context.Context, domain.Invalidation) error {
		t.Error("delivered during the backoff")
		return nil
	})
	ok(t, err)
	if rep != (domain.DeliveryReport{}) {
		t.Fatalf("a round during the backoff: %+v", rep)
	}
	time.Sleep(250 * time.Millisecond)

	// Two replicas at once: the one that holds the rows delivers them; the other skips
	// them rather than waiting or delivering twice.
	holding, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	var first domain.DeliveryReport
	delivered := map[string]int64{}
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		once := sync.Once{}
		first, err = c.s.DeliverOutbox(ctx, 100, func(_ context.Context, inv domain.Invalidation) error {
			once.Do(func() { close(holding); <-release })
			mu.Lock()
			delivered[inv.EnvironmentID] = inv.Version
			mu.Unlock()
			return nil
		})
	}()
	<-holding
	other, err2 := c.s.DeliverOutbox(ctx, 100, func(context.Context, domain.Invalidation) error {
		t.Error("a second replica delivered rows the first holds")
		return nil
	})
	close(release)
	wg.Wait()
	ok(t, err)
	ok(t, err2)
	if other != (domain.DeliveryReport{}) {
		t.Errorf("the second replica: %+v", other)
	}
	if first.Delivered != 2 || first.Coalesced != 1 || first.Failed != 0 {
		t.Fatalf("the first replica: %+v, want 2 delivered, 1 coalesced", first)
	}
	if delivered[envs["production"].ID] != envs["production"].Version || delivered[envs["staging"].ID] != envs["staging"].Version {
		t.Fatalf("delivered %v, want each environment at its current version", delivered)
	}
	if got := c.pending(); len(got) != 0 {
		t.Fatalf("left after delivery: %v", got)
	}
}
