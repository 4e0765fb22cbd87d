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
	if err := s.db.WithContext(ctx).Raw(`SELECT id, version FROM environments WHERE id = ANY(?::uuid[])`, uuidArray(ids)).
		Scan(&rows).Error; err != nil {
		return nil, pgerr.Translate(err)
	}
	for _, r := range rows {
		out[r.ID] = r.Version
	}
	return out, nil
}

// uuidArray writes ids as a PostgreSQL array literal, keeping only well-formed ids (the
// cast would fail the whole query on one bad id).
func uuidArray(ids []string) string {
	b := []byte{'{'}
	for _, id := range ids {
		if !isUUID(id) {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, id...)
	}
	return string(append(b, '}'))
}
