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
	p, err := s.projectByKey(db, projectKey)
	if err != nil {
		return out, translate(err)
	}
	e, err := s.environmentByKey(db, p.ID, projectKey, envKey, false)
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

// environmentFlags returns every flag of the environment's project with its
// configuration there, by flag key: what prerequisites are validated against.
func environmentFlags(tx *gorm.DB, projectID, envID string) (map[string]domain.FlagConfig, error) {
	var flags []flagRow
	if err := tx.Where("project_id = ?", projectID).Find(&flags).Error; err != nil {
		return nil, err
	}
	var configs []configRow
	if err := tx.Where("environment_id = ?", envID).Find(&configs).Error; err != nil {
		return nil, err
	}
	byFlag := make(map[string]configRow, len(configs))
	for _, c := range configs {
		byFlag[c.FlagID] = c
	}
	out := make(map[string]domain.FlagConfig, len(flags))
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

// UpdateConfig replaces a flag's configuration in one environment with what fn returns
// for the current one. fn also sees every flag of the environment, to validate
// prerequisites. The environment is locked first, so concurrent writers queue; the
// stored version increments by one. action names the change in the audit trail.
func (s *Store) UpdateConfig(ctx context.Context, o domain.Origin, action, projectKey, flagKey, envKey string,
	fn func(cur ConfigState, env map[string]domain.FlagConfig) (domain.Config, error)) (ConfigState, error) {
	var out ConfigState
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		p, err := s.projectByKey(tx, projectKey)
		if err != nil {
			return err
		}
		e, err := s.environmentByKey(tx, p.ID, projectKey, envKey, false)
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
		env, err := environmentFlags(tx, p.ID, e.ID)
		if err != nil {
			return err
		}
		state := ConfigState{Flag: f, Environment: e.domain(), Config: cur}
		next, err := fn(state, env)
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
		if err := tx.Where("flag_id = ? AND environment_id = ?", fr.ID, e.ID).Take(&cr).Error; err != nil {
			return err
		}
		after, err := cr.domain()
		if err != nil {
			return err
		}
		out = ConfigState{Flag: f, Environment: e.domain(), Config: after}
		return audit(tx, o, change{action: action, entityType: "config", entityID: fr.ID + "/" + e.ID,
			entityKey: f.Key + "/" + e.Key, project: p.Key, flag: f.Key, environment: e.Key, before: cur, after: after})
	})
	return out, err
}
