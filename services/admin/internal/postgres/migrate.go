package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/switchyard/switchyard/migrations"
)

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
