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

func (r userRow) credentials() domain.Credentials {
	return domain.Credentials{User: r.domain(), PasswordHash: r.PasswordHash, PasswordChangedAt: r.PasswordChangedAt}
}

func validUUID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil
}

func userByID(db *gorm.DB, id string, lock bool) (userRow, error) {
	var r userRow
	if !validUUID(id) {
		return r, domain.Errorf(domain.CodeNotFound, "user %q not found", id)
	}
	q := `SELECT * FROM users WHERE id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	if err := db.Raw(q, id).Scan(&r).Error; err != nil {
		return r, err
	}
	if r.ID == "" {
		return r, domain.Errorf(domain.CodeNotFound, "user %q not found", id)
	}
	return r, nil
}

// CreateUser creates a user with a password hash.
func (s *Store) CreateUser(ctx context.Context, o domain.Origin, u domain.User, hash string) (domain.User, error) {
	var out domain.User
	err := s.inTx(ctx, func(tx *txn) error {
		row := userRow{ID: uuid.NewString(), Email: u.Email, Name: u.Name, PasswordHash: hash, InstanceAdmin: u.InstanceAdmin}
		if err := tx.Omit("PasswordChangedAt", "CreatedAt", "UpdatedAt").Clauses(clause.Returning{}).Create(&row).Error; err != nil {
			if domain.ErrorCode(translate(err)) == domain.CodeConflict {
				return domain.Errorf(domain.CodeConflict, "a user with email %q exists", u.Email)
			}
			return err
		}
		out = row.domain()
		out.Projects = map[string]domain.Grant{}
		return tx.audit(o, change{action: domain.ActionUserCreate, entityType: "user", entityID: row.ID, entityKey: row.Email, after: out})
	})
	return out, err
}

// Users lists users by email.
func (s *Store) Users(ctx context.Context, page domain.Keyset) ([]domain.User, string, error) {
	rows, next, err := listPage(s.read(ctx), "lower(email)", false, afterKey(page.After), page.Limit,
		func(r userRow) string { return strings.ToLower(r.Email) })
	return mapRows(rows, userRow.domain), next, err
}

// User returns a user with their projects.
func (s *Store) User(ctx context.Context, id string) (domain.User, error) {
	db := s.read(ctx)
	r, err := userByID(db, id, false)
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
func (s *Store) CredentialsByEmail(ctx context.Context, email string) (domain.Credentials, error) {
	var r userRow
	if err := s.read(ctx).Raw(`SELECT * FROM users WHERE lower(email) = lower(?)`, email).Scan(&r).Error; err != nil {
		return domain.Credentials{}, translate(err)
	}
	if r.ID == "" {
		return domain.Credentials{}, domain.Errorf(domain.CodeNotFound, "no such user")
	}
	return r.credentials(), nil
}

// Session returns what a session check needs: the user, when their password last
// changed, and their grants.
func (s *Store) Session(ctx context.Context, userID string) (domain.Credentials, map[string]domain.Grant, error) {
	// One round trip, the user with its memberships: authentication makes it for every
	// request of a user or of a token a user owns.
	if !validUUID(userID) {
		return domain.Credentials{}, nil, domain.Errorf(domain.CodeNotFound, "user %q not found", userID)
	}
	var r struct {
		User   userRow `gorm:"embedded"`
		Grants json.RawMessage
	}
	if err := s.read(ctx).Raw(`SELECT u.*, (SELECT coalesce(jsonb_agg(jsonb_build_object('project', p.key, 'role', m.role,
			'environment_roles', m.environment_roles)), '[]') FROM memberships m JOIN projects p ON p.id = m.project_id
			WHERE m.user_id = u.id) AS grants
		FROM users u WHERE u.id = ?`, userID).Scan(&r).Error; err != nil {
		return domain.Credentials{}, nil, translate(err)
	}
	if r.User.ID == "" {
		return domain.Credentials{}, nil, domain.Errorf(domain.CodeNotFound, "user %q not found", userID)
	}
	var rows []struct {
		Project          string
		Role             domain.Role
		EnvironmentRoles map[string]domain.Role `json:"environment_roles"`
	}
	if err := json.Unmarshal(r.Grants, &rows); err != nil {
		return domain.Credentials{}, nil, fmt.Errorf("grants of user %s: %w", userID, err)
	}
	g := make(map[string]domain.Grant, len(rows))
	for _, m := range rows {
		g[m.Project] = domain.Grant{Role: m.Role, EnvironmentRoles: m.EnvironmentRoles}
	}
	return r.User.credentials(), g, nil
}

// UpdateUser stores the change fn decides for a user; fn sees the stored user and its
// password hash, as locked. A new password ends the user's earlier sessions and
// revokes their API tokens.
func (s *Store) UpdateUser(ctx context.Context, o domain.Origin, id string, fn func(u domain.User, hash string) (domain.UserChange, error)) (domain.User, error) {
	var out domain.User
	err := s.inTx(ctx, func(tx *txn) error {
		r, err := userByID(tx.DB, id, true)
		if err != nil {
			return err
		}
		before := r.domain()
		ch, err := fn(before, r.PasswordHash)
		if err != nil {
			return err
		}
		// A new password, in password_changed_at (read-only to the model), ends earlier
		// sessions.
		if err := tx.Raw(`UPDATE users SET name = coalesce(?, name), disabled = coalesce(?, disabled),
			instance_admin = coalesce(?, instance_admin), password_hash = coalesce(?, password_hash),
			password_changed_at = CASE WHEN ? THEN clock_timestamp() ELSE password_changed_at END, updated_at = now()
			WHERE id = ? RETURNING *`, ch.Name, ch.Disabled, ch.InstanceAdmin, ch.PasswordHash, ch.PasswordHash != nil, id).
			Scan(&r).Error; err != nil {
			return err
		}
		if ch.PasswordHash != nil {
			if err := revokeOwnedTokens(tx, o, id, "the owner's password changed"); err != nil {
				return err
			}
		}
		out = r.domain()
		after := map[string]any{"user": out, "password_changed": ch.PasswordHash != nil}
		return tx.audit(o, change{action: domain.ActionUserUpdate, entityType: "user", entityID: id, entityKey: out.Email,
			before: before, after: after})
	})
	return out, err
}
