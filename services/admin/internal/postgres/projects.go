package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

// projectView is a project as the audit trail records it, with its environments.
type projectView struct {
	domain.Project
	Environments []domain.Environment `json:"environments,omitempty"`
}

func (s *Store) projectByKey(tx *gorm.DB, key string) (projectRow, error) {
	var p projectRow
	err := tx.Where("key = ?", key).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, domain.Errorf(domain.CodeNotFound, "project %q not found", key)
	}
	return p, err
}

// CreateProject creates a project with its environments.
func (s *Store) CreateProject(ctx context.Context, o domain.Origin, p domain.Project, envs []domain.Environment) (domain.Project, error) {
	row := projectRow{ID: uuid.NewString(), Key: p.Key, Name: p.Name, Description: p.Description}
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			if domain.ErrorCode(translate(err)) == domain.CodeConflict {
				return domain.Errorf(domain.CodeConflict, "project %q already exists", p.Key)
			}
			return err
		}
		view := projectView{Project: row.domain()}
		for _, e := range envs {
			er := environmentRow{ID: uuid.NewString(), ProjectID: row.ID, Key: e.Key, Name: e.Name,
				Description: e.Description, Protected: e.Protected, Version: 1}
			if err := tx.Create(&er).Error; err != nil {
				return fmt.Errorf("create environment %s: %w", e.Key, err)
			}
			view.Environments = append(view.Environments, er.domain())
		}
		return audit(tx, o, change{action: domain.ActionProjectCreate, entityType: "project",
			entityID: row.ID, entityKey: row.Key, project: row.Key, projectID: row.ID, after: view})
	})
	if err != nil {
		return domain.Project{}, err
	}
	return s.Project(ctx, p.Key)
}

// Projects lists projects by key: those named, or all.
func (s *Store) Projects(ctx context.Context, only []string, all bool, page domain.Page) ([]domain.Project, string, error) {
	db := s.db.WithContext(ctx)
	if !all {
		if len(only) == 0 {
			return []domain.Project{}, "", nil
		}
		db = db.Where("key IN ?", only)
	}
	q, err := pageByKey(db, page)
	if err != nil {
		return nil, "", err
	}
	var rows []projectRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := trimPage(rows, page.Limit, func(r projectRow) string { return r.Key })
	out := make([]domain.Project, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

// Project returns a project by key.
func (s *Store) Project(ctx context.Context, key string) (domain.Project, error) {
	r, err := s.projectByKey(s.db.WithContext(ctx), key)
	if err != nil {
		return domain.Project{}, translate(err)
	}
	return r.domain(), nil
}

// UpdateProject applies fn to a project and stores the result.
func (s *Store) UpdateProject(ctx context.Context, o domain.Origin, key string, fn func(*domain.Project) error) (domain.Project, error) {
	var out domain.Project
	err := s.inTx(ctx, func(tx *gorm.DB) error {
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
		if err := tx.Model(&row).Updates(map[string]any{"name": p.Name, "description": p.Description, "updated_at": gorm.Expr("now()")}).Error; err != nil {
			return err
		}
		if err := tx.Take(&row, "id = ?", row.ID).Error; err != nil {
			return err
		}
		out = row.domain()
		return audit(tx, o, change{action: domain.ActionProjectUpdate, entityType: "project",
			entityID: row.ID, entityKey: row.Key, project: row.Key, projectID: row.ID, before: before, after: out})
	})
	return out, err
}

// DeleteProject deletes a project with its environments and flags. The audit trail
// keeps the project's history; evaluators are told its environments are gone.
func (s *Store) DeleteProject(ctx context.Context, o domain.Origin, key string) error {
	return s.inTx(ctx, func(tx *gorm.DB) error {
		row, err := s.projectByKey(tx, key)
		if err != nil {
			return err
		}
		var envs []environmentRow
		if err := tx.Raw(`SELECT * FROM environments WHERE project_id = ? ORDER BY id FOR UPDATE`, row.ID).Scan(&envs).Error; err != nil {
			return err
		}
		view := projectView{Project: row.domain()}
		for _, e := range envs {
			view.Environments = append(view.Environments, e.domain())
		}
		if err := tx.Delete(&projectRow{}, "id = ?", row.ID).Error; err != nil {
			return err
		}
		if err := gone(tx, envs); err != nil {
			return err
		}
		return audit(tx, o, change{action: domain.ActionProjectDelete, entityType: "project",
			entityID: row.ID, entityKey: row.Key, project: row.Key, projectID: row.ID, before: view})
	})
}
