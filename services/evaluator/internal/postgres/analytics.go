package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/pkg/platform/pgerr"
	"github.com/switchyard/switchyard/services/evaluator/internal/analytics"
)

// WriteEvaluations adds a batch of counts and last-evaluated times in one statement.
// Counts of environments deleted meanwhile are skipped.
func (s *Store) WriteEvaluations(ctx context.Context, b analytics.Batch) error {
	var (
		envs, flags, variants, reasons []string
		minutes                        []time.Time
		counts                         []int64
		lastEnvs, lastFlags            []string
		lastAt                         []time.Time
	)
	for k, n := range b.Counts {
		envs, flags, minutes = append(envs, k.EnvironmentID), append(flags, k.FlagKey), append(minutes, k.Minute)
		variants, reasons, counts = append(variants, k.Variant), append(reasons, k.Reason), append(counts, n)
	}
	for k, t := range b.Last {
		lastEnvs, lastFlags, lastAt = append(lastEnvs, k[0]), append(lastFlags, k[1]), append(lastAt, t)
	}
	_, err := s.sql.ExecContext(ctx, `
WITH counted AS (
    INSERT INTO flag_evaluations (environment_id, flag_key, minute, variant, reason, count)
    SELECT u.env, u.flag, u.minute, u.variant, u.reason, u.n
    FROM unnest($1::text[]::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::bigint[])
        AS u(env, flag, minute, variant, reason, n)
    JOIN environments e ON e.id = u.env
    ON CONFLICT (environment_id, flag_key, minute, variant, reason)
        DO UPDATE SET count = flag_evaluations.count + EXCLUDED.count
    RETURNING 1
)
INSERT INTO flag_last_evaluated (environment_id, flag_key, at)
SELECT l.env, l.flag, l.at
FROM unnest($7::text[]::uuid[], $8::text[], $9::timestamptz[]) AS l(env, flag, at)
JOIN environments e ON e.id = l.env
ON CONFLICT (environment_id, flag_key) DO UPDATE SET at = greatest(flag_last_evaluated.at, EXCLUDED.at)`,
		envs, flags, minutes, variants, reasons, counts, lastEnvs, lastFlags, lastAt)
	if err != nil {
		return fmt.Errorf("write evaluation counts: %w", pgerr.Translate(err))
	}
	return nil
}
