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
