package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/pkg/domain"
)

type flagRow struct {
	ID          string `gorm:"primaryKey"`
	ProjectID   string
	Key         string
	Name        string
	Description string
	Kind        string
	Variants    json.RawMessage `gorm:"type:jsonb"`
	Tags        json.RawMessage `gorm:"type:jsonb"`
	Salt        string
	Killed      bool
	Archived    bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (flagRow) TableName() string { return "flags" }

func (r flagRow) domain() (domain.Flag, error) {
	f := domain.Flag{ID: r.ID, Key: r.Key, Name: r.Name, Description: r.Description, Kind: domain.Kind(r.Kind),
		Salt: r.Salt, Killed: r.Killed, Archived: r.Archived, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal(r.Variants, &f.Variants); err != nil {
		return f, fmt.Errorf("flag %s: variants: %w", r.Key, err)
	}
	if err := json.Unmarshal(r.Tags, &f.Tags); err != nil {
		return f, fmt.Errorf("flag %s: tags: %w", r.Key, err)
	}
	if f.Tags == nil {
		f.Tags = []string{}
	}
	return f, nil
}

func flagRowOf(projectID string, f domain.Flag) flagRow {
	tags := f.Tags
	if tags == nil {
		tags = []string{}
	}
	return flagRow{ID: f.ID, ProjectID: projectID, Key: f.Key, Name: f.Name, Description: f.Description,
		Kind: string(f.Kind), Variants: mustJSON(f.Variants), Tags: mustJSON(tags), Salt: f.Salt,
		Killed: f.Killed, Archived: f.Archived, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
}

// definitionSize is what a flag's definition adds to each snapshot of its project, as
// Go encodes it (the stored text has PostgreSQL's spacing).
func (r flagRow) definitionSize() int { return len(r.Variants) + len(r.Tags) }

func flagByKey(db *gorm.DB, projectID, projectKey, key string, lock bool) (flagRow, domain.Flag, error) {
	var r flagRow
	q := `SELECT * FROM flags WHERE project_id = ? AND key = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	if err := db.Raw(q, projectID, key).Scan(&r).Error; err != nil {
		return r, domain.Flag{}, err
	}
	if r.ID == "" {
		return r, domain.Flag{}, domain.Errorf(domain.CodeNotFound, "flag %q not found in project %q", key, projectKey)
	}
	f, err := r.domain()
	return r, f, err
}

// flagConfigs returns a flag's configuration in each environment, by environment key.
func flagConfigs(db *gorm.DB, flagID string, envs []environmentRow) (map[string]domain.Config, error) {
	var rows []configRow
	if err := db.Where("flag_id = ?", flagID).Find(&rows).Error; err != nil {
		return nil, err
	}
	return configsByEnvironment(rows, envs)
}

// configsByEnvironment keys a flag's configuration rows by their environments' keys.
func configsByEnvironment(rows []configRow, envs []environmentRow) (map[string]domain.Config, error) {
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

func environmentIDs(envs []environmentRow) []string {
	ids := make([]string, len(envs))
	for i, e := range envs {
		ids[i] = e.ID
	}
	return ids
}

// CreateFlag creates a flag with its initial, disabled configuration in every
// environment of the project.
func (s *Store) CreateFlag(ctx context.Context, o domain.Origin, projectKey string, f domain.Flag) (domain.FlagDetail, error) {
	var out domain.FlagDetail
	err := s.inTx(ctx, func(tx *txn) error {
		p, err := projectByKey(tx.DB, projectKey)
		if err != nil {
			return err
		}
		// The flag joins every environment's snapshot. With the environments locked,
		// concurrent creations in the project count one at a time.
		envs, err := tx.lockEnvironments(`project_id = ?`, p.ID)
		if err != nil {
			return err
		}
		ids := environmentIDs(envs)
		if _, err := tx.invalidate(ids); err != nil {
			return err
		}
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
		if err := tx.Omit("CreatedAt", "UpdatedAt").Clauses(clause.Returning{}).Create(&row).Error; err != nil {
			if domain.ErrorCode(translate(err)) == domain.CodeConflict {
				return domain.Errorf(domain.CodeConflict, "flag %q already exists in project %q", f.Key, projectKey)
			}
			return err
		}
		if out.Flag, err = row.domain(); err != nil {
			return err
		}
		initial := f.InitialConfig()
		configs := make([]configRow, len(envs))
		for i, e := range envs {
			configs[i] = configRowOf(row.ID, e.ID, initial)
		}
		if len(configs) > 0 {
			if err := tx.Omit("UpdatedAt").Clauses(clause.Returning{}).Create(&configs).Error; err != nil {
				return fmt.Errorf("initial configs: %w", err)
			}
		}
		if out.Environments, err = configsByEnvironment(configs, envs); err != nil {
			return err
		}
		// Counting the environment costs a scan of it: only a definition over its fair
		// share is counted (see fairShare).
		if row.definitionSize() > fairShare {
			if err := checkSnapshotSize(tx.DB, ids); err != nil {
				return err
			}
		}
		return tx.audit(o, change{action: domain.ActionFlagCreate, entityType: "flag",
			entityID: out.ID, entityKey: out.Key, project: p.Key, projectID: p.ID, flag: out.Key, after: out})
	})
	return out, err
}

// Flag returns a flag with its configuration in every environment.
func (s *Store) Flag(ctx context.Context, projectKey, key string) (domain.FlagDetail, error) {
	db := s.read(ctx)
	p, err := projectByKey(db, projectKey)
	if err != nil {
		return domain.FlagDetail{}, translate(err)
	}
	row, f, err := flagByKey(db, p.ID, projectKey, key, false)
	if err != nil {
		return domain.FlagDetail{}, translate(err)
	}
	var envs []environmentRow
	if err := db.Where("project_id = ?", p.ID).Find(&envs).Error; err != nil {
		return domain.FlagDetail{}, translate(err)
	}
	configs, err := flagConfigs(db, row.ID, envs)
	return domain.FlagDetail{Flag: f, Environments: configs}, translate(err)
}

// likePattern escapes s for a LIKE pattern matching it anywhere.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// Flags lists a project's flags by key, each with its on/off state per environment,
// when it was last evaluated there and overall, and whether it is stale
// (domain.Stale). A page costs two queries, whatever its size: the flags, then their
// configurations with their last evaluations, by primary key. The stale filter runs
// the same rule in SQL, one probe per environment of each flag it passes over.
func (s *Store) Flags(ctx context.Context, projectKey string, filter domain.FlagFilter, page domain.Keyset) ([]domain.FlagSummary, string, error) {
	db := s.read(ctx)
	p, err := projectByKey(db, projectKey)
	if err != nil {
		return nil, "", translate(err)
	}
	// PostgreSQL keeps microseconds: the cutoff the filter compares with is the one the
	// answer's stale fields are computed from.
	cutoff := p.domain().StaleCutoff(time.Now().UTC().Truncate(time.Microsecond))
	q := db.Where("project_id = ? AND archived = ?", p.ID, filter.Archived)
	if filter.Tag != "" {
		q = q.Where("tags @> ?::jsonb", string(mustJSON([]string{filter.Tag})))
	}
	if filter.Query != "" {
		like := likePattern(filter.Query)
		q = q.Where("(key ILIKE ? OR name ILIKE ? OR description ILIKE ?)", like, like, like)
	}
	if filter.Stale != nil {
		stale := `(flags.created_at < ? AND NOT EXISTS (SELECT 1 FROM flag_configs c
			JOIN flag_last_evaluated l ON l.environment_id = c.environment_id AND l.flag_key = flags.key
			WHERE c.flag_id = flags.id AND l.at >= ?))`
		if !*filter.Stale {
			stale = "NOT " + stale
		}
		q = q.Where(stale, cutoff, cutoff)
	}
	rows, next, err := listPage(q, "key", false, afterKey(page.After), page.Limit, func(r flagRow) string { return r.Key })
	if err != nil {
		return nil, "", err
	}
	out := make([]domain.FlagSummary, len(rows))
	index := make(map[string]int, len(rows))
	for i, r := range rows {
		f, err := r.domain()
		if err != nil {
			return nil, "", err
		}
		out[i] = domain.FlagSummary{Flag: f, Environments: map[string]domain.EnvironmentState{}}
		index[r.ID] = i
	}
	if len(rows) > 0 {
		var states []struct {
			FlagID        string
			Environment   string
			Enabled       bool
			Version       int64
			LastEvaluated *time.Time
			DefaultServe  []byte
		}
		if err := db.Raw(`SELECT c.flag_id, e.key AS environment, c.enabled, c.version, l.at AS last_evaluated, c.default_serve
			FROM flag_configs c JOIN environments e ON e.id = c.environment_id JOIN flags f ON f.id = c.flag_id
			LEFT JOIN flag_last_evaluated l ON l.environment_id = c.environment_id AND l.flag_key = f.key
			WHERE c.flag_id IN ?`, mapRows(rows, func(r flagRow) string { return r.ID })).Scan(&states).Error; err != nil {
			return nil, "", translate(err)
		}
		for _, st := range states {
			fs := &out[index[st.FlagID]]
			es := domain.EnvironmentState{Enabled: st.Enabled, Version: st.Version, LastEvaluated: st.LastEvaluated}
			var def domain.Serve
			if json.Unmarshal(st.DefaultServe, &def) == nil && def.Rollout != nil {
				es.Rollout = def.Rollout.Weights
			}
			fs.Environments[st.Environment] = es
			if st.LastEvaluated != nil && (fs.LastEvaluated == nil || st.LastEvaluated.After(*fs.LastEvaluated)) {
				fs.LastEvaluated = st.LastEvaluated
			}
		}
	}
	for i := range out {
		out[i].Stale = domain.Stale(out[i].CreatedAt, out[i].LastEvaluated, cutoff)
	}
	return out, next, nil
}

// flagChange is what a change to a flag's definition reads in its transaction: the
// project, its environments as locked, once the guard has passed them, and the flag's
// state.
type flagChange struct {
	project projectRow
	envs    []environmentRow
	row     flagRow
	state   domain.FlagState
}

// beginFlagChange locks a project's environments, runs guard on them, then reads the
// flag (locked) with its configurations and the prerequisites other flags hold on it.
func beginFlagChange(tx *txn, projectKey, key string, guard domain.Guard) (flagChange, error) {
	var c flagChange
	var err error
	if c.project, err = projectByKey(tx.DB, projectKey); err != nil {
		return c, err
	}
	if c.envs, err = tx.lockEnvironments(`project_id = ?`, c.project.ID); err != nil {
		return c, err
	}
	c.state.Environments = mapRows(c.envs, environmentRow.domain)
	if err := guarded(guard, c.state.Environments); err != nil {
		return c, err
	}
	if c.row, c.state.Flag, err = flagByKey(tx.DB, c.project.ID, projectKey, key, true); err != nil {
		return c, err
	}
	if c.state.Configs, err = flagConfigs(tx.DB, c.row.ID, c.envs); err != nil {
		return c, err
	}
	c.state.Dependents, err = dependents(tx.DB, c.project.ID, key)
	return c, err
}

// UpdateFlag stores the flag fn makes of the current one. fn decides on the flag's
// state as the transaction read it (domain.FlagState), so role checks run against the
// environments as locked and a change that would break other flags' prerequisites can
// be refused; it returns nil to leave the flag as it is, and then nothing is written,
// audited or invalidated. guard, when set, checks the caller first, before the flag is
// read. action names the change in the audit trail (update, archive, kill ...).
func (s *Store) UpdateFlag(ctx context.Context, o domain.Origin, action, projectKey, key string, guard domain.Guard,
	fn func(cur domain.FlagState) (*domain.Flag, error)) (domain.FlagDetail, error) {
	var out domain.FlagDetail
	err := s.inTx(ctx, func(tx *txn) error {
		c, err := beginFlagChange(tx, projectKey, key, guard)
		if err != nil {
			return err
		}
		before := domain.FlagDetail{Flag: c.state.Flag, Environments: c.state.Configs}
		next, err := fn(c.state)
		if err != nil || next == nil {
			out = before
			return err
		}
		// The definition is part of every environment's snapshot.
		ids := environmentIDs(c.envs)
		if _, err := tx.invalidate(ids); err != nil {
			return err
		}
		nr, was := flagRowOf(c.project.ID, *next), flagRowOf(c.project.ID, before.Flag)
		grows := nr.definitionSize() > max(fairShare, was.definitionSize()) || was.Archived && !nr.Archived
		row := c.row
		if err := tx.Raw(`UPDATE flags SET name = ?, description = ?, variants = ?, tags = ?, killed = ?, archived = ?,
			updated_at = now() WHERE id = ? RETURNING *`, nr.Name, nr.Description, nr.Variants, nr.Tags, nr.Killed, nr.Archived, row.ID).
			Scan(&row).Error; err != nil {
			return err
		}
		if grows {
			if err := checkSnapshotSize(tx.DB, ids); err != nil {
				return err
			}
		}
		out = domain.FlagDetail{Environments: c.state.Configs}
		if out.Flag, err = row.domain(); err != nil {
			return err
		}
		return tx.audit(o, change{action: action, entityType: "flag", entityID: row.ID, entityKey: row.Key,
			project: c.project.Key, projectID: c.project.ID, flag: row.Key, before: before, after: out})
	})
	return out, err
}

// DeleteFlag deletes a flag and its configurations, once guard has passed the
// project's environments as locked and check the flag's state (the prerequisites other
// flags hold on it).
func (s *Store) DeleteFlag(ctx context.Context, o domain.Origin, projectKey, key string, guard domain.Guard,
	check func(cur domain.FlagState) error) error {
	return s.inTx(ctx, func(tx *txn) error {
		c, err := beginFlagChange(tx, projectKey, key, guard)
		if err != nil {
			return err
		}
		if err := check(c.state); err != nil {
			return err
		}
		if _, err := tx.invalidate(environmentIDs(c.envs)); err != nil {
			return err
		}
		if err := tx.Delete(&flagRow{}, "id = ?", c.row.ID).Error; err != nil {
			return err
		}
		before := domain.FlagDetail{Flag: c.state.Flag, Environments: c.state.Configs}
		return tx.audit(o, change{action: domain.ActionFlagDelete, entityType: "flag", entityID: before.ID,
			entityKey: before.Key, project: c.project.Key, projectID: c.project.ID, flag: before.Key, before: before})
	})
}
