// Package postgres is the evaluator's read access to PostgreSQL: environment snapshots,
// SDK keys, and the batched analytics writes. The evaluator never migrates. Driver
// errors become domain errors here (pgerr.Translate): a database that is down or cut
// off is CodeUnavailable.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	gormpg "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/pgerr"
	"github.com/switchyard/switchyard/pkg/platform/pgsnapshot"
	"github.com/switchyard/switchyard/services/evaluator/internal/keys"
)

// Store reads what evaluation needs, from a read replica when there is one, and writes
// (analytics, key use) to the primary.
type Store struct {
	db      *gorm.DB // the primary
	sql     *sql.DB
	read    *gorm.DB // the replica, or the primary
	readSQL *sql.DB
}

func open(url string, maxConns int) (*gorm.DB, *sql.DB, error) {
	db, err := gorm.Open(gormpg.Open(url), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true,
		DisableAutomaticPing: true})
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB.SetMaxOpenConns(maxConns)
	sqlDB.SetMaxIdleConns(maxConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return db, sqlDB, nil
}

// Open connects to the primary and, when readURL is set, to a read replica. It does not
// fail when the database is down: the evaluator must start and serve from Redis then.
func Open(url, readURL string, maxConns int) (*Store, error) {
	db, sqlDB, err := open(url, maxConns)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, sql: sqlDB, read: db, readSQL: sqlDB}
	if readURL != "" {
		if s.read, s.readSQL, err = open(readURL, maxConns); err != nil {
			sqlDB.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Store) hasReplica() bool { return s.read != s.db }

// Close closes the pools.
func (s *Store) Close() error {
	if s.hasReplica() {
		s.readSQL.Close()
	}
	return s.sql.Close()
}

// Ping checks that the database answers (the replica too, when there is one).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sql.PingContext(ctx); err != nil {
		return pgerr.Translate(err)
	}
	if s.hasReplica() {
		return pgerr.Translate(s.readSQL.PingContext(ctx))
	}
	return nil
}

// LoadSnapshot reads every active flag of an environment with its configuration, and
// the environment's version, in one repeatable-read transaction so the version matches
// the content. It reads the replica, and the primary when the replica has not yet seen
// minVersion (a version an invalidation announced). An unknown environment is
// CodeNotFound; a database that cannot answer, CodeUnavailable.
func (s *Store) LoadSnapshot(ctx context.Context, environmentID string, minVersion int64) (domain.Snapshot, error) {
	snap, err := s.loadSnapshot(ctx, s.read, environmentID)
	if s.hasReplica() && (err != nil || snap.Version < minVersion) {
		snap, err = s.loadSnapshot(ctx, s.db, environmentID)
	}
	return snap, pgerr.Translate(err)
}

func (s *Store) loadSnapshot(ctx context.Context, db *gorm.DB, environmentID string) (domain.Snapshot, error) {
	var snap domain.Snapshot
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var env struct {
			ID         string
			Key        string
			Version    int64
			ProjectID  string
			ProjectKey string
		}
		if err := tx.Raw(`SELECT e.id, e.key, e.version, p.id AS project_id, p.key AS project_key
			FROM environments e JOIN projects p ON p.id = e.project_id WHERE e.id = ?`, environmentID).Scan(&env).Error; err != nil {
			return err
		}
		if env.ID == "" {
			return domain.Errorf(domain.CodeNotFound, "environment %s not found", environmentID)
		}
		flags, err := pgsnapshot.Flags(tx, env.ProjectID, env.ID)
		if err != nil {
			return err
		}
		snap = domain.Snapshot{ProjectKey: env.ProjectKey, EnvironmentID: env.ID, EnvironmentKey: env.Key,
			Version: env.Version, Flags: flags}
		return nil
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	return snap, err
}

// ErrUnknownKey means no SDK key has the digest (the authenticator's own
// keys.ErrUnknownKey).
var ErrUnknownKey = keys.ErrUnknownKey

// LookupSDKKey finds a key by its digest and notes that it was used (at most once a
// minute per key, so lookups stay cheap). Keys are read from the primary: a replica
// that lags could still call a revoked key valid, and key lookups are cached, so they
// are few. The replica answers only when the primary does not.
func (s *Store) LookupSDKKey(ctx context.Context, digest []byte) (keys.Key, error) {
	k, err := s.readKey(ctx, "digest = ?", digest)
	if err != nil {
		return keys.Key{}, err
	}
	_ = s.db.WithContext(ctx).Exec(`UPDATE sdk_keys SET last_used_at = now() WHERE id = ?
		AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, k.ID).Error
	return k, nil
}

// SDKKeyByID reads a key again by its id, as LookupSDKKey reads it (the primary first)
// but without noting a use: streams that stay open re-check their key with it, so a
// revoked, expired or deleted key ends them. A key that no longer exists, or an id
// that is no key's, is ErrUnknownKey.
func (s *Store) SDKKeyByID(ctx context.Context, id string) (keys.Key, error) {
	if !isUUID(id) {
		return keys.Key{}, ErrUnknownKey
	}
	return s.readKey(ctx, "id = ?", id)
}

// readKey reads the key that where (a condition on one column, with one argument)
// selects, from the primary, and from the replica when the primary does not answer.
func (s *Store) readKey(ctx context.Context, where string, arg any) (keys.Key, error) {
	pctx := ctx
	if deadline, ok := ctx.Deadline(); ok && s.hasReplica() {
		// A primary that hangs rather than refuses must leave the replica time to
		// answer: it gets half of what is left.
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, time.Until(deadline)/2)
		defer cancel()
	}
	k, err := lookupKey(pctx, s.db, where, arg)
	if err != nil && s.hasReplica() {
		k, err = lookupKey(ctx, s.read, where, arg)
	}
	if err != nil {
		return keys.Key{}, pgerr.Translate(err)
	}
	if k.ID == "" {
		return keys.Key{}, ErrUnknownKey
	}
	return keys.Key{ID: k.ID, EnvironmentID: k.EnvironmentID, Kind: k.Kind, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt}, nil
}

// sdkKeyRow is a row of sdk_keys, as far as authentication reads it.
type sdkKeyRow struct {
	ID            string
	EnvironmentID string
	Kind          string
	ExpiresAt     *time.Time
	RevokedAt     *time.Time
}

func lookupKey(ctx context.Context, db *gorm.DB, where string, arg any) (sdkKeyRow, error) {
	var k sdkKeyRow
	err := db.WithContext(ctx).Raw(`SELECT id, environment_id, kind, expires_at, revoked_at FROM sdk_keys WHERE `+where, arg).Scan(&k).Error
	return k, err
}

// isUUID says whether id is a UUID in the text form PostgreSQL gives ids in. Anything
// else would make the query fail, where it should find no key.
func isUUID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i, c := range id {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
			return false
		}
	}
	return true
}
