package postgres

import (
	"context"
	"log/slog"
	"strings"
	"testing"

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
	if err := Migrate(ctx, s.SQL(), "status", out); err != nil || !strings.Contains(strings.Join(log, "\n"), "applied 20") {
		t.Fatalf("status: %v %v", err, log)
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
