package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
)

type userRow struct {
	ID                string `gorm:"primaryKey"`
	Email             string
	Name              string
	PasswordHash      string
	InstanceAdmin     bool
	Disabled          bool
	PasswordChangedAt time.Time `gorm:"->"`
	CreatedAt         time.Time `gorm:"->"`
	UpdatedAt         time.Time `gorm:"->"`
}

func (userRow) TableName() string { return "users" }

func (r userRow) domain() domain.User {
	return domain.User{ID: r.ID, Email: r.Email, Name: r.Name, InstanceAdmin: r.InstanceAdmin, Disabled: r.Disabled,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// Credentials is what login and session checks need to know about a user.
type Credentials struct {
	User              domain.User
	PasswordHash      string
	PasswordChangedAt time.Time
}

func validUUID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil
}

func (s *Store) userByID(tx *gorm.DB, id string, lock bool) (userRow, error) {
	var r userRow
	if !validUUID(id) {
		return r, domain.Errorf(domain.CodeNotFound, "user %q not found", id)
	}
	q := `SELECT * FROM users WHERE id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	if err := tx.Raw(q, id).Scan(&r).Error; err != nil {
		return r, err
	}
	if r.ID == "" {
		return r, domain.Errorf(domain.CodeNotFound, "user %q not found", id)
	}
	return r, nil
}

// grants returns a user's role in each project, by project key.
func grants(tx *gorm.DB, userID string) (map[string]domain.Grant, error) {
	var rows []struct {
		Project          string
		Role             string
		EnvironmentRoles []byte
	}
	if err := tx.Raw(`SELECT p.key AS project, m.role, m.environment_roles FROM memberships m
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

// CreateUser creates a user with a password hash.
func (s *Store) CreateUser(ctx context.Context, o domain.Origin, u domain.User, hash string) (domain.User, error) {
	var out domain.User
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		row := userRow{ID: uuid.NewString(), Email: u.Email, Name: u.Name, PasswordHash: hash, InstanceAdmin: u.InstanceAdmin}
		if err := tx.Omit("PasswordChangedAt", "CreatedAt", "UpdatedAt").Create(&row).Error; err != nil {
			if domain.ErrorCode(translate(err)) == domain.CodeConflict {
				return domain.Errorf(domain.CodeConflict, "a user with email %q exists", u.Email)
			}
			return err
		}
		if err := tx.Take(&row, "id = ?", row.ID).Error; err != nil {
			return err
		}
		out = row.domain()
		out.Projects = map[string]domain.Grant{}
		return audit(tx, o, change{action: domain.ActionUserCreate, entityType: "user", entityID: row.ID, entityKey: row.Email, after: out})
	})
	return out, err
}

