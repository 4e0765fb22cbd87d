package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/pkg/domain"
)

type tokenRow struct {
	ID               string `gorm:"primaryKey"`
	Name             string
	Prefix           string
	Digest           []byte
	ProjectID        string
	Project          string `gorm:"->;-:migration"` // the project's key, when joined
	Role             string
	EnvironmentRoles []byte
	OwnerID          *string
	CreatedBy        string
	CreatedAt        time.Time `gorm:"->"`
	ExpiresAt        *time.Time
	RevokedAt        *time.Time
	LastUsedAt       *time.Time `gorm:"->"`
}

func (tokenRow) TableName() string { return "api_tokens" }

func (r tokenRow) domain() domain.APIToken {
	t := domain.APIToken{ID: r.ID, Name: r.Name, Prefix: r.Prefix, Project: r.Project, Role: domain.Role(r.Role),
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, RevokedAt: r.RevokedAt, LastUsedAt: r.LastUsedAt}
	if r.OwnerID != nil {
		t.OwnerID = *r.OwnerID
	}
	_ = json.Unmarshal(r.EnvironmentRoles, &t.EnvironmentRoles)
	if t.EnvironmentRoles == nil {
		t.EnvironmentRoles = map[string]domain.Role{}
	}
	return t
}

const tokenColumns = `t.id, t.name, t.prefix, t.digest, t.project_id, p.key AS project, t.role, t.environment_roles,
	t.owner_id, t.created_by, t.created_at, t.expires_at, t.revoked_at, t.last_used_at`

// CreateToken stores a token by its digest; the caller shows the secret once.
func (s *Store) CreateToken(ctx context.Context, o domain.Origin, t domain.APIToken, digest []byte) (domain.APIToken, error) {
	var out domain.APIToken
	err := s.inTx(ctx, func(tx *txn) error {
		p, err := projectByKey(tx.DB, t.Project)
		if err != nil {
			return err
		}
		row := tokenRow{ID: uuid.NewString(), Name: t.Name, Prefix: t.Prefix, Digest: digest, ProjectID: p.ID,
			Role: string(t.Role), EnvironmentRoles: mustJSON(t.EnvironmentRoles), CreatedBy: o.Actor.Name, ExpiresAt: t.ExpiresAt}
		if t.OwnerID != "" {
			row.OwnerID = &t.OwnerID
		}
		if err := tx.Omit("Project", "CreatedAt", "LastUsedAt").Clauses(clause.Returning{}).Create(&row).Error; err != nil {
			return err
		}
		row.Project = p.Key
		out = row.domain()
		return tx.audit(o, change{action: domain.ActionTokenCreate, entityType: "token", entityID: row.ID,
			entityKey: row.Name, project: p.Key, projectID: p.ID, after: out})
	})
	return out, err
}

// Tokens lists tokens, newest first, without their secrets.
func (s *Store) Tokens(ctx context.Context, f domain.TokenFilter) ([]domain.APIToken, error) {
	q := `SELECT ` + tokenColumns + ` FROM api_tokens t JOIN projects p ON p.id = t.project_id`
	var args []any
	if !f.All {
		q += ` WHERE p.key IN ? OR t.owner_id = ?`
		owner := f.OwnerID
		if !validUUID(owner) {
			owner = "00000000-0000-0000-0000-000000000000"
		}
		projects := f.Projects
		if len(projects) == 0 {
			projects = []string{""}
		}
		args = append(args, projects, owner)
	}
	q += ` ORDER BY t.created_at DESC, t.id`
	var rows []tokenRow
	if err := s.read(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err)
	}
	return mapRows(rows, tokenRow.domain), nil
}

// Token returns a token by id.
func (s *Store) Token(ctx context.Context, id string) (domain.APIToken, error) {
	if !validUUID(id) {
		return domain.APIToken{}, domain.Errorf(domain.CodeNotFound, "token %q not found", id)
	}
	var r tokenRow
	if err := s.read(ctx).Raw(`SELECT `+tokenColumns+` FROM api_tokens t JOIN projects p ON p.id = t.project_id WHERE t.id = ?`, id).
		Scan(&r).Error; err != nil {
		return domain.APIToken{}, translate(err)
	}
	if r.ID == "" {
		return domain.APIToken{}, domain.Errorf(domain.CodeNotFound, "token %q not found", id)
	}
	return r.domain(), nil
}

// TokenByDigest finds a token for authentication and notes its use (at most once a
// minute).
func (s *Store) TokenByDigest(ctx context.Context, digest []byte) (domain.APIToken, error) {
	// One round trip: every authenticated request makes it.
	var r tokenRow
	if err := s.read(ctx).Raw(`WITH found AS (
			SELECT `+tokenColumns+` FROM api_tokens t JOIN projects p ON p.id = t.project_id WHERE t.digest = ?
		), used AS (
			UPDATE api_tokens SET last_used_at = now() WHERE id = (SELECT id FROM found)
				AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
		)
		SELECT * FROM found`, digest).Scan(&r).Error; err != nil {
		return domain.APIToken{}, translate(err)
	}
	if r.ID == "" {
		return domain.APIToken{}, domain.Errorf(domain.CodeNotFound, "no such token")
	}
	return r.domain(), nil
}

// RevokeToken revokes a token at once; revoking twice changes nothing.
func (s *Store) RevokeToken(ctx context.Context, o domain.Origin, id string) error {
	return s.inTx(ctx, func(tx *txn) error {
		var r tokenRow
		if err := tx.Raw(`SELECT `+tokenColumns+` FROM api_tokens t JOIN projects p ON p.id = t.project_id WHERE t.id = ? FOR UPDATE OF t`, id).
			Scan(&r).Error; err != nil {
			return err
		}
		if r.ID == "" {
			return domain.Errorf(domain.CodeNotFound, "token %q not found", id)
		}
		if r.RevokedAt != nil {
			return nil
		}
		before := r.domain()
		if err := tx.Exec(`UPDATE api_tokens SET revoked_at = now() WHERE id = ?`, id).Error; err != nil {
			return err
		}
		return tx.audit(o, change{action: domain.ActionTokenRevoke, entityType: "token", entityID: id,
			entityKey: r.Name, project: r.Project, projectID: r.ProjectID, before: before})
	})
}

// revokeOwnedTokens revokes every live token a user owns, each with its audit row, in
// the transaction of the change that calls for it (a password change).
func revokeOwnedTokens(tx *txn, o domain.Origin, userID, reason string) error {
	var rows []tokenRow
	if err := tx.Raw(`SELECT `+tokenColumns+` FROM api_tokens t JOIN projects p ON p.id = t.project_id
		WHERE t.owner_id = ? AND t.revoked_at IS NULL ORDER BY t.id FOR UPDATE OF t`, userID).Scan(&rows).Error; err != nil {
		return fmt.Errorf("find tokens of user %s: %w", userID, err)
	}
	for _, r := range rows {
		before := r.domain()
		var after tokenRow
		if err := tx.Raw(`UPDATE api_tokens SET revoked_at = now() WHERE id = ? RETURNING revoked_at`, r.ID).Scan(&after).Error; err != nil {
			return fmt.Errorf("revoke token %s: %w", r.ID, err)
		}
		a := before
		a.RevokedAt = after.RevokedAt
		if err := tx.audit(o, change{action: domain.ActionTokenRevoke, entityType: "token", entityID: r.ID,
			entityKey: r.Name, project: r.Project, projectID: r.ProjectID, before: before, after: map[string]any{"token": a, "reason": reason}}); err != nil {
			return err
		}
	}
	return nil
}
