package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/secret"
)

type sdkKeyRow struct {
	ID            string `gorm:"primaryKey"`
	EnvironmentID string
	Name          string
	Prefix        string
	Digest        []byte
	CreatedAt     time.Time `gorm:"->"`
	ExpiresAt     *time.Time
	RevokedAt     *time.Time
	LastUsedAt    *time.Time `gorm:"->"`
}

func (sdkKeyRow) TableName() string { return "sdk_keys" }

func (r sdkKeyRow) domain(env string) domain.SDKKey {
	return domain.SDKKey{ID: r.ID, Name: r.Name, Prefix: r.Prefix, Environment: env, CreatedAt: r.CreatedAt,
		ExpiresAt: r.ExpiresAt, RevokedAt: r.RevokedAt, LastUsedAt: r.LastUsedAt}
}

// newKey inserts a new key of the environment and returns it with its secret.
func newKey(tx *gorm.DB, envID, name string, expires *time.Time) (sdkKeyRow, string, error) {
	key, prefix, digest := secret.SDKKey.New()
	row := sdkKeyRow{ID: uuid.NewString(), EnvironmentID: envID, Name: name, Prefix: prefix, Digest: digest, ExpiresAt: expires}
	if err := tx.Omit("CreatedAt", "LastUsedAt").Create(&row).Error; err != nil {
		return row, "", err
	}
	return row, key, tx.Take(&row, "id = ?", row.ID).Error
}

// CreateSDKKey creates a key for an environment; the answer holds the secret, which is
// never stored or shown again.
func (s *Store) CreateSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, name string, expires *time.Time) (domain.SDKKey, error) {
	var out domain.SDKKey
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		p, e, err := s.projectEnvironment(tx, projectKey, envKey, false)
		if err != nil {
			return err
		}
		row, key, err := newKey(tx, e.ID, name, expires)
		if err != nil {
			return err
		}
		out = row.domain(e.Key)
		if err := audit(tx, o, change{action: domain.ActionSDKKeyCreate, entityType: "sdk_key", entityID: row.ID,
			entityKey: row.Prefix, project: p.Key, projectID: p.ID, environment: e.Key, after: out}); err != nil {
			return err
		}
		out.Key = key
		return nil
	})
	return out, err
}

// SDKKeys lists an environment's keys, newest first, without their secrets.
func (s *Store) SDKKeys(ctx context.Context, projectKey, envKey string) ([]domain.SDKKey, error) {
	db := s.db.WithContext(ctx)
	_, e, err := s.projectEnvironment(db, projectKey, envKey, false)
	if err != nil {
		return nil, translate(err)
	}
	var rows []sdkKeyRow
	if err := db.Where("environment_id = ?", e.ID).Order("created_at DESC, id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.SDKKey, len(rows))
	for i, r := range rows {
		out[i] = r.domain(e.Key)
	}
	return out, nil
}

func keyByID(tx *gorm.DB, envID, id string) (sdkKeyRow, error) {
	var row sdkKeyRow
	if _, err := uuid.Parse(id); err != nil {
		return row, domain.Errorf(domain.CodeNotFound, "SDK key %q not found", id)
	}
	if err := tx.Raw(`SELECT * FROM sdk_keys WHERE id = ? AND environment_id = ? FOR UPDATE`, id, envID).Scan(&row).Error; err != nil {
		return row, err
	}
	if row.ID == "" {
		return row, domain.Errorf(domain.CodeNotFound, "SDK key %q not found", id)
	}
	return row, nil
}

// RotateSDKKey makes a new key for the environment of key id, and lets the old one
// expire after grace, so clients can move over without an outage. The environment is
// touched, as a revocation touches it: evaluators drop the old key's cached lookup,
// which knew no expiry, when the invalidation arrives, so a grace of 0s ends the old
// key at once rather than when the cache entry would have expired.
func (s *Store) RotateSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, id string, grace time.Duration) (domain.SDKKey, domain.SDKKey, error) {
	var fresh, old domain.SDKKey
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		p, e, err := s.projectEnvironment(tx, projectKey, envKey, false)
		if err != nil {
			return err
		}
		if err := touch(tx, []string{e.ID}); err != nil {
			return err
		}
		row, err := keyByID(tx, e.ID, id)
		if err != nil {
			return err
		}
		if row.RevokedAt != nil {
			return domain.Errorf(domain.CodeConflict, "SDK key %q is revoked; create a new key instead", id)
		}
		before := row.domain(e.Key)
		expires := time.Now().UTC().Add(grace)
		if row.ExpiresAt == nil || row.ExpiresAt.After(expires) {
			if err := tx.Model(&row).Update("expires_at", expires).Error; err != nil {
				return err
			}
		}
		if err := tx.Take(&row, "id = ?", row.ID).Error; err != nil {
			return err
		}
		old = row.domain(e.Key)
		nr, key, err := newKey(tx, e.ID, row.Name, nil)
		if err != nil {
			return err
		}
		fresh = nr.domain(e.Key)
		if err := audit(tx, o, change{action: domain.ActionSDKKeyRotate, entityType: "sdk_key", entityID: row.ID,
			entityKey: row.Prefix, project: p.Key, projectID: p.ID, environment: e.Key, before: before,
			after: map[string]any{"old": old, "new": fresh}}); err != nil {
			return err
		}
		fresh.Key = key
		return nil
	})
	return fresh, old, err
}

// RevokeSDKKey revokes a key at once. The environment is touched, so evaluators drop
// their cached keys when its invalidation arrives.
func (s *Store) RevokeSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, id string) error {
	return s.inTx(ctx, func(tx *gorm.DB) error {
		p, e, err := s.projectEnvironment(tx, projectKey, envKey, false)
		if err != nil {
			return err
		}
		if err := touch(tx, []string{e.ID}); err != nil {
			return err
		}
		row, err := keyByID(tx, e.ID, id)
		if err != nil {
			return err
		}
		if row.RevokedAt != nil {
			return nil
		}
		before := row.domain(e.Key)
		if err := tx.Model(&row).Update("revoked_at", gorm.Expr("now()")).Error; err != nil {
			return err
		}
		if err := tx.Take(&row, "id = ?", row.ID).Error; err != nil {
			return err
		}
		return audit(tx, o, change{action: domain.ActionSDKKeyRevoke, entityType: "sdk_key", entityID: row.ID,
			entityKey: row.Prefix, project: p.Key, projectID: p.ID, environment: e.Key, before: before, after: row.domain(e.Key)})
	})
}
