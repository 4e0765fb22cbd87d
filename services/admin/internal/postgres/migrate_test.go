package postgres

import (
	"context"
	"io/fs"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/migrations"
	"github.com/switchyard/switchyard/pkg/testinfra"
)

// TestMigrations applies every migration, reverts them all, and applies them again.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, slog.New(slog.DiscardHandler), testinfra.PostgresDB(t), Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var log []string
	out := func(line string) { log = append(log, line) }
	if err := Migrate(ctx, s.SQL(), "up", out); err != nil {
		t.Fatal(err)
	}
	// Every migration file is applied, and status says so of each by name.
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) < 4 {
		t.Fatalf("migration files: %v %v", files, err)
	}
	var applied int
	if err := s.SQL().QueryRow(`SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0 AND is_applied`).Scan(&applied); err != nil || applied != len(files) {
		t.Fatalf("%d migrations applied of %d files (%v)", applied, len(files), err)
	}
	log = nil
	if err := Migrate(ctx, s.SQL(), "status", out); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		found := false
		for _, line := range log {
			if strings.Contains(line, f) && strings.Contains(line, " applied ") {
				found = true
			}
		}
		if !found {
			t.Errorf("status does not show %s applied:\n%s", f, strings.Join(log, "\n"))
		}
	}
	for {
		var n int
		if err := s.SQL().QueryRow(`SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if err := Migrate(ctx, s.SQL(), "down", out); err != nil {
			t.Fatal(err)
		}
	}
	var tables int
	if err := s.SQL().QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'goose_db_version'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("tables left after down: %d %v", tables, err)
	}
	if err := Migrate(ctx, s.SQL(), "up", out); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if err := Migrate(ctx, s.SQL(), "sideways", out); err == nil {
		t.Error("unknown command accepted")
	}
}
