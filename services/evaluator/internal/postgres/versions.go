package postgres

import (
	"context"

	"github.com/switchyard/switchyard/pkg/platform/pgerr"
)

// EnvironmentVersions returns the current version of each environment that still
// exists, from the primary: while Redis is down, the evaluator learns of changes to
// the environments it has streams for this way, and a replica behind would hide them.
func (s *Store) EnvironmentVersions(ctx context.Context, ids []string) (map[string]int64, error) {
	out := make(map[string]int64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID      string
		Version int64
	}
	// The ids are the environments of keys the database gave: well-formed.
	if err := s.db.WithContext(ctx).Raw(`SELECT id, version FROM environments WHERE id IN ?`, ids).
		Scan(&rows).Error; err != nil {
		return nil, pgerr.Translate(err)
	}
	for _, r := range rows {
		out[r.ID] = r.Version
	}
	return out, nil
}
