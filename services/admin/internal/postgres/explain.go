package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

// explainRow is a live flag with its configuration in one environment.
type explainRow struct {
	FlagID        string
	Key           string
	Name          string
	Kind          string
	Variants      []byte
	Salt          string
	Killed        bool
	Enabled       bool
	Rules         []byte
	DefaultServe  []byte
	OffVariant    string
	Prerequisites []byte
	Version       int64
}

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
		var rows []explainRow
		if err := tx.Raw(`SELECT f.id AS flag_id, f.key, f.name, f.kind, f.variants, f.salt, f.killed,
				c.enabled, c.rules, c.default_serve, c.off_variant, c.prerequisites, c.version
			FROM flags f JOIN flag_configs c ON c.flag_id = f.id AND c.environment_id = ?
			WHERE f.project_id = ? AND NOT f.archived ORDER BY f.key`, e.ID, p.ID).Scan(&rows).Error; err != nil {
			return err
		}
		var archived []string
		if err := tx.Raw(`SELECT key FROM flags WHERE project_id = ? AND archived ORDER BY key`, p.ID).Scan(&archived).Error; err != nil {
			return err
		}
		snap = domain.Snapshot{ProjectKey: p.Key, EnvironmentID: e.ID, EnvironmentKey: e.Key, Version: e.Version,
			Flags: make([]domain.FlagConfig, 0, len(rows)+len(archived))}
		for _, r := range rows {
			fc := domain.FlagConfig{
				Flag:   domain.Flag{ID: r.FlagID, Key: r.Key, Name: r.Name, Kind: domain.Kind(r.Kind), Salt: r.Salt, Killed: r.Killed},
				Config: domain.Config{Enabled: r.Enabled, OffVariant: r.OffVariant, Version: r.Version},
			}
			for _, part := range []struct {
				raw  []byte
				into any
			}{{r.Variants, &fc.Flag.Variants}, {r.Rules, &fc.Config.Rules}, {r.DefaultServe, &fc.Config.Default}, {r.Prerequisites, &fc.Config.Prerequisites}} {
				if err := json.Unmarshal(part.raw, part.into); err != nil {
					return fmt.Errorf("flag %s: %w", r.Key, err)
				}
			}
			snap.Flags = append(snap.Flags, fc)
		}
		for _, k := range archived {
			snap.Flags = append(snap.Flags, domain.FlagConfig{Flag: domain.Flag{Key: k, Archived: true}})
		}
		return nil
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	return snap, translate(err)
}
