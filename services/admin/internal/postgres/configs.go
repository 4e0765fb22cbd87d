package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode stored json: %w", err)
	}
	return nil
}

// ConfigState is a flag's configuration in one environment with the two it belongs to.
type ConfigState struct {
	Flag        domain.Flag
	Environment domain.Environment
	Config      domain.Config
}

// Config returns a flag's configuration in one environment.
func (s *Store) Config(ctx context.Context, projectKey, flagKey, envKey string) (ConfigState, error) {
	var out ConfigState
	db := s.db.WithContext(ctx)
	p, e, err := s.projectEnvironment(db, projectKey, envKey, false)
	if err != nil {
		return out, translate(err)
	}
	fr, f, err := s.flagByKey(db, p.ID, projectKey, flagKey, false)
	if err != nil {
		return out, translate(err)
	}
	var cr configRow
	if err := db.Where("flag_id = ? AND environment_id = ?", fr.ID, e.ID).Take(&cr).Error; err != nil {
		return out, translate(err)
	}
	c, err := cr.domain()
	if err != nil {
		return out, err
	}
	return ConfigState{Flag: f, Environment: e.domain(), Config: c}, nil
}

// Prerequisites loads the flags reachable from keys through prerequisites, at any
// depth, and the flags that depend on the flag being configured, each with its
// configuration in the environment, by flag key: what a new configuration's
// prerequisites (cycles, depth) are validated against. A configuration write reads
// this closure, not the whole project, so its cost does not grow with the project.
type Prerequisites func(keys ...string) (map[string]domain.FlagConfig, error)

func prerequisiteClosure(tx *gorm.DB, projectID, envID string, keys []string) (map[string]domain.FlagConfig, error) {
	out := map[string]domain.FlagConfig{}
	if len(keys) == 0 {
		return out, nil
	}
	var flags []flagRow
	if err := tx.Raw(`
		WITH RECURSIVE reach(id) AS (
			SELECT id FROM flags WHERE project_id = ? AND key IN ?
			UNION
			SELECT pf.id FROM reach r
			JOIN flag_configs c ON c.flag_id = r.id AND c.environment_id = ?
			CROSS JOIN LATERAL jsonb_array_elements(c.prerequisites) p
			JOIN flags pf ON pf.project_id = ? AND pf.key = p->>'flag'
		)
		SELECT f.* FROM flags f JOIN reach USING (id)`, projectID, keys, envID, projectID).Scan(&flags).Error; err != nil {
		return nil, fmt.Errorf("prerequisites: %w", err)
	}
	if len(flags) == 0 {
		return out, nil
	}
	ids := make([]string, len(flags))
	for i, f := range flags {
		ids[i] = f.ID
	}
	var configs []configRow
	if err := tx.Where("environment_id = ? AND flag_id IN ?", envID, ids).Find(&configs).Error; err != nil {
		return nil, err
	}
	byFlag := make(map[string]configRow, len(configs))
	for _, c := range configs {
		byFlag[c.FlagID] = c
	}
	for _, fr := range flags {
		f, err := fr.domain()
		if err != nil {
			return nil, err
		}
		fc := domain.FlagConfig{Flag: f}
		if cr, ok := byFlag[fr.ID]; ok {
			if fc.Config, err = cr.domain(); err != nil {
				return nil, err
			}
		}
		out[f.Key] = fc
	}
	return out, nil
}

// dependentKeys lists the flags whose prerequisites reach flagKey in the environment,
// at any depth.
func dependentKeys(tx *gorm.DB, projectID, envID, flagKey string) ([]string, error) {
	var keys []string
	if err := tx.Raw(`
		WITH RECURSIVE up(key) AS (
			SELECT ?::text
			UNION
			SELECT f.key FROM up
			JOIN flag_configs c ON c.environment_id = ? AND c.prerequisites @> jsonb_build_array(jsonb_build_object('flag', up.key))
			JOIN flags f ON f.id = c.flag_id AND f.project_id = ?
		)
		SELECT key FROM up WHERE key <> ?`, flagKey, envID, projectID, flagKey).Scan(&keys).Error; err != nil {
		return nil, fmt.Errorf("dependents of %s: %w", flagKey, err)
	}
	return keys, nil
}

