package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

func (s *Store) environmentByKey(tx *gorm.DB, projectID, projectKey, key string, lock bool) (environmentRow, error) {
	var e environmentRow
	q := `SELECT * FROM environments WHERE project_id = ? AND key = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	if err := tx.Raw(q, projectID, key).Scan(&e).Error; err != nil {
		return e, err
	}
	if e.ID == "" {
		return e, domain.Errorf(domain.CodeNotFound, "environment %q not found in project %q", key, projectKey)
	}
	return e, nil
}

// projectEnvironment finds a project and one of its environments by key, locking the
// environment's row when lock is set.
func (s *Store) projectEnvironment(tx *gorm.DB, projectKey, envKey string, lock bool) (projectRow, environmentRow, error) {
	p, err := s.projectByKey(tx, projectKey)
	if err != nil {
		return p, environmentRow{}, err
	}
	e, err := s.environmentByKey(tx, p.ID, projectKey, envKey, lock)
	return p, e, err
}

// CreateEnvironment adds an environment to a project; every flag of the project gets
// its initial, disabled configuration there.
func (s *Store) CreateEnvironment(ctx context.Context, o domain.Origin, projectKey string, e domain.Environment) (domain.Environment, error) {
	var out domain.Environment
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		p, err := s.projectByKey(tx, projectKey)
		if err != nil {
			return err
		}
		// The project's row is locked, so concurrent creations count one at a time.
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM environments WHERE project_id = (SELECT id FROM projects WHERE id = ? FOR UPDATE)`, p.ID).
			Scan(&n).Error; err != nil {
			return err
		}
		if n >= domain.MaxEnvironmentsPerProject {
			return domain.LimitReached("environments", "environments per project", domain.MaxEnvironmentsPerProject)
		}
		row := environmentRow{ID: uuid.NewString(), ProjectID: p.ID, Key: e.Key, Name: e.Name,
			Description: e.Description, Protected: e.Protected, Version: 1}
		if err := tx.Create(&row).Error; err != nil {
			if domain.ErrorCode(translate(err)) == domain.CodeConflict {
				return domain.Errorf(domain.CodeConflict, "environment %q already exists in project %q", e.Key, projectKey)
			}
			return err
		}
		var flags []flagRow
		if err := tx.Where("project_id = ?", p.ID).Find(&flags).Error; err != nil {
			return err
		}
		for _, fr := range flags {
			f, err := fr.domain()
			if err != nil {
				return err
			}
			cr := configRowOf(fr.ID, row.ID, f.InitialConfig())
			if err := tx.Omit("UpdatedAt").Create(&cr).Error; err != nil {
				return fmt.Errorf("initial config of %s: %w", f.Key, err)
			}
		}
		if err := tx.Take(&row, "id = ?", row.ID).Error; err != nil {
			return err
		}
		out = row.domain()
		return audit(tx, o, change{action: domain.ActionEnvironmentCreate, entityType: "environment",
			entityID: row.ID, entityKey: row.Key, project: p.Key, projectID: p.ID, environment: row.Key, after: out})
	})
	return out, err
}

// Environments lists a project's environments by key.
func (s *Store) Environments(ctx context.Context, projectKey string, page domain.Page) ([]domain.Environment, string, error) {
	db := s.db.WithContext(ctx)
	p, err := s.projectByKey(db, projectKey)
	if err != nil {
		return nil, "", translate(err)
	}
	q, err := pageByKey(db.Where("project_id = ?", p.ID), page)
	if err != nil {
		return nil, "", err
	}
	var rows []environmentRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := trimPage(rows, page.Limit, func(r environmentRow) string { return r.Key })
	out := make([]domain.Environment, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

// AllEnvironments lists every environment of a project, by key, without paging:
// for checks that must see all of them (a project has at most
// domain.MaxEnvironmentsPerProject).
func (s *Store) AllEnvironments(ctx context.Context, projectKey string) ([]domain.Environment, error) {
	db := s.db.WithContext(ctx)
	p, err := s.projectByKey(db, projectKey)
	if err != nil {
		return nil, translate(err)
	}
	var rows []environmentRow
	if err := db.Where("project_id = ?", p.ID).Order("key").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Environment, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// Environment returns one environment of a project.
func (s *Store) Environment(ctx context.Context, projectKey, key string) (domain.Environment, error) {
	db := s.db.WithContext(ctx)
	_, e, err := s.projectEnvironment(db, projectKey, key, false)
	if err != nil {
		return domain.Environment{}, translate(err)
	}
	return e.domain(), nil
}

// UpdateEnvironment applies fn to an environment and stores the result.
func (s *Store) UpdateEnvironment(ctx context.Context, o domain.Origin, projectKey, key string, fn func(*domain.Environment) error) (domain.Environment, error) {
	var out domain.Environment
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		p, row, err := s.projectEnvironment(tx, projectKey, key, true)
		if err != nil {
			return err
		}
		before := row.domain()
		e := before
		if err := fn(&e); err != nil {
			return err
		}
		if err := touch(tx, []string{row.ID}); err != nil {
			return err
		}
		if err := tx.Model(&row).Updates(map[string]any{"name": e.Name, "description": e.Description,
			"protected": e.Protected, "updated_at": gorm.Expr("now()")}).Error; err != nil {
			return err
		}
		if err := tx.Take(&row, "id = ?", row.ID).Error; err != nil {
			return err
		}
		out = row.domain()
		return audit(tx, o, change{action: domain.ActionEnvironmentUpdate, entityType: "environment",
			entityID: row.ID, entityKey: row.Key, project: p.Key, projectID: p.ID, environment: row.Key, before: before, after: out})
	})
	return out, err
}

// DeleteEnvironment deletes an environment and its flag configurations.
func (s *Store) DeleteEnvironment(ctx context.Context, o domain.Origin, projectKey, key string) error {
	return s.inTx(ctx, func(tx *gorm.DB) error {
		p, row, err := s.projectEnvironment(tx, projectKey, key, true)
		if err != nil {
			return err
		}
		if err := tx.Delete(&environmentRow{}, "id = ?", row.ID).Error; err != nil {
			return err
		}
		if err := gone(tx, []environmentRow{row}); err != nil {
			return err
		}
		return audit(tx, o, change{action: domain.ActionEnvironmentDelete, entityType: "environment",
			entityID: row.ID, entityKey: row.Key, project: p.Key, projectID: p.ID, environment: row.Key, before: row.domain()})
	})
}
