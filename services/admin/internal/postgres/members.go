package postgres

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

// grants returns a user's role in each project, by project key.
func grants(db *gorm.DB, userID string) (map[string]domain.Grant, error) {
	var rows []struct {
		Project          string
		Role             string
		EnvironmentRoles []byte
	}
	if err := db.Raw(`SELECT p.key AS project, m.role, m.environment_roles FROM memberships m
		JOIN projects p ON p.id = m.project_id WHERE m.user_id = ?`, userID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]domain.Grant, len(rows))
	for _, r := range rows {
		g := domain.Grant{Role: domain.Role(r.Role)}
		if err := json.Unmarshal(r.EnvironmentRoles, &g.EnvironmentRoles); err != nil {
			return nil, err
		}
		out[r.Project] = g
	}
	return out, nil
}

// membership finds the project and the user a role change is about, with the user's
// grants before it.
func membership(db *gorm.DB, projectKey, userID string) (projectRow, userRow, map[string]domain.Grant, error) {
	p, err := projectByKey(db, projectKey)
	if err != nil {
		return p, userRow{}, nil, err
	}
	u, err := userByID(db, userID, false)
	if err != nil {
		return p, u, nil, err
	}
	before, err := grants(db, userID)
	return p, u, before, err
}

// SetMember grants a user a role in a project, replacing any earlier grant.
func (s *Store) SetMember(ctx context.Context, o domain.Origin, projectKey, userID string, g domain.Grant) (domain.Grant, error) {
	if g.EnvironmentRoles == nil {
		g.EnvironmentRoles = map[string]domain.Role{}
	}
	err := s.inTx(ctx, func(tx *txn) error {
		p, u, before, err := membership(tx.DB, projectKey, userID)
		if err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO memberships (user_id, project_id, role, environment_roles) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id, project_id) DO UPDATE SET role = EXCLUDED.role,
				environment_roles = EXCLUDED.environment_roles, updated_at = now()`,
			userID, p.ID, string(g.Role), mustJSON(g.EnvironmentRoles)).Error; err != nil {
			return err
		}
		var prev any
		if b, ok := before[p.Key]; ok {
			prev = b
		}
		return tx.audit(o, change{action: domain.ActionMemberSet, entityType: "member", entityID: userID,
			entityKey: u.Email, project: p.Key, projectID: p.ID, before: prev, after: g})
	})
	return g, err
}

// RemoveMember takes a user's role in a project away.
func (s *Store) RemoveMember(ctx context.Context, o domain.Origin, projectKey, userID string) error {
	return s.inTx(ctx, func(tx *txn) error {
		p, u, before, err := membership(tx.DB, projectKey, userID)
		if err != nil {
			return err
		}
		g, ok := before[p.Key]
		if !ok {
			// Name the user by the id the caller sent, never by email: an admin of one
			// project must not learn who stands behind any user id.
			return domain.Errorf(domain.CodeNotFound, "user %q has no role in project %q", userID, projectKey)
		}
		if err := tx.Exec(`DELETE FROM memberships WHERE user_id = ? AND project_id = ?`, userID, p.ID).Error; err != nil {
			return err
		}
		return tx.audit(o, change{action: domain.ActionMemberRemove, entityType: "member", entityID: userID,
			entityKey: u.Email, project: p.Key, projectID: p.ID, before: g})
	})
}

// Members lists a project's members with their grants, by email.
func (s *Store) Members(ctx context.Context, projectKey string) ([]domain.Member, error) {
	db := s.read(ctx)
	p, err := projectByKey(db, projectKey)
	if err != nil {
		return nil, translate(err)
	}
	var rows []struct {
		UserID           string
		Email            string
		Name             string
		Role             string
		EnvironmentRoles []byte
		UpdatedAt        time.Time
	}
	if err := db.Raw(`SELECT u.id AS user_id, u.email, u.name, m.role, m.environment_roles, m.updated_at
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.project_id = ? ORDER BY lower(u.email), u.id`, p.ID).Scan(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Member, 0, len(rows))
	for _, r := range rows {
		m := domain.Member{UserID: r.UserID, Email: r.Email, Name: r.Name, Grant: domain.Grant{Role: domain.Role(r.Role)}, UpdatedAt: r.UpdatedAt}
		if err := json.Unmarshal(r.EnvironmentRoles, &m.EnvironmentRoles); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
