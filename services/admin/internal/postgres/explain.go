package postgres

import (
	"context"
	"database/sql"
	"slices"

	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/pgsnapshot"
)

// EnvironmentSnapshot reads an environment's snapshot as the evaluator loads it: every
// live flag with its configuration, and the environment's version, in one
// repeatable-read transaction so that the version matches the content. Archived flags
// follow, by key alone (Flag.Archived set, no configuration: the engine leaves them
// out), so that an explanation can say a flag is archived rather than unknown.
func (s *Store) EnvironmentSnapshot(ctx context.Context, projectKey, envKey string) (domain.Snapshot, error) {
	var snap domain.Snapshot
	err := s.read(ctx).Transaction(func(tx *gorm.DB) error {
		p, e, err := projectEnvironment(tx, projectKey, envKey, false)
		if err != nil {
			return err
		}
		flags, err := pgsnapshot.Flags(tx, p.ID, e.ID)
		if err != nil {
			return err
		}
		var archived []string
		if err := tx.Raw(`SELECT key FROM flags WHERE project_id = ? AND archived ORDER BY key`, p.ID).Scan(&archived).Error; err != nil {
			return err
		}
		snap = domain.Snapshot{ProjectKey: p.Key, EnvironmentID: e.ID, EnvironmentKey: e.Key, Version: e.Version,
			Flags: slices.Grow(flags, len(archived))}
		for _, k := range archived {
			snap.Flags = append(snap.Flags, domain.FlagConfig{Flag: domain.Flag{Key: k, Archived: true}})
		}
		return nil
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	return snap, translate(err)
}
