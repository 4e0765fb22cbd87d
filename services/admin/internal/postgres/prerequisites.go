package postgres

import (
	"fmt"

	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

// prerequisiteClosure loads the flags reachable from keys through prerequisites, at any
// depth, and the flags whose prerequisites reach flagKey (a new prerequisite deepens
// their chains as well as this flag's), each with its configuration in the
// environment, by flag key.
func prerequisiteClosure(db *gorm.DB, projectID, envID, flagKey string, keys []string) (map[string]domain.FlagConfig, error) {
	up, err := dependentKeys(db, projectID, envID, flagKey)
	if err != nil {
		return nil, err
	}
	keys = append(append([]string(nil), keys...), up...)
	out := map[string]domain.FlagConfig{}
	var flags []flagRow
	if err := db.Raw(`
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
	if err := db.Where("environment_id = ? AND flag_id IN ?", envID, ids).Find(&configs).Error; err != nil {
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
func dependentKeys(db *gorm.DB, projectID, envID, flagKey string) ([]string, error) {
	var keys []string
	if err := db.Raw(`
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

// dependents lists the prerequisites other flags of the project hold on a flag, in
// every environment.
func dependents(db *gorm.DB, projectID, flagKey string) ([]domain.Dependent, error) {
	var rows []struct {
		Flag          string
		Environment   string
		Prerequisites []byte
	}
	probe := mustJSON([]map[string]string{{"flag": flagKey}})
	if err := db.Raw(`SELECT f.key AS flag, e.key AS environment, c.prerequisites
		FROM flag_configs c JOIN flags f ON f.id = c.flag_id JOIN environments e ON e.id = c.environment_id
		WHERE f.project_id = ? AND c.prerequisites @> ?::jsonb ORDER BY f.key, e.key`, projectID, string(probe)).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("find dependents of %s: %w", flagKey, err)
	}
	var out []domain.Dependent
	for _, r := range rows {
		var ps []domain.Prerequisite
		if err := jsonUnmarshal(r.Prerequisites, &ps); err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.Flag == flagKey {
				out = append(out, domain.Dependent{Flag: r.Flag, Environment: r.Environment, Variant: p.Variant})
			}
		}
	}
	return out, nil
}
