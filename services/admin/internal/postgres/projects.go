package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/pkg/domain"
)

type projectRow struct {
	ID             string `gorm:"primaryKey"`
	Key            string
	Name           string
	Description    string
	StaleAfterDays int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (projectRow) TableName() string { return "projects" }

func (r projectRow) domain() domain.Project {
	return domain.Project{ID: r.ID, Key: r.Key, Name: r.Name, Description: r.Description, StaleAfterDays: r.StaleAfterDays,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// projectView is a project as the audit trail records it, with its environments.
type projectView struct {
	domain.Project
	Environments []domain.Environment `json:"environments,omitempty"`
}

func projectByKey(db *gorm.DB, key string) (projectRow, error) {
	var p projectRow
	err := db.Where("key = ?", key).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, domain.Errorf(domain.CodeNotFound, "project %q not found", key)
	}
	return p, err
}

// CreateProject creates a project with its environments.
func (s *Store) CreateProject(ctx context.Context, o domain.Origin, p domain.Project, envs []domain.Environment) (domain.Project, error) {
	var out domain.Project
	err := s.inTx(ctx, func(tx *txn) error {
		if p.StaleAfterDays == 0 {
			p.StaleAfterDays = domain.DefaultStaleAfterDays
		}
		row := projectRow{ID: uuid.NewString(), Key: p.Key, Name: p.Name, Description: p.Description, StaleAfterDays: p.StaleAfterDays}
		if err := tx.Clauses(clause.Returning{}).Create(&row).Error; err != nil {
			if domain.ErrorCode(translate(err)) == domain.CodeConflict {
				return domain.Errorf(domain.CodeConflict, "project %q already exists", p.Key)
			}
			return err
		}
		out = row.domain()
		view := projectView{Project: out}
		for _, e := range envs {
			er := environmentRow{ID: uuid.NewString(), ProjectID: row.ID, Key: e.Key, Name: e.Name,
				Description: e.Description, Protected: e.Protected, Version: 1}
			if err := tx.Clauses(clause.Returning{}).Create(&er).Error; err != nil {
				return fmt.Errorf("create environment %s: %w", e.Key, err)
			}
			view.Environments = append(view.Environments, er.domain())
		}
		return tx.audit(o, change{action: domain.ActionProjectCreate, entityType: "project",
			entityID: row.ID, entityKey: row.Key, project: row.Key, projectID: row.ID, after: view})
	})
	return out, err
}

// Projects lists projects by key: those named, or all.
func (s *Store) Projects(ctx context.Context, only []string, all bool, page domain.Keyset) ([]domain.Project, string, error) {
	q := s.read(ctx)
	if !all {
		if len(only) == 0 {
			return []domain.Project{}, "", nil
		}
		q = q.Where("key IN ?", only)
	}
	rows, next, err := listPage(q, "key", false, afterKey(page.After), page.Limit, func(r projectRow) string { return r.Key })
	return mapRows(rows, projectRow.domain), next, err
}

// Project returns a project by key.
func (s *Store) Project(ctx context.Context, key string) (domain.Project, error) {
	r, err := projectByKey(s.read(ctx), key)
	if err != nil {
		return domain.Project{}, translate(err)
	}
	return r.domain(), nil
}

// UpdateProject applies fn to a project and stores the result.
func (s *Store) UpdateProject(ctx context.Context, o domain.Origin, key string, fn func(*domain.Project) error) (domain.Project, error) {
	var out domain.Project
	err := s.inTx(ctx, func(tx *txn) error {
		var row projectRow
		if err := tx.Raw(`SELECT * FROM projects WHERE key = ? FOR UPDATE`, key).Scan(&row).Error; err != nil {
			return err
		}
		if row.ID == "" {
			return domain.Errorf(domain.CodeNotFound, "project %q not found", key)
		}
		before := row.domain()
		p := before
		if err := fn(&p); err != nil {
			return err
		}
		if err := tx.Raw(`UPDATE projects SET name = ?, description = ?, stale_after_days = ?, updated_at = now() WHERE id = ? RETURNING *`,
			p.Name, p.Description, p.StaleAfterDays, row.ID).Scan(&row).Error; err != nil {
			return err
		}
		out = row.domain()
		return tx.audit(o, change{action: domain.ActionProjectUpdate, entityType: "project",
			entityID: row.ID, entityKey: row.Key, project: row.Key, projectID: row.ID, before: before, after: out})
	})
	return out, err
}

// DeleteProject deletes a project with its environments and flags, once guard has
// passed its environments as locked. The audit trail keeps the project's history;
// evaluators are told its environments are gone.
func (s *Store) DeleteProject(ctx context.Context, o domain.Origin, key string, guard domain.Guard) error {
	return s.inTx(ctx, func(tx *txn) error {
		row, err := projectByKey(tx.DB, key)
		if err != nil {
			return err
		}
		envs, err := tx.lockEnvironments(`project_id = ?`, row.ID)
		if err != nil {
			return err
		}
		view := projectView{Project: row.domain(), Environments: mapRows(envs, environmentRow.domain)}
		if err := guarded(guard, view.Environments); err != nil {
			return err
		}
		if err := tx.Delete(&projectRow{}, "id = ?", row.ID).Error; err != nil {
			return err
		}
		if err := tx.dropped(envs); err != nil {
			return err
		}
		return tx.audit(o, change{action: domain.ActionProjectDelete, entityType: "project",
			entityID: row.ID, entityKey: row.Key, project: row.Key, projectID: row.ID, before: view})
	})
}
