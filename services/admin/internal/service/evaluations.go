package service

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// EvaluationStore is what evaluation analytics need from storage.
type EvaluationStore interface {
	Evaluations(ctx context.Context, projectKey, flagKey, envKey string, since, until time.Time) (domain.FlagEvaluations, error)
	EvaluationSeries(ctx context.Context, projectKey, flagKey, envKey string, since, until time.Time, bucket domain.BucketSize) ([]domain.EvaluationBucket, error)
}

// Evaluations reports how a flag was evaluated over [since, until), by default the last
// 24 hours.
func (s *Service) Evaluations(ctx context.Context, o domain.Origin, projectKey, flagKey, envKey string, since, until time.Time) (domain.FlagEvaluations, error) {
	return s.EvaluationSeries(ctx, o, projectKey, flagKey, envKey, since, until, "")
}

// EvaluationSeries is Evaluations with the same counts over time as well, in buckets of
// an hour or a UTC day (none when bucket is empty): every bucket from the one holding
// since to the one holding the range's last instant, empty ones included, each with its
// counts by variant and reason (over every environment, or the one named). The first
// and last buckets count only what falls in the range. The range defaults to the last
// 24 hours, or 7 days by the day, and holds at most domain.MaxEvaluationBuckets buckets.
func (s *Service) EvaluationSeries(ctx context.Context, o domain.Origin, projectKey, flagKey, envKey string, since, until time.Time,
	bucket domain.BucketSize) (domain.FlagEvaluations, error) {
	if err := o.Need(projectKey, envKey, domain.RoleViewer); err != nil {
		return domain.FlagEvaluations{}, err
	}
	span := 24 * time.Hour
	switch bucket {
	case "", domain.BucketHour:
	case domain.BucketDay:
		span = 7 * 24 * time.Hour
	default:
		return domain.FlagEvaluations{}, domain.InvalidField("query", "bucket", "must be hour or day")
	}
	if until.IsZero() {
		until = time.Now().UTC()
	}
	if since.IsZero() {
		since = until.Add(-span)
	}
	if !since.Before(until) {
		return domain.FlagEvaluations{}, domain.InvalidField("query", "since", "must be before until")
	}
	var starts []time.Time
	if bucket != "" {
		first, last := bucket.Start(since), bucket.Start(until.Add(-time.Nanosecond))
		if n := int(last.Sub(first)/bucket.Duration()) + 1; n > domain.MaxEvaluationBuckets {
			return domain.FlagEvaluations{}, domain.InvalidField("query", "since",
				fmt.Sprintf("the range holds %d buckets of a %s; at most %d (MaxEvaluationBuckets)", n, bucket, domain.MaxEvaluationBuckets))
		}
		for t := first; !t.After(last); t = t.Add(bucket.Duration()) {
			starts = append(starts, t)
		}
	}
	ev, err := s.evaluations.Evaluations(ctx, projectKey, flagKey, envKey, since, until)
	if err != nil || bucket == "" {
		return ev, err
	}
	found, err := s.evaluations.EvaluationSeries(ctx, projectKey, flagKey, envKey, since, until, bucket)
	if err != nil {
		return domain.FlagEvaluations{}, err
	}
	ev.Bucket, ev.Series = bucket, make([]domain.EvaluationBucket, len(starts))
	for i, t := range starts {
		ev.Series[i] = domain.EvaluationBucket{Start: t, Counts: []domain.VariantReasonCount{}}
	}
	for _, b := range found {
		if i := int(b.Start.Sub(starts[0]) / bucket.Duration()); i >= 0 && i < len(starts) && b.Start.Equal(starts[i]) {
			ev.Series[i] = b
		}
	}
	return ev, nil
}
