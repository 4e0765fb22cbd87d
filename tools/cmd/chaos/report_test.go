package main

import (
	"strings"
	"testing"
)

func TestParseSeries(t *testing.T) {
	const exposition = `# HELP switchyard_evaluator_dependency_errors_total Failed calls to a dependency on the evaluation path.
# TYPE switchyard_evaluator_dependency_errors_total counter
switchyard_evaluator_dependency_errors_total{dependency="postgres"} 0
switchyard_evaluator_dependency_errors_total{dependency="redis"} 7
switchyard_admin_outbox_depth 0
switchyard_admin_outbox_depth_bytes 12
broken_total abc
`
	for _, c := range []struct {
		name    string
		series  []string
		want    []float64
		wantErr string
	}{
		{"labelled", []string{redisErrorsSeries, postgresErrorsSeries}, []float64{7, 0}, ""},
		{"a zero is read, not assumed", []string{outboxDepthSeries}, []float64{0}, ""},
		{"a missing series is an error", []string{invalidationFailures}, nil, "no series"},
		{"one missing among found", []string{redisErrorsSeries, publishedSeries}, nil, "no series"},
		{"an unparsable value is an error", []string{"broken_total"}, nil, "invalid syntax"},
	} {
		got, err := parseSeries(strings.NewReader(exposition), c.series...)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: err %v, want one with %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Fatalf("%s: %v, %v", c.name, got, err)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %s = %v, want %v", c.name, c.series[i], got[i], c.want[i])
			}
		}
	}
}

func TestParseSeriesEmpty(t *testing.T) {
	if _, err := parseSeries(strings.NewReader(""), outboxDepthSeries); err == nil {
		t.Error("an empty exposition read as a value")
	}
}
