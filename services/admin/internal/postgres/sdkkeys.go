package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/pkg/domain"
)

type sdkKeyRow struct {
	ID            string `gorm:"primaryKey"`
	EnvironmentID string
	Name          string
	Kind          string `gorm:"default:server"` // empty: server, as the column's DEFAULT
	Prefix        string
	Digest        []byte
	CreatedAt     time.Time `gorm:"->"`
	ExpiresAt     *time.Time
	RevokedAt     *time.Time
	LastUsedAt    *time.Time `gorm:"->"`
}

func (sdkKeyRow) TableName() string { return "sdk_keys" }

func (r sdkKeyRow) domain(env string) domain.SDKKey {
	return domain.SDKKey{ID: r.ID, Name: r.Name, Kind: r.Kind, Prefix: r.Prefix, Environment: env, CreatedAt: r.CreatedAt,
		ExpiresAt: r.ExpiresAt, RevokedAt: r.RevokedAt, LastUsedAt: r.LastUsedAt}
}

// insertKey stores a new key of the environment by its digest. An empty kind is
// domain.SDKKeyServer, the column's default.
func insertKey(tx *txn, envID, name, kind, prefix string, digest []byte, expires *time.Time) (sdkKeyRow, error) {
	row := sdkKeyRow{ID: uuid.NewString(), EnvironmentID: envID, Name: name, Kind: kind, Prefix: prefix, Digest: digest, ExpiresAt: expires}
	err := tx.Omit("CreatedAt", "LastUsedAt").Clauses(clause.Returning{}).Create(&row).Error
	return row, err
}

// CreateSDKKey stores a key of an environment by its digest: the secret itself is
// never stored. k names it, and gives its kind (empty: server), display prefix and
// expiry.
func (s *Store) CreateSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey string, k domain.SDKKey, digest []byte) (domain.SDKKey, error) {
	var out domain.SDKKey
	err := s.inTx(ctx, func(tx *txn) error {
		p, e, err := projectEnvironment(tx.DB, projectKey, envKey, false)
		if err != nil {
			return err
		}
		row, err := insertKey(tx, e.ID, k.Name, k.Kind, k.Prefix, digest, k.ExpiresAt)
		if err != nil {
			return err
		}
		out = row.domain(e.Key)
		return tx.audit(o, change{action: domain.ActionSDKKeyCreate, entityType: "sdk_key", entityID: row.ID,
			entityKey: row.Prefix, project: p.Key, projectID: p.ID, environment: e.Key, after: out})
	})
	return out, err
}

// SDKKeys lists an environment's keys, newest first, without their secrets.
func (s *Store) SDKKeys(ctx context.Context, projectKey, envKey string) ([]domain.SDKKey, error) {
	db := s.read(ctx)
	_, e, err := projectEnvironment(db, projectKey, envKey, false)
	if err != nil {
		return nil, translate(err)
	}
	var rows []sdkKeyRow
	if err := db.Where("environment_id = ?", e.ID).Order("created_at DESC, id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	return mapRows(rows, func(r sdkKeyRow) domain.SDKKey { return r.domain(e.Key) }), nil
}

func keyByID(db *gorm.DB, envID, id string) (sdkKeyRow, error) {
	var row sdkKeyRow
	if !validUUID(id) {
		return row, domain.Errorf(domain.CodeNotFound, "SDK key %q not found", id)
	}
	if err := db.Raw(`SELECT * FROM sdk_keys WHERE id = ? AND environment_id = ? FOR UPDATE`, id, envID).Scan(&row).Error; err != nil {
		return row, err
	}
	if row.ID == "" {
		return row, domain.Errorf(domain.CodeNotFound, "SDK key %q not found", id)
	}
	return row, nil
}

// keyChange reads an SDK key that a change (rotation, revocation) is about to alter,
// with its project and environment, and touches the environment so that evaluators
// drop their cached lookups of the environment's keys when its invalidation arrives.
func keyChange(tx *txn, projectKey, envKey, id string) (projectRow, environmentRow, sdkKeyRow, error) {
	p, e, err := projectEnvironment(tx.DB, projectKey, envKey, false)
	if err != nil {
		return p, e, sdkKeyRow{}, err
	}
	if err := tx.touch(e.ID); err != nil {
		return p, e, sdkKeyRow{}, err
	}
	row, err := keyByID(tx.DB, e.ID, id)
	return p, e, row, err
}

// RotateSDKKey stores the key that replaces key id, by its digest and display prefix,
// with the old key's name and kind, and lets the old one expire after grace, so
// clients can move over without an outage. The environment is touched, as a
// revocation touches it: evaluators drop the old key's cached lookup, which knew no
// expiry, when the invalidation arrives, so a grace of 0s ends the old key at once
// rather than when the cache entry would have expired.
func (s *Store) RotateSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, id string, grace time.Duration,
	prefix string, digest []byte) (fresh, old domain.SDKKey, err error) {
	err = s.inTx(ctx, func(tx *txn) error {
		p, e, row, err := keyChange(tx, projectKey, envKey, id)
		if err != nil {
			return err
		}
		if row.RevokedAt != nil {
			return domain.Errorf(domain.CodeConflict, "SDK key %q is revoked; create a new key instead", id)
		}
		before := row.domain(e.Key)
		if err := tx.Raw(`UPDATE sdk_keys SET expires_at = least(expires_at, ?) WHERE id = ? RETURNING *`,
			time.Now().UTC().Add(grace), row.ID).Scan(&row).Error; err != nil {
			return err
		}
		old = row.domain(e.Key)
		nr, err := insertKey(tx, e.ID, row.Name, row.Kind, prefix, digest, nil)
		if err != nil {
			return err
		}
		fresh = nr.domain(e.Key)
		return tx.audit(o, change{action: domain.ActionSDKKeyRotate, entityType: "sdk_key", entityID: row.ID,
			entityKey: row.Prefix, project: p.Key, projectID: p.ID, environment: e.Key, before: before,
			after: map[string]any{"old": old, "new": fresh}})
	})
	return fresh, old, err
}

// RevokeSDKKey revokes a key at once. The environment is touched, so evaluators drop
// their cached keys when its invalidation arrives.
func (s *Store) RevokeSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, id string) error {
	return s.inTx(ctx, func(tx *txn) error {
		p, e, row, err := keyChange(tx, projectKey, envKey, id)
		if err != nil {
			return err
		}
		if row.RevokedAt != nil {
			return nil
		}
		before := row.domain(e.Key)
		if err := tx.Raw(`UPDATE sdk_keys SET revoked_at = now() WHERE id = ? RETURNING *`, row.ID).Scan(&row).Error; err != nil {
			return err
		}
		return tx.audit(o, change{action: domain.ActionSDKKeyRevoke, entityType: "sdk_key", entityID: row.ID,
			entityKey: row.Prefix, project: p.Key, projectID: p.ID, environment: e.Key, before: before, after: row.domain(e.Key)})
	})
}
