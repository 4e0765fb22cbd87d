package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/pkg/metrics"
	"github.com/switchyard/switchyard/services/evaluator/internal/analytics"
	"github.com/switchyard/switchyard/services/evaluator/internal/snapshots"
)

// cacheCollector reports the snapshot cache's counters at scrape time.
type cacheCollector struct {
	cache   *snapshots.Cache
	lookups *prometheus.Desc
	errors  *prometheus.Desc
	stale   *prometheus.Desc
	dropped *prometheus.Desc
	held    *prometheus.Desc
}

func newCacheCollector(c *snapshots.Cache) *cacheCollector {
	name := func(n string) string { return prometheus.BuildFQName(metrics.Namespace, "evaluator", n) }
	return &cacheCollector{
		cache:   c,
		lookups: prometheus.NewDesc(name("snapshot_lookups_total"), "Snapshot lookups by the level that answered them (memory, redis, postgres).", []string{"level"}, nil),
		errors:  prometheus.NewDesc(name("dependency_errors_total"), "Failed calls to a dependency on the evaluation path.", []string{"dependency"}, nil),
		stale:   prometheus.NewDesc(name("snapshot_stale_served_total"), "Lookups answered with a stale snapshot because Redis and PostgreSQL both failed.", nil, nil),
		dropped: prometheus.NewDesc(name("snapshot_stale_loads_dropped_total"), "Loads not kept because an invalidation announced a newer version meanwhile.", nil, nil),
		held:    prometheus.NewDesc(name("snapshots_held"), "Environment snapshots held in memory.", nil, nil),
	}
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.lookups, c.errors, c.stale, c.dropped, c.held} {
		ch <- d
	}
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := &c.cache.Stats
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.lookups, s.MemoryHits.Load(), "memory")
	counter(c.lookups, s.RedisHits.Load(), "redis")
	counter(c.lookups, s.DatabaseLoads.Load(), "postgres")
	counter(c.errors, s.RedisErrors.Load(), "redis")
	counter(c.errors, s.DatabaseErrors.Load(), "postgres")
	counter(c.stale, s.StaleServed.Load())
	counter(c.dropped, s.Dropped.Load())
	ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, float64(c.cache.Len()))
}

// registerMetrics registers the evaluator's own metrics.
func registerMetrics(reg *prometheus.Registry, cache *snapshots.Cache, listener *snapshots.Listener, counter *analytics.Counter) {
	reg.MustRegister(newCacheCollector(cache))
	metrics.CounterFunc(reg, "evaluator", "invalidations_received_total", "Invalidation messages received.", metrics.Atomic(&listener.Received))
	metrics.CounterFunc(reg, "evaluator", "invalidation_resubscriptions_total", "Resubscriptions to the invalidation channel after a lost connection.", metrics.Atomic(&listener.Resubscribed))
	metrics.GaugeFunc(reg, "evaluator", "invalidation_channel_up", "1 while subscribed to the invalidation channel.", func() float64 {
		if listener.Connected() {
			return 1
		}
		return 0
	})
	metrics.CounterFunc(reg, "evaluator", "analytics_dropped_total", "Evaluations not counted because the series limit was reached.", metrics.Atomic(&counter.Dropped))
	evaluations := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: "evaluator", Name: "evaluations_total",
		Help: "Evaluations by environment, flag, variant and reason (added at each analytics flush).",
	}, []string{"environment", "flag", "variant", "reason"})
	reg.MustRegister(evaluations)
	counter.OnFlush = func(b analytics.Batch) {
		for s, n := range b.Counts {
			evaluations.WithLabelValues(s.EnvironmentID, s.FlagKey, s.Variant, s.Reason).Add(float64(n))
		}
	}
}
