package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

func (s *Store) flagByKey(tx *gorm.DB, projectID, projectKey, key string, lock bool) (flagRow, domain.Flag, error) {
	var r flagRow
	q := `SELECT * FROM flags WHERE project_id = ? AND key = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	if err := tx.Raw(q, projectID, key).Scan(&r).Error; err != nil {
		return r, domain.Flag{}, err
	}
	if r.ID == "" {
		return r, domain.Flag{}, domain.Errorf(domain.CodeNotFound, "flag %q not found in project %q", key, projectKey)
	}
	f, err := r.domain()
	return r, f, err
}

func environmentIDs(tx *gorm.DB, projectID string) ([]environmentRow, []string, error) {
	var envs []environmentRow
	if err := tx.Where("project_id = ?", projectID).Order("key").Find(&envs).Error; err != nil {
		return nil, nil, err
	}
	ids := make([]string, len(envs))
	for i, e := range envs {
		ids[i] = e.ID
	}
	return envs, ids, nil
}

// flagConfigs returns a flag's configuration in each environment, by environment key.
func flagConfigs(tx *gorm.DB, flagID string, envs []environmentRow) (map[string]domain.Config, error) {
	var rows []configRow
	if err := tx.Where("flag_id = ?", flagID).Find(&rows).Error; err != nil {
		return nil, err
	}
	keys := make(map[string]string, len(envs))
	for _, e := range envs {
		keys[e.ID] = e.Key
	}
	out := make(map[string]domain.Config, len(rows))
	for _, r := range rows {
		c, err := r.domain()
		if err != nil {
			return nil, err
		}
		if k, ok := keys[r.EnvironmentID]; ok {
			out[k] = c
		}
	}
	return out, nil
}

// dependents lists the prerequisites other flags of the project hold on a flag.
func dependents(tx *gorm.DB, projectID, flagKey string) ([]domain.Dependent, error) {
	var rows []struct {
		Flag          string
		Environment   string
		Prerequisites []byte
	}
	probe := mustJSON([]map[string]string{{"flag": flagKey}})
	if err := tx.Raw(`SELECT f.key AS flag, e.key AS environment, c.prerequisites
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

// touchProject finds a project and touches all its environments, as every change to a
// flag's definition does: the flag is part of each environment's snapshot.
func (s *Store) touchProject(tx *gorm.DB, projectKey string) (projectRow, []environmentRow, error) {
	p, err := s.projectByKey(tx, projectKey)
	if err != nil {
		return p, nil, err
	}
	envs, ids, err := environmentIDs(tx, p.ID)
	if err != nil {
		return p, nil, err
	}
	return p, envs, touch(tx, ids)
}

// CreateFlag creates a flag with its initial, disabled configuration in every
// environment of the project.
func (s *Store) CreateFlag(ctx context.Context, o domain.Origin, projectKey string, f domain.Flag) (domain.FlagDetail, error) {
	var out domain.FlagDetail
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		p, envs, err := s.touchProject(tx, projectKey)
		if err != nil {
			return err
		}
		// touchProject locked the project's environments: concurrent creations in the
		// project count one at a time.
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM flags WHERE project_id = ?`, p.ID).Scan(&n).Error; err != nil {
			return err
		}
		if n >= domain.MaxFlagsPerProject {
			return domain.LimitReached("flags", "flags per project (archived ones included; delete flags nobody uses)", domain.MaxFlagsPerProject)
		}
		f.ID = uuid.NewString()
		f.Killed, f.Archived = false, false
		row := flagRowOf(p.ID, f)
		if err := tx.Omit("CreatedAt", "UpdatedAt").Create(&row).Error; err != nil {
			if domain.ErrorCode(translate(err)) == domain.CodeConflict {
				return domain.Errorf(domain.CodeConflict, "flag %q already exists in project %q", f.Key, projectKey)
			}
			return err
		}
		initial := f.InitialConfig()
		ids := make([]string, len(envs))
		for i, e := range envs {
			cr := configRowOf(row.ID, e.ID, initial)
			if err := tx.Omit("UpdatedAt").Create(&cr).Error; err != nil {
				return fmt.Errorf("initial config in %s: %w", e.Key, err)
			}
			ids[i] = e.ID
		}
		// Counting the environment costs a scan of it: only a definition over its fair
		// share is counted (see fairShare).
		if len(row.Variants)+len(row.Tags) > fairShare {
			if err := checkSnapshotSize(tx, ids); err != nil {
				return err
			}
		}
		if out, err = s.flagDetail(tx, p.ID, projectKey, f.Key); err != nil {
			return err
		}
		return audit(tx, o, change{action: domain.ActionFlagCreate, entityType: "flag",
			entityID: out.ID, entityKey: out.Key, project: p.Key, projectID: p.ID, flag: out.Key, after: out})
	})
	return out, err
}

func (s *Store) flagDetail(tx *gorm.DB, projectID, projectKey, key string) (domain.FlagDetail, error) {
	row, f, err := s.flagByKey(tx, projectID, projectKey, key, false)
	if err != nil {
		return domain.FlagDetail{}, err
	}
	envs, _, err := environmentIDs(tx, projectID)
	if err != nil {
		return domain.FlagDetail{}, err
	}
	configs, err := flagConfigs(tx, row.ID, envs)
	if err != nil {
		return domain.FlagDetail{}, err
	}
	return domain.FlagDetail{Flag: f, Environments: configs}, nil
}

// Flag returns a flag with its configuration in every environment.
func (s *Store) Flag(ctx context.Context, projectKey, key string) (domain.FlagDetail, error) {
	db := s.db.WithContext(ctx)
	p, err := s.projectByKey(db, projectKey)
	if err != nil {
		return domain.FlagDetail{}, translate(err)
	}
	d, err := s.flagDetail(db, p.ID, projectKey, key)
	return d, translate(err)
}

// likePattern escapes s for a LIKE pattern matching it anywhere.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// Flags lists a project's flags by key, each with its on/off state per environment.
func (s *Store) Flags(ctx context.Context, projectKey string, filter domain.FlagFilter, page domain.Page) ([]domain.FlagSummary, string, error) {
	db := s.db.WithContext(ctx)
	p, err := s.projectByKey(db, projectKey)
	if err != nil {
		return nil, "", translate(err)
	}
	q, err := pageByKey(db.Where("project_id = ? AND archived = ?", p.ID, filter.Archived), page)
	if err != nil {
		return nil, "", err
	}
	if filter.Tag != "" {
		q = q.Where("tags @> ?::jsonb", string(mustJSON([]string{filter.Tag})))
	}
	if filter.Query != "" {
		like := likePattern(filter.Query)
		q = q.Where("(key ILIKE ? OR name ILIKE ? OR description ILIKE ?)", like, like, like)
	}
	var rows []flagRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := trimPage(rows, page.Limit, func(r flagRow) string { return r.Key })
	out := make([]domain.FlagSummary, len(rows))
	index := make(map[string]int, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		f, err := r.domain()
		if err != nil {
			return nil, "", err
		}
		out[i] = domain.FlagSummary{Flag: f, Environments: map[string]domain.EnvironmentState{}}
		index[r.ID] = i
		ids[i] = r.ID
	}
	if len(ids) > 0 {
		var states []struct {
			FlagID        string
			Environment   string
			Enabled       bool
			Version       int64
			LastEvaluated *time.Time
		}
		if err := db.Raw(`SELECT c.flag_id, e.key AS environment, c.enabled, c.version, l.at AS last_evaluated
			FROM flag_configs c JOIN environments e ON e.id = c.environment_id JOIN flags f ON f.id = c.flag_id
			LEFT JOIN flag_last_evaluated l ON l.environment_id = c.environment_id AND l.flag_key = f.key
			WHERE c.flag_id IN ?`, ids).Scan(&states).Error; err != nil {
			return nil, "", translate(err)
		}
		for _, st := range states {
			out[index[st.FlagID]].Environments[st.Environment] = domain.EnvironmentState{Enabled: st.Enabled, Version: st.Version, LastEvaluated: st.LastEvaluated}
		}
	}
	return out, next, nil
}

// UpdateFlag applies fn to a flag and stores the result. fn sees the project's
// environments as locked for the change (so role checks run against them, inside the
// transaction), the flag's configuration in every environment and the prerequisites
// other flags hold on it, so it can refuse a change that would break them. action names the change in the audit
// trail (update, archive, kill ...).
func (s *Store) UpdateFlag(ctx context.Context, o domain.Origin, action, projectKey, key string,
	fn func(f *domain.Flag, envs []domain.Environment, configs map[string]domain.Config, deps []domain.Dependent) error) (domain.FlagDetail, error) {
	var out domain.FlagDetail
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		p, envs, err := s.touchProject(tx, projectKey)
		if err != nil {
			return err
		}
		row, f, err := s.flagByKey(tx, p.ID, projectKey, key, true)
		if err != nil {
			return err
		}
		configs, err := flagConfigs(tx, row.ID, envs)
		if err != nil {
			return err
		}
		deps, err := dependents(tx, p.ID, key)
		if err != nil {
			return err
		}
		before := domain.FlagDetail{Flag: f, Environments: configs}
		next := f
		locked := make([]domain.Environment, len(envs))
		for i, e := range envs {
			locked[i] = e.domain()
		}
		if err := fn(&next, locked, configs, deps); err != nil {
			return err
		}
		nr := flagRowOf(p.ID, next)
		was := flagRowOf(p.ID, f) // as Go encodes it: the stored text has PostgreSQL's spacing
		grows := len(nr.Variants)+len(nr.Tags) > max(fairShare, len(was.Variants)+len(was.Tags)) || f.Archived && !next.Archived
		if err := tx.Model(&row).Updates(map[string]any{
			"name": nr.Name, "description": nr.Description, "variants": nr.Variants, "tags": nr.Tags,
			"killed": nr.Killed, "archived": nr.Archived, "updated_at": gorm.Expr("now()"),
		}).Error; err != nil {
			return err
		}
		// The definition is part of every environment's snapshot.
		if grows {
			ids := make([]string, len(envs))
			for i, e := range envs {
				ids[i] = e.ID
			}
			if err := checkSnapshotSize(tx, ids); err != nil {
				return err
			}
		}
		if out, err = s.flagDetail(tx, p.ID, projectKey, key); err != nil {
			return err
		}
		return audit(tx, o, change{action: action, entityType: "flag", entityID: row.ID, entityKey: row.Key,
			project: p.Key, projectID: p.ID, flag: row.Key, before: before, after: out})
	})
	return out, err
}

// DeleteFlag deletes a flag and its configurations, after check has seen the
// prerequisites other flags hold on it.
func (s *Store) DeleteFlag(ctx context.Context, o domain.Origin, projectKey, key string,
	check func(f domain.Flag, deps []domain.Dependent) error) error {
	return s.inTx(ctx, func(tx *gorm.DB) error {
		p, _, err := s.touchProject(tx, projectKey)
		if err != nil {
			return err
		}
		before, err := s.flagDetail(tx, p.ID, projectKey, key)
		if err != nil {
			return err
		}
		deps, err := dependents(tx, p.ID, key)
		if err != nil {
			return err
		}
		if err := check(before.Flag, deps); err != nil {
			return err
		}
		if err := tx.Delete(&flagRow{}, "id = ?", before.ID).Error; err != nil {
			return err
		}
		return audit(tx, o, change{action: domain.ActionFlagDelete, entityType: "flag", entityID: before.ID,
			entityKey: before.Key, project: p.Key, projectID: p.ID, flag: before.Key, before: before})
	})
}

// Evaluations sums a flag's evaluation counts over [since, until), optionally in one
// environment, and says when it was last evaluated in each environment.
func (s *Store) Evaluations(ctx context.Context, projectKey, flagKey, envKey string, since, until time.Time) (domain.FlagEvaluations, error) {
	out := domain.FlagEvaluations{Flag: flagKey, Since: since, Until: until, Counts: []domain.EvaluationCount{}, LastEvaluated: map[string]time.Time{}}
	db := s.db.WithContext(ctx)
	p, err := s.projectByKey(db, projectKey)
	if err != nil {
		return out, translate(err)
	}
	if _, _, err := s.flagByKey(db, p.ID, projectKey, flagKey, false); err != nil {
		return out, translate(err)
	}
	if envKey != "" {
		if _, err := s.environmentByKey(db, p.ID, projectKey, envKey, false); err != nil {
			return out, translate(err)
		}
	}
	if err := db.Raw(`SELECT e.key AS environment, fe.variant, fe.reason, sum(fe.count) AS count
		FROM flag_evaluations fe JOIN environments e ON e.id = fe.environment_id
		WHERE e.project_id = ? AND fe.flag_key = ? AND fe.minute >= ? AND fe.minute < ? AND (? = '' OR e.key = ?)
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, p.ID, flagKey, since, until, envKey, envKey).Scan(&out.Counts).Error; err != nil {
		return out, translate(err)
	}
	var last []struct {
		Environment string
		At          time.Time
	}
	if err := db.Raw(`SELECT e.key AS environment, l.at FROM flag_last_evaluated l JOIN environments e ON e.id = l.environment_id
		WHERE e.project_id = ? AND l.flag_key = ? AND (? = '' OR e.key = ?)`, p.ID, flagKey, envKey, envKey).Scan(&last).Error; err != nil {
		return out, translate(err)
	}
	for _, l := range last {
		out.LastEvaluated[l.Environment] = l.At
	}
	return out, nil
}
