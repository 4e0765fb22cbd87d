// Package postgres stores the admin service's data in PostgreSQL through gorm. Every
// write runs in one transaction that also bumps the affected environments' versions,
// appends the audit row and enqueues the invalidations (the outbox), so a change, its
// audit and its invalidation commit together or not at all.
//
// A change reads what it needs in its transaction, hands that to the caller's closure
// as data, and writes what the closure decides: read, decide, write, under the locks of
// one transaction. Once a change that enqueued invalidations commits, the one
// after-commit hook (AfterCommit) wakes their delivery.
//
// gorm models stay in this package and map to pkg/domain types; the schema changes only
// through migrations/ (Migrate), never AutoMigrate. Driver errors become domain errors
// here: a missing row is not found, a unique violation a conflict, a lost connection
// unavailable.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	gormpg "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/pgerr"
)

// Store is the admin service's PostgreSQL storage.
type Store struct {
	db          *gorm.DB
	sql         *sql.DB
	log         *slog.Logger
	afterCommit func()
}

// Options tune the connection pool.
type Options struct {
	MaxConns int
}

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, log *slog.Logger, url string, opt Options) (*Store, error) {
	db, err := gorm.Open(gormpg.Open(url), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // writes run in our own transactions
		TranslateError:         false,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if opt.MaxConns > 0 {
		sqlDB.SetMaxOpenConns(opt.MaxConns)
		sqlDB.SetMaxIdleConns(opt.MaxConns)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &Store{db: db, sql: sqlDB, log: log}, nil
}

// AfterCommit sets the hook that runs after every change that enqueued invalidations
// has committed: the outbox's Kick, so they go out at once instead of at its next
// round. Set it before the store is used.
func (s *Store) AfterCommit(hook func()) { s.afterCommit = hook }

// Close closes the connection pool.
func (s *Store) Close() error { return s.sql.Close() }

// Ping checks that the database answers, for readiness.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sql.PingContext(ctx); err != nil {
		return domain.Wrap(domain.CodeUnavailable, err, "database unavailable")
	}
	return nil
}

// SQL returns the underlying database handle, for migrations.
func (s *Store) SQL() *sql.DB { return s.sql }

// txn is one transaction of the store. It notes whether the change enqueued
// invalidations, so that the after-commit hook runs for those changes only.
type txn struct {
	*gorm.DB
	invalidates bool
}

// maxAttempts bounds the retries of a transaction that lost a serialization race.
const maxAttempts = 4

// inTx runs fn in one transaction: begin, fn, commit, or roll back when fn fails or
// panics. A transaction that loses a deadlock or serialization race runs again. After
// a commit of a change that enqueued invalidations, the after-commit hook runs.
func (s *Store) inTx(ctx context.Context, fn func(tx *txn) error) error {
	var err error
	var tx *txn
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
			tx = &txn{DB: db}
			return fn(tx)
		})
		if !retryable(err) {
			break
		}
		s.log.DebugContext(ctx, "transaction retried", "attempt", attempt, "error", err)
		time.Sleep(time.Duration(attempt*attempt) * 5 * time.Millisecond)
	}
	if err == nil && tx.invalidates && s.afterCommit != nil {
		s.afterCommit()
	}
	return translate(err)
}

// read returns the handle of a read outside any transaction.
func (s *Store) read(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// translate maps driver errors to the application's codes (see pgerr.Translate).
func translate(err error) error { return pgerr.Translate(err) }
