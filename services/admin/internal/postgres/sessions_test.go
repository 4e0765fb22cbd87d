package postgres_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
)

// TestRevokedSessions: a revoked session is found revoked, others are not, revoking
// twice is harmless, and revocations of expired sessions are deleted by the next
// revocation.
func TestRevokedSessions(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, slog.New(slog.DiscardHandler), testinfra.MigratedDB(t), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o := domain.Origin{Actor: domain.Actor{Type: domain.ActorSystem, ID: "test", Name: "test"}}
	u, err := s.CreateUser(ctx, o, domain.User{Email: "jane@example.com"}, "hash")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSession(ctx, "old", u.ID, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.RevokeSession(ctx, "s1", u.ID, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]bool{"s1": true, "s2": false} {
		if got, err := s.SessionRevoked(ctx, id); err != nil || got != want {
			t.Errorf("%s revoked = %v, %v; want %v", id, got, err, want)
		}
	}
	var n int
	if err := s.SQL().QueryRow(`SELECT count(*) FROM revoked_sessions`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d rows (%v); want the expired revocation deleted", n, err)
	}
	if err := s.RevokeSession(ctx, "s3", "not-a-uuid", time.Now().Add(time.Hour)); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("unknown user: %v", err)
	}
}