// UpdateConfig replaces a flag's configuration in one environment with what fn returns
// for the current one. fn can load the flags its prerequisites reach, to validate
// them. The environment is locked first, so concurrent writers queue; the
// stored version increments by one. action names the change in the audit trail.
func (s *Store) UpdateConfig(ctx context.Context, o domain.Origin, action, projectKey, flagKey, envKey string,
	fn func(cur ConfigState, prerequisites Prerequisites) (domain.Config, error)) (ConfigState, error) {
	var out ConfigState
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		p, e, err := s.projectEnvironment(tx, projectKey, envKey, false)
		if err != nil {
			return err
		}
		if err := touch(tx, []string{e.ID}); err != nil {
			return err
		}
		fr, f, err := s.flagByKey(tx, p.ID, projectKey, flagKey, false)
		if err != nil {
			return err
		}
		var cr configRow
		if err := tx.Raw(`SELECT * FROM flag_configs WHERE flag_id = ? AND environment_id = ? FOR UPDATE`, fr.ID, e.ID).
			Scan(&cr).Error; err != nil {
			return err
		}
		if cr.FlagID == "" {
			return domain.Errorf(domain.CodeNotFound, "flag %q has no configuration in %q", flagKey, envKey)
		}
		cur, err := cr.domain()
		if err != nil {
			return err
		}
		if err := tx.Take(&e, "id = ?", e.ID).Error; err != nil { // the bumped version
			return err
		}
		state := ConfigState{Flag: f, Environment: e.domain(), Config: cur}
		next, err := fn(state, func(keys ...string) (map[string]domain.FlagConfig, error) {
			// The flags that depend on this one come too: a new prerequisite deepens
			// their chains as well as this flag's.
			up, err := dependentKeys(tx, p.ID, e.ID, f.Key)
			if err != nil {
				return nil, err
			}
			return prerequisiteClosure(tx, p.ID, e.ID, append(keys, up...))
		})
		if err != nil {
			return err
		}
		next.Version = cur.Version + 1
		nr := configRowOf(fr.ID, e.ID, next)
		if err := tx.Model(&configRow{}).Where("flag_id = ? AND environment_id = ?", fr.ID, e.ID).Updates(map[string]any{
			"enabled": nr.Enabled, "rules": nr.Rules, "default_serve": nr.DefaultServe, "off_variant": nr.OffVariant,
			"prerequisites": nr.Prerequisites, "version": nr.Version, "updated_at": gorm.Expr("now()"),
		}).Error; err != nil {
			return err
		}
		// Counting the environment costs a scan of it, so only a configuration that
		// grows past its fair share of the limit is counted (sizes as Go encodes them:
		// the stored text has PostgreSQL's spacing). See fairShare.
		if nr.storedSize() > fairShare && nr.storedSize() > configRowOf(fr.ID, e.ID, cur).storedSize() {
			if err := checkSnapshotSize(tx, []string{e.ID}); err != nil {
				return err
			}
		}
		if hasPatterns(next) {
			if err := checkPatterns(tx, e.ID, e.Key); err != nil {
				return err
			}
		}
		if err := tx.Where("flag_id = ? AND environment_id = ?", fr.ID, e.ID).Take(&cr).Error; err != nil {
			return err
		}
		after, err := cr.domain()
		if err != nil {
			return err
		}
		out = ConfigState{Flag: f, Environment: e.domain(), Config: after}
		return audit(tx, o, change{action: action, entityType: "config", entityID: fr.ID + "/" + e.ID,
			entityKey: f.Key + "/" + e.Key, project: p.Key, projectID: p.ID, flag: f.Key, environment: e.Key, before: cur, after: after})
	})
	return out, err
}
