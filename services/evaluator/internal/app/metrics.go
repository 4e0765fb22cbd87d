package app

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/pkg/platform/metrics"
	"github.com/switchyard/switchyard/services/evaluator/internal/analytics"
	"github.com/switchyard/switchyard/services/evaluator/internal/snapshots"
	"github.com/switchyard/switchyard/services/evaluator/internal/streams"
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
func registerMetrics(reg *prometheus.Registry, cache *snapshots.Cache, listener *snapshots.Listener, counter *analytics.Counter, limits seriesLimits) {
	reg.MustRegister(newCacheCollector(cache))
	metrics.CounterFunc(reg, "evaluator", "snapshot_revalidations_total", "Snapshots past their maximum age that Redis confirmed as current, without a reload.", metrics.Atomic(&cache.Stats.Revalidated))
	metrics.CounterFunc(reg, "evaluator", "invalidations_received_total", "Invalidation messages received.", metrics.Atomic(&listener.Received))
	metrics.CounterFunc(reg, "evaluator", "invalidation_resubscriptions_total", "Resubscriptions to the invalidation channel after a lost connection.", metrics.Atomic(&listener.Resubscribed))
	metrics.GaugeFunc(reg, "evaluator", "invalidation_channel_up", "1 while subscribed to the invalidation channel.", func() float64 {
		if listener.Connected() {
			return 1
		}
		return 0
	})
	metrics.CounterFunc(reg, "evaluator", "analytics_dropped_total", "Evaluations not counted because the series limit was reached.", metrics.Atomic(&counter.Dropped))
	evaluations := newEvaluationSeries(limits, time.Now)
	reg.MustRegister(evaluations)
	counter.OnFlush = evaluations.add
}

// seriesLimits bound evaluator_evaluations_total.
type seriesLimits struct {
	max int           // series kept (METRICS_MAX_FLAG_SERIES)
	ttl time.Duration // a series without evaluations for this long is dropped (METRICS_FLAG_SERIES_TTL)
}

// overflowLabel stands for every environment, flag and variant past the series limit.
const overflowLabel = "_other"

type seriesKey struct{ environment, flag, variant, reason string }

type seriesValue struct {
	count float64
	seen  time.Time // the last flush that counted into it
}

// evaluationSeries is evaluator_evaluations_total{environment,flag,variant,reason}.
// Tenants make environments, flags and variants at will, and every series costs memory
// here and in Prometheus, so the number kept is capped: past the cap, evaluations are
// counted under environment, flag and variant "_other" (by reason, a closed set), and
// counted again in evaluation_series_overflow_total. A series that counts nothing for
// the TTL (its flag deleted, archived or no longer evaluated) is dropped, which makes
// room again; should it come back, it restarts from zero, which rate() reads as a reset.
type evaluationSeries struct {
	limits seriesLimits
	now    func() time.Time

	counts, overflowed, held *prometheus.Desc

	mu        sync.Mutex
	series    map[seriesKey]*seriesValue
	overflow  map[string]float64 // by reason
	overflowN float64
}

func newEvaluationSeries(limits seriesLimits, now func() time.Time) *evaluationSeries {
	name := func(n string) string { return prometheus.BuildFQName(metrics.Namespace, "evaluator", n) }
	return &evaluationSeries{
		limits: limits, now: now,
		counts: prometheus.NewDesc(name("evaluations_total"),
			"Evaluations by environment, flag, variant and reason (added at each analytics flush; \"_other\" past METRICS_MAX_FLAG_SERIES).",
			[]string{"environment", "flag", "variant", "reason"}, nil),
		overflowed: prometheus.NewDesc(name("evaluation_series_overflow_total"),
			"Evaluations counted under flag=\"_other\" because METRICS_MAX_FLAG_SERIES series were held.", nil, nil),
		held: prometheus.NewDesc(name("evaluation_series"),
			"Series of evaluations_total held, the overflow series apart.", nil, nil),
		series:   map[seriesKey]*seriesValue{},
		overflow: map[string]float64{},
	}
}

// add counts a flushed batch (analytics.Counter.OnFlush).
func (s *evaluationSeries) add(b analytics.Batch) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.series {
		if now.Sub(v.seen) >= s.limits.ttl {
			delete(s.series, k)
		}
	}
	for c, n := range b.Counts {
		k := seriesKey{c.EnvironmentID, c.FlagKey, c.Variant, c.Reason}
		v := s.series[k]
		if v == nil {
			if len(s.series) >= s.limits.max {
				s.overflow[c.Reason] += float64(n)
				s.overflowN += float64(n)
				continue
			}
			v = &seriesValue{}
			s.series[k] = v
		}
		v.count += float64(n)
		v.seen = now
	}
}

func (s *evaluationSeries) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.counts
	ch <- s.overflowed
	ch <- s.held
}

func (s *evaluationSeries) Collect(ch chan<- prometheus.Metric) {
	// Copied under the lock, sent without it: a slow scrape must not hold up a flush.
	s.mu.Lock()
	out := make([]prometheus.Metric, 0, len(s.series)+len(s.overflow)+2)
	for k, v := range s.series {
		out = append(out, prometheus.MustNewConstMetric(s.counts, prometheus.CounterValue, v.count, k.environment, k.flag, k.variant, k.reason))
	}
	for reason, n := range s.overflow {
		out = append(out, prometheus.MustNewConstMetric(s.counts, prometheus.CounterValue, n, overflowLabel, overflowLabel, overflowLabel, reason))
	}
	out = append(out,
		prometheus.MustNewConstMetric(s.overflowed, prometheus.CounterValue, s.overflowN),
		prometheus.MustNewConstMetric(s.held, prometheus.GaugeValue, float64(len(s.series))))
	s.mu.Unlock()
	for _, m := range out {
		ch <- m
	}
}

// registerStreamMetrics registers the event streams' metrics.
func registerStreamMetrics(reg *prometheus.Registry, hub *streams.Hub) {
	metrics.GaugeFunc(reg, "evaluator", "streams_open", "Event streams open (definitions and OFREP).", func() float64 { return float64(hub.Len()) })
	metrics.CounterFunc(reg, "evaluator", "streams_opened_total", "Event streams opened.", metrics.Atomic(&hub.Stats.Opened))
	metrics.CounterFunc(reg, "evaluator", "streams_refused_key_limit_total", "Event streams refused because their key had STREAMS_PER_KEY open.", metrics.Atomic(&hub.Stats.RefusedKey))
	metrics.CounterFunc(reg, "evaluator", "streams_refused_process_limit_total", "Event streams refused because the process had STREAMS_MAX open.", metrics.Atomic(&hub.Stats.RefusedProcess))
	metrics.CounterFunc(reg, "evaluator", "stream_announcements_total", "New versions announced to the streams of an environment.", metrics.Atomic(&hub.Stats.Announcements))
	metrics.CounterFunc(reg, "evaluator", "streams_ended_revoked_total", "Event streams ended because their key was revoked, expired or deleted.", metrics.Atomic(&hub.Stats.Revoked))
}
