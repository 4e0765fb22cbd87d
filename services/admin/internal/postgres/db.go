// Package postgres stores the admin service's data in PostgreSQL through gorm. Every
// write runs in one transaction that also bumps the affected environments' versions,
// appends the audit row and enqueues the invalidations (the outbox), so a change, its
// audit and its invalidation commit together or not at all.
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
	"github.com/pressly/goose/v3"
	gormpg "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/switchyard/switchyard/migrations"
	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/pgerr"
)

// Store is the admin service's PostgreSQL storage.
type Store struct {
	db  *gorm.DB
	sql *sql.DB
	log *slog.Logger
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

// Close closes the connection pool.
func (s *Store) Close() error { return s.sql.Close() }

// Ping checks that the database answers, for readiness.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sql.PingContext(ctx); err != nil {
		return domain.Wrap(domain.CodeUnavailable, err, "database unavailable")
	}
	return nil
}

// Migrate applies (up), reverts the last (down) or reports (status) the migrations.
func Migrate(ctx context.Context, db *sql.DB, command string, out func(string)) error {
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	switch command {
	case "up":
		res, err := p.Up(ctx)
		for _, r := range res {
			out(fmt.Sprintf("applied %s (%s)", r.Source.Path, r.Duration.Round(time.Millisecond)))
		}
		if err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		if len(res) == 0 {
			out("schema is up to date")
		}
	case "down":
		r, err := p.Down(ctx)
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		if r != nil {
			out("reverted " + r.Source.Path)
		}
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		for _, s := range st {
			state := "pending"
			if s.State == goose.StateApplied {
				state = "applied " + s.AppliedAt.Format(time.RFC3339)
			}
			out(fmt.Sprintf("%-40s %s", s.Source.Path, state))
		}
	default:
		return fmt.Errorf("migrate: unknown command %q (up, down or status)", command)
	}
	return nil
}

// SQL returns the underlying database handle, for migrations.
func (s *Store) SQL() *sql.DB { return s.sql }

// maxAttempts bounds the retries of a transaction that lost a serialization race.
const maxAttempts = 4

// inTx runs fn in one transaction: begin, fn, commit, or roll back when fn fails or
// panics. A transaction that loses a deadlock or serialization race runs again.
func (s *Store) inTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = s.db.WithContext(ctx).Transaction(fn)
		if !retryable(err) {
			break
		}
		s.log.DebugContext(ctx, "transaction retried", "attempt", attempt, "error", err)
		time.Sleep(time.Duration(attempt*attempt) * 5 * time.Millisecond)
	}
	return translate(err)
}

func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// translate maps driver errors to the application's codes (see pgerr.Translate).
func translate(err error) error { return pgerr.Translate(err) }
