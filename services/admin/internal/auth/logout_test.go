package auth

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// sessionStore knows one user and remembers revoked sessions.
type sessionStore struct {
	fakeStore
	cred    domain.Credentials
	revoked map[string]time.Time
}

func (s *sessionStore) Session(_ context.Context, id string) (domain.Credentials, map[string]domain.Grant, error) {
	if id != s.cred.User.ID {
		return domain.Credentials{}, nil, domain.Errorf(domain.CodeNotFound, "no such user")
	}
	return s.cred, map[string]domain.Grant{}, nil
}

func (s *sessionStore) RevokeSession(_ context.Context, id, userID string, expires time.Time) error {
	if userID != s.cred.User.ID {
		return domain.Errorf(domain.CodeNotFound, "no such user")
	}
	s.revoked[id] = expires
	return nil
}

func (s *sessionStore) SessionRevoked(_ context.Context, id string) (bool, error) {
	_, ok := s.revoked[id]
	return ok, nil
}

// TestLogout: a signed-out session is refused from then on, other sessions of the same
// user are not, and the principal names its session.
func TestLogout(t *testing.T) {
	changed := time.Now().Add(-time.Hour)
	store := &sessionStore{cred: domain.Credentials{User: domain.User{ID: "u1", Email: "jane@example.com"}, PasswordChangedAt: changed},
		revoked: map[string]time.Time{}}
	sessions := NewSessions([]byte(strings.Repeat("k", 32)), time.Hour)
	a := NewAuthenticator(slog.New(slog.DiscardHandler), store, Options{Sessions: sessions, Hasher: NewHasher(cheap)})
	ctx := context.Background()
	one, exp, err := sessions.Issue("u1", changed.UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	two, _, _ := sessions.Issue("u1", changed.UnixMicro())
	p, err := a.Authenticate(ctx, one, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	sess, ok := p.Session()
	if !ok || sess.ID == "" || sess.UserID != "u1" || !sess.ExpiresAt.Equal(exp.Truncate(time.Second)) {
		t.Fatalf("session %+v %v, expiry %v", sess, ok, exp)
	}
	if err := a.Logout(ctx, one); err != nil {
		t.Fatal(err)
	}
	if !store.revoked[sess.ID].Equal(sess.ExpiresAt) {
		t.Errorf("revocation kept until %v, want the session's expiry %v", store.revoked[sess.ID], sess.ExpiresAt)
	}
	_, err = a.Authenticate(ctx, one, "10.0.0.1")
	if domain.ErrorCode(err) != domain.CodeUnauthorized || !strings.Contains(domain.ErrorMessage(err), "signed out") {
		t.Errorf("signed-out session: %v", err)
	}
	if _, err := a.Authenticate(ctx, two, "10.0.0.1"); err != nil {
		t.Errorf("the user's other session: %v", err)
	}
	// Nothing to end for a token that is not a session; the bootstrap token has no
	// session.
	if err := a.Logout(ctx, "not-a-token"); err != nil {
		t.Errorf("logout of garbage: %v", err)
	}
	a = NewAuthenticator(slog.New(slog.DiscardHandler), store, Options{Sessions: sessions, Hasher: NewHasher(cheap),
		BootstrapToken: strings.Repeat("b", 32)})
	p, err = a.Authenticate(ctx, strings.Repeat("b", 32), "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Session(); ok {
		t.Error("the bootstrap token has a session")
	}
}
