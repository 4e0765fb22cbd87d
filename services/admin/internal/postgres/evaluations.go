package postgres

import (
	"context"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Evaluations sums a flag's evaluation counts over [since, until), optionally in one
// environment, and says when it was last evaluated in each environment.
func (s *Store) Evaluations(ctx context.Context, projectKey, flagKey, envKey string, since, until time.Time) (domain.FlagEvaluations, error) {
	out := domain.FlagEvaluations{Flag: flagKey, Since: since, Until: until, Counts: []domain.EvaluationCount{}, LastEvaluated: map[string]time.Time{}}
	db := s.read(ctx)
	p, err := projectByKey(db, projectKey)
	if err != nil {
		return out, translate(err)
	}
	if _, _, err := flagByKey(db, p.ID, projectKey, flagKey, false); err != nil {
		return out, translate(err)
	}
	if envKey != "" {
		if _, err := environmentByKey(db, p.ID, projectKey, envKey, false); err != nil {
			return out, translate(err)
		}
	}
	if err := db.Raw(`SELECT e.key AS environment, fe.variant, fe.reason, sum(fe.count) AS count
		FROM flag_evaluations fe JOIN environments e ON e.id = fe.environment_id
		WHERE e.project_id = ? AND fe.flag_key = ? AND fe.minute >= ? AND fe.minute < ? AND (? = '' OR e.key = ?)
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, p.ID, flagKey, since, until, envKey, envKey).Scan(&out.Counts).Error; err != nil {
		return out, translate(err)
	}
	var last []struct {
		Environment string
		At          time.Time
	}
	if err := db.Raw(`SELECT e.key AS environment, l.at FROM flag_last_evaluated l JOIN environments e ON e.id = l.environment_id
		WHERE e.project_id = ? AND l.flag_key = ? AND (? = '' OR e.key = ?)`, p.ID, flagKey, envKey, envKey).Scan(&last).Error; err != nil {
		return out, translate(err)
	}
	for _, l := range last {
		out.LastEvaluated[l.Environment] = l.At
	}
	return out, nil
}

// EvaluationSeries sums a flag's evaluation counts over [since, until), optionally in
// one environment, into buckets of the given size (UTC hours or days) by variant and
// reason. Buckets without evaluations are left out; the caller fills the gaps.
func (s *Store) EvaluationSeries(ctx context.Context, projectKey, flagKey, envKey string, since, until time.Time, bucket domain.BucketSize) ([]domain.EvaluationBucket, error) {
	db := s.read(ctx)
	p, err := projectByKey(db, projectKey)
	if err != nil {
		return nil, translate(err)
	}
	if _, _, err := flagByKey(db, p.ID, projectKey, flagKey, false); err != nil {
		return nil, translate(err)
	}
	if envKey != "" {
		if _, err := environmentByKey(db, p.ID, projectKey, envKey, false); err != nil {
			return nil, translate(err)
		}
	}
	var rows []struct {
		Start   time.Time
		Variant string
		Reason  string
		Count   int64
	}
	// flag_evaluations' key starts with (environment_id, flag_key, minute): a range
	// scan per environment of the project.
	if err := db.Raw(`SELECT date_trunc(?, fe.minute, 'UTC') AS start, fe.variant, fe.reason, sum(fe.count) AS count
		FROM flag_evaluations fe JOIN environments e ON e.id = fe.environment_id
		WHERE e.project_id = ? AND fe.flag_key = ? AND fe.minute >= ? AND fe.minute < ? AND (? = '' OR e.key = ?)
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, string(bucket), p.ID, flagKey, since, until, envKey, envKey).Scan(&rows).Error; err != nil {
		return nil, translate(err)
	}
	var out []domain.EvaluationBucket
	for _, r := range rows {
		start := r.Start.UTC()
		if len(out) == 0 || !out[len(out)-1].Start.Equal(start) {
			out = append(out, domain.EvaluationBucket{Start: start, Counts: []domain.VariantReasonCount{}})
		}
		b := &out[len(out)-1]
		b.Counts = append(b.Counts, domain.VariantReasonCount{Variant: r.Variant, Reason: r.Reason, Count: r.Count})
		b.Total += r.Count
	}
	return out, nil
}
