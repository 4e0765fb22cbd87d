// Package pgsnapshot reads an environment's flags as the engine compiles them, from
// the PostgreSQL schema of migrations/: every live flag with its configuration in the
// environment. The evaluator loads snapshots with it, and the admin's playground reads
// the same thing, so both evaluate exactly the same data.
package pgsnapshot

import (
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

// row is a live flag with its configuration in one environment.
type row struct {
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

// Flags reads every live (not archived) flag of the project with its configuration in
// the environment, by key. Run it in the transaction that reads the environment's
// version (repeatable read), so that the version matches the content.
func Flags(tx *gorm.DB, projectID, environmentID string) ([]domain.FlagConfig, error) {
	var rows []row
	if err := tx.Raw(`SELECT f.id AS flag_id, f.key, f.name, f.kind, f.variants, f.salt, f.killed,
			c.enabled, c.rules, c.default_serve, c.off_variant, c.prerequisites, c.version
		FROM flags f JOIN flag_configs c ON c.flag_id = f.id AND c.environment_id = ?
		WHERE f.project_id = ? AND NOT f.archived ORDER BY f.key`, environmentID, projectID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]domain.FlagConfig, 0, len(rows))
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
				return nil, fmt.Errorf("flag %s: %w", r.Key, err)
			}
		}
		out = append(out, fc)
	}
	return out, nil
}
