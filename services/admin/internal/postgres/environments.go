package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/pkg/domain"
)

type environmentRow struct {
	ID          string `gorm:"primaryKey"`
	ProjectID   string
	Key         string
	Name        string
	Description string
	Protected   bool
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (environmentRow) TableName() string { return "environments" }

func (r environmentRow) domain() domain.Environment {
	return domain.Environment{ID: r.ID, Key: r.Key, Name: r.Name, Description: r.Description,
		Protected: r.Protected, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func environmentByKey(db *gorm.DB, projectID, projectKey, key string, lock bool) (environmentRow, error) {
	var e environmentRow
	q := `SELECT * FROM environments WHERE project_id = ? AND key = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	if err := db.Raw(q, projectID, key).Scan(&e).Error; err != nil {
		return e, err
	}
	if e.ID == "" {
		return e, domain.Errorf(domain.CodeNotFound, "environment %q not found in project %q", key, projectKey)
	}
	return e, nil
}

// projectEnvironment finds a project and one of its environments by key, locking the
// environment's row when lock is set.
func projectEnvironment(db *gorm.DB, projectKey, envKey string, lock bool) (projectRow, environmentRow, error) {
	p, err := projectByKey(db, projectKey)
	if err != nil {
		return p, environmentRow{}, err
	}
	e, err := environmentByKey(db, p.ID, projectKey, envKey, lock)
	return p, e, err
}

// CreateEnvironment adds an environment to a project; every flag of the project gets
// its initial, disabled configuration there.
func (s *Store) CreateEnvironment(ctx context.Context, o domain.Origin, projectKey string, e domain.Environment) (domain.Environment, error) {
	var out domain.Environment
	err := s.inTx(ctx, func(tx *txn) error {
		p, err := projectByKey(tx.DB, projectKey)
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
		if err := tx.Clauses(clause.Returning{}).Create(&row).Error; err != nil {
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
		out = row.domain()
		return tx.audit(o, change{action: domain.ActionEnvironmentCreate, entityType: "environment",
			entityID: row.ID, entityKey: row.Key, project: p.Key, projectID: p.ID, environment: row.Key, after: out})
	})
	return out, err
}

// Environments lists a project's environments by key.
func (s *Store) Environments(ctx context.Context, projectKey string, page domain.Keyset) ([]domain.Environment, string, error) {
	db := s.read(ctx)
	p, err := projectByKey(db, projectKey)
	if err != nil {
		return nil, "", translate(err)
	}
	rows, next, err := listPage(db.Where("project_id = ?", p.ID), "key", false, afterKey(page.After), page.Limit,
		func(r environmentRow) string { return r.Key })
	return mapRows(rows, environmentRow.domain), next, err
}

// AllEnvironments lists every environment of a project, by key, without paging:
// for checks that must see all of them (a project has at most
// domain.MaxEnvironmentsPerProject).
func (s *Store) AllEnvironments(ctx context.Context, projectKey string) ([]domain.Environment, error) {
	db := s.read(ctx)
	p, err := projectByKey(db, projectKey)
	if err != nil {
		return nil, translate(err)
	}
	var rows []environmentRow
	if err := db.Where("project_id = ?", p.ID).Order("key").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	return mapRows(rows, environmentRow.domain), nil
}

// Environment returns one environment of a project.
func (s *Store) Environment(ctx context.Context, projectKey, key string) (domain.Environment, error) {
	_, e, err := projectEnvironment(s.read(ctx), projectKey, key, false)
	if err != nil {
		return domain.Environment{}, translate(err)
	}
	return e.domain(), nil
}

// UpdateEnvironment applies fn to an environment and stores the result.
func (s *Store) UpdateEnvironment(ctx context.Context, o domain.Origin, projectKey, key string, fn func(*domain.Environment) error) (domain.Environment, error) {
	var out domain.Environment
	err := s.inTx(ctx, func(tx *txn) error {
		p, row, err := projectEnvironment(tx.DB, projectKey, key, true)
		if err != nil {
			return err
		}
		before := row.domain()
		e := before
		if err := fn(&e); err != nil {
			return err
		}
		if _, err := tx.invalidate([]string{row.ID}); err != nil {
			return err
		}
		if err := tx.Raw(`UPDATE environments SET name = ?, description = ?, protected = ?, updated_at = now() WHERE id = ? RETURNING *`,
			e.Name, e.Description, e.Protected, row.ID).Scan(&row).Error; err != nil {
			return err
		}
		out = row.domain()
		return tx.audit(o, change{action: domain.ActionEnvironmentUpdate, entityType: "environment",
			entityID: row.ID, entityKey: row.Key, project: p.Key, projectID: p.ID, environment: row.Key, before: before, after: out})
	})
	return out, err
}

// DeleteEnvironment deletes an environment and its flag configurations.
func (s *Store) DeleteEnvironment(ctx context.Context, o domain.Origin, projectKey, key string) error {
	return s.inTx(ctx, func(tx *txn) error {
		p, row, err := projectEnvironment(tx.DB, projectKey, key, true)
		if err != nil {
			return err
		}
		if err := tx.Delete(&environmentRow{}, "id = ?", row.ID).Error; err != nil {
			return err
		}
		if err := tx.dropped([]environmentRow{row}); err != nil {
			return err
		}
		return tx.audit(o, change{action: domain.ActionEnvironmentDelete, entityType: "environment",
			entityID: row.ID, entityKey: row.Key, project: p.Key, projectID: p.ID, environment: row.Key, before: row.domain()})
	})
}
