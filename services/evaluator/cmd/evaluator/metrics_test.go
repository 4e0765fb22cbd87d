package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/metrics"
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
	registerMetrics(reg, cache, snapshots.NewListener(log, nil), counter)
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
# HELP switchyard_evaluator_evaluations_total Evaluations by environment, flag, variant and reason (added at each analytics flush).
# TYPE switchyard_evaluator_evaluations_total counter
switchyard_evaluator_evaluations_total{environment="env-1",flag="f",reason="TARGETING_MATCH",variant="on"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"switchyard_evaluator_snapshot_lookups_total", "switchyard_evaluator_dependency_errors_total", "switchyard_evaluator_evaluations_total"); err != nil {
		t.Error(err)
	}
}
