package app

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/platform/metrics"
	"github.com/switchyard/switchyard/services/evaluator/internal/analytics"
	"github.com/switchyard/switchyard/services/evaluator/internal/snapshots"
)

type nopWriter struct{}

func (nopWriter) WriteEvaluations(context.Context, analytics.Batch) error { return nil }

func TestMetrics(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	cache := snapshots.New(log, nil, nil, snapshots.Options{})
	cache.Stats.MemoryHits.Add(5)
	cache.Stats.RedisErrors.Add(2)
	counter := analytics.New(log, 100)
	reg := metrics.NewRegistry()
	registerMetrics(reg, cache, snapshots.NewListener(log, nil), counter, seriesLimits{max: 100, ttl: time.Hour})
	counter.Add("env-1", eval.Result{Key: "f", Variant: "on", Reason: eval.ReasonTargetingMatch})
	if err := counter.Flush(context.Background(), nopWriter{}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP switchyard_evaluator_snapshot_lookups_total Snapshot lookups by the level that answered them (memory, redis, postgres).
# TYPE switchyard_evaluator_snapshot_lookups_total counter
switchyard_evaluator_snapshot_lookups_total{level="memory"} 5
switchyard_evaluator_snapshot_lookups_total{level="postgres"} 0
switchyard_evaluator_snapshot_lookups_total{level="redis"} 0
# HELP switchyard_evaluator_dependency_errors_total Failed calls to a dependency on the evaluation path.
# TYPE switchyard_evaluator_dependency_errors_total counter
switchyard_evaluator_dependency_errors_total{dependency="postgres"} 0
switchyard_evaluator_dependency_errors_total{dependency="redis"} 2
# HELP switchyard_evaluator_evaluations_total Evaluations by environment, flag, variant and reason (added at each analytics flush; "_other" past METRICS_MAX_FLAG_SERIES).
# TYPE switchyard_evaluator_evaluations_total counter
switchyard_evaluator_evaluations_total{environment="env-1",flag="f",reason="TARGETING_MATCH",variant="on"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"switchyard_evaluator_snapshot_lookups_total", "switchyard_evaluator_dependency_errors_total", "switchyard_evaluator_evaluations_total"); err != nil {
		t.Error(err)
	}
}

// TestEvaluationSeriesBounded: past the cap, evaluations of new series are counted
// under "_other" (and in the overflow counter), never as series of their own; a series
// idle for the TTL is dropped, which makes room again.
func TestEvaluationSeriesBounded(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newEvaluationSeries(seriesLimits{max: 2, ttl: time.Hour}, func() time.Time { return clock })
	reg := metrics.NewRegistry()
	reg.MustRegister(s)
	batch := func(counts map[[2]string]int64) analytics.Batch {
		b := analytics.Batch{Counts: map[analytics.Series]int64{}}
		for k, n := range counts {
			b.Counts[analytics.Series{EnvironmentID: k[0], FlagKey: k[1], Variant: "on", Reason: "DEFAULT"}] = n
		}
		return b
	}
	s.add(batch(map[[2]string]int64{{"env-1", "a"}: 1, {"env-1", "b"}: 2}))
	s.add(batch(map[[2]string]int64{{"env-1", "a"}: 1, {"env-1", "c"}: 5, {"env-2", "d"}: 7}))
	const head = `
# HELP switchyard_evaluator_evaluations_total Evaluations by environment, flag, variant and reason (added at each analytics flush; "_other" past METRICS_MAX_FLAG_SERIES).
# TYPE switchyard_evaluator_evaluations_total counter
`
	want := head + `switchyard_evaluator_evaluations_total{environment="_other",flag="_other",reason="DEFAULT",variant="_other"} 12
switchyard_evaluator_evaluations_total{environment="env-1",flag="a",reason="DEFAULT",variant="on"} 2
switchyard_evaluator_evaluations_total{environment="env-1",flag="b",reason="DEFAULT",variant="on"} 2
# HELP switchyard_evaluator_evaluation_series_overflow_total Evaluations counted under flag="_other" because METRICS_MAX_FLAG_SERIES series were held.
# TYPE switchyard_evaluator_evaluation_series_overflow_total counter
switchyard_evaluator_evaluation_series_overflow_total 12
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"switchyard_evaluator_evaluations_total", "switchyard_evaluator_evaluation_series_overflow_total"); err != nil {
		t.Error(err)
	}

	// b has been idle for the TTL, a has not: b is dropped and c takes its place.
	clock = clock.Add(40 * time.Minute)
	s.add(batch(map[[2]string]int64{{"env-1", "a"}: 1}))
	clock = clock.Add(20 * time.Minute)
	s.add(batch(map[[2]string]int64{{"env-1", "c"}: 3}))
	want = head + `switchyard_evaluator_evaluations_total{environment="_other",flag="_other",reason="DEFAULT",variant="_other"} 12
switchyard_evaluator_evaluations_total{environment="env-1",flag="a",reason="DEFAULT",variant="on"} 3
switchyard_evaluator_evaluations_total{environment="env-1",flag="c",reason="DEFAULT",variant="on"} 3
# HELP switchyard_evaluator_evaluation_series Series of evaluations_total held, the overflow series apart.
# TYPE switchyard_evaluator_evaluation_series gauge
switchyard_evaluator_evaluation_series 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"switchyard_evaluator_evaluations_total", "switchyard_evaluator_evaluation_series"); err != nil {
		t.Error(err)
	}
}