// Users lists users by email.
func (s *Store) Users(ctx context.Context, page domain.Page) ([]domain.User, string, error) {
	after, err := httpapi.DecodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Order("lower(email)").Limit(page.Limit + 1)
	if after != "" {
		q = q.Where("lower(email) > ?", after)
	}
	var rows []userRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := trimPage(rows, page.Limit, func(r userRow) string { return strings.ToLower(r.Email) })
	out := make([]domain.User, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

// User returns a user with their projects.
func (s *Store) User(ctx context.Context, id string) (domain.User, error) {
	db := s.db.WithContext(ctx)
	r, err := s.userByID(db, id, false)
	if err != nil {
		return domain.User{}, translate(err)
	}
	u := r.domain()
	if u.Projects, err = grants(db, id); err != nil {
		return u, translate(err)
	}
	return u, nil
}

// CredentialsByEmail finds a user for login; the email is case-insensitive.
func (s *Store) CredentialsByEmail(ctx context.Context, email string) (Credentials, error) {
	var r userRow
	if err := s.db.WithContext(ctx).Raw(`SELECT * FROM users WHERE lower(email) = lower(?)`, email).Scan(&r).Error; err != nil {
		return Credentials{}, translate(err)
	}
	if r.ID == "" {
		return Credentials{}, domain.Errorf(domain.CodeNotFound, "no such user")
	}
	return Credentials{User: r.domain(), PasswordHash: r.PasswordHash, PasswordChangedAt: r.PasswordChangedAt}, nil
}

// Session returns what a session check needs: the user, when their password last
// changed, and their grants.
func (s *Store) Session(ctx context.Context, userID string) (Credentials, map[string]domain.Grant, error) {
	db := s.db.WithContext(ctx)
	r, err := s.userByID(db, userID, false)
	if err != nil {
		return Credentials{}, nil, translate(err)
	}
	g, err := grants(db, userID)
	if err != nil {
		return Credentials{}, nil, translate(err)
	}
	return Credentials{User: r.domain(), PasswordHash: r.PasswordHash, PasswordChangedAt: r.PasswordChangedAt}, g, nil
}

// UserChange is what UpdateUser may change; nil fields stay.
type UserChange struct {
	Name          *string
	Disabled      *bool
	InstanceAdmin *bool
	PasswordHash  *string
}

// UpdateUser applies fn's change to a user. fn sees the stored user and its hash.
func (s *Store) UpdateUser(ctx context.Context, o domain.Origin, id string, fn func(u domain.User, hash string) (UserChange, error)) (domain.User, error) {
	var out domain.User
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		r, err := s.userByID(tx, id, true)
		if err != nil {
			return err
		}
		before := r.domain()
		ch, err := fn(before, r.PasswordHash)
		if err != nil {
			return err
		}
		set := map[string]any{"updated_at": gorm.Expr("now()")}
		if ch.Name != nil {
			set["name"] = *ch.Name
		}
		if ch.Disabled != nil {
			set["disabled"] = *ch.Disabled
		}
		if ch.InstanceAdmin != nil {
			set["instance_admin"] = *ch.InstanceAdmin
		}
		if ch.PasswordHash != nil {
			set["password_hash"] = *ch.PasswordHash
		}
		if err := tx.Model(&userRow{}).Where("id = ?", id).Updates(set).Error; err != nil {
			return err
		}
		if ch.PasswordHash != nil {
			// The column is read-only to the model; a new value ends earlier sessions.
			if err := tx.Exec(`UPDATE users SET password_changed_at = clock_timestamp() WHERE id = ?`, id).Error; err != nil {
				return err
			}
			if err := revokeOwnedTokens(tx, o, id, "the owner's password changed"); err != nil {
				return err
			}
		}
		r, err = s.userByID(tx, id, false)
		if err != nil {
			return err
		}
		out = r.domain()
		after := map[string]any{"user": out, "password_changed": ch.PasswordHash != nil}
		return audit(tx, o, change{action: domain.ActionUserUpdate, entityType: "user", entityID: id, entityKey: out.Email,
			before: before, after: after})
	})
	return out, err
}

// membership finds the project and the user a role change is about, with the user's
// grants before it.
func (s *Store) membership(tx *gorm.DB, projectKey, userID string) (projectRow, userRow, map[string]domain.Grant, error) {
	p, err := s.projectByKey(tx, projectKey)
	if err != nil {
		return p, userRow{}, nil, err
	}
	u, err := s.userByID(tx, userID, false)
	if err != nil {
		return p, u, nil, err
	}
	before, err := grants(tx, userID)
	return p, u, before, err
}

// SetMember grants a user a role in a project, replacing any earlier grant.
func (s *Store) SetMember(ctx context.Context, o domain.Origin, projectKey, userID string, g domain.Grant) (domain.Grant, error) {
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		p, u, before, err := s.membership(tx, projectKey, userID)
		if err != nil {
			return err
		}
		if g.EnvironmentRoles == nil {
			g.EnvironmentRoles = map[string]domain.Role{}
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
		return audit(tx, o, change{action: domain.ActionMemberSet, entityType: "member", entityID: userID,
			entityKey: u.Email, project: p.Key, projectID: p.ID, before: prev, after: g})
	})
	return g, err
}

// RemoveMember takes a user's role in a project away.
func (s *Store) RemoveMember(ctx context.Context, o domain.Origin, projectKey, userID string) error {
	return s.inTx(ctx, func(tx *gorm.DB) error {
		p, u, before, err := s.membership(tx, projectKey, userID)
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
		return audit(tx, o, change{action: domain.ActionMemberRemove, entityType: "member", entityID: userID,
			entityKey: u.Email, project: p.Key, projectID: p.ID, before: g})
	})
}
