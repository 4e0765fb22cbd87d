package service

import (
	"context"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// EvaluationStore is what evaluation analytics need from storage.
type EvaluationStore interface {
	Evaluations(ctx context.Context, projectKey, flagKey, envKey string, since, until time.Time) (domain.FlagEvaluations, error)
}

// Evaluations reports how a flag was evaluated over [since, until), by default the last
// 24 hours.
func (s *Service) Evaluations(ctx context.Context, o domain.Origin, projectKey, flagKey, envKey string, since, until time.Time) (domain.FlagEvaluations, error) {
	if err := o.Need(projectKey, envKey, domain.RoleViewer); err != nil {
		return domain.FlagEvaluations{}, err
	}
	if until.IsZero() {
		until = time.Now().UTC()
	}
	if since.IsZero() {
		since = until.Add(-24 * time.Hour)
	}
	if !since.Before(until) {
		return domain.FlagEvaluations{}, domain.InvalidField("query", "since", "must be before until")
	}
	return s.evaluations.Evaluations(ctx, projectKey, flagKey, envKey, since, until)
}
