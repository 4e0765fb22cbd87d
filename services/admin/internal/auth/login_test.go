package auth

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
)

type fakeStore struct {
	users map[string]postgres.Credentials
}

func (f fakeStore) Session(context.Context, string) (postgres.Credentials, map[string]domain.Grant, error) {
	return postgres.Credentials{}, nil, domain.Errorf(domain.CodeNotFound, "x")
}
func (f fakeStore) TokenByDigest(context.Context, []byte) (domain.APIToken, error) {
	return domain.APIToken{}, domain.Errorf(domain.CodeNotFound, "x")
}
func (f fakeStore) CredentialsByEmail(_ context.Context, email string) (postgres.Credentials, error) {
	c, ok := f.users[strings.ToLower(email)]
	if !ok {
		return c, domain.Errorf(domain.CodeNotFound, "no such user")
	}
	return c, nil
}

// counting counts password checks, real and dummy.
type counting struct {
	*Hasher
	checks int
}

func (c *counting) Verify(pw, enc string) bool { c.checks++; return c.Hasher.Verify(pw, enc) }
func (c *counting) VerifyNobody(pw string)     { c.checks++; c.Hasher.VerifyNobody(pw) }

func TestLogin(t *testing.T) {
	h := &counting{Hasher: NewHasher(cheap)}
	var logs bytes.Buffer
	store := fakeStore{users: map[string]postgres.Credentials{
		"jane@example.com": {User: domain.User{ID: "u1", Email: "jane@example.com"}, PasswordHash: h.Hash("right-password-1")},
		"gone@example.com": {User: domain.User{ID: "u2", Email: "gone@example.com", Disabled: true}, PasswordHash: h.Hash("right-password-2")},
	}}
	a := NewAuthenticator(slog.New(slog.NewTextHandler(&logs, nil)), store, Options{
		Sessions: NewSessions([]byte(strings.Repeat("k", 32)), time.Hour), Hasher: h,
		AccountLimit: NewLimiter(3, time.Minute), AddressLimit: NewLimiter(100, time.Minute),
	})
	ctx := context.Background()
	if tok, _, err := a.Login(ctx, "Jane@Example.com", "right-password-1", "10.0.0.1"); err != nil || tok == "" {
		t.Fatalf("login: %v", err)
	}
	// Wrong password, unknown account and disabled account answer alike, and each
	// checks a password, so they take alike.
	var msgs []string
	for _, c := range []struct{ email, pw string }{
		{"jane@example.com", "wrong-password"}, {"nobody@example.com", "whatever-pw"}, {"gone@example.com", "right-password-2"},
	} {
		before := h.checks
		_, _, err := a.Login(ctx, c.email, c.pw, "10.0.0.2")
		if domain.ErrorCode(err) != domain.CodeUnauthorized {
			t.Fatalf("%s: %v", c.email, err)
		}
		if h.checks != before+1 {
			t.Errorf("%s: %d password checks, want 1", c.email, h.checks-before)
		}
		msgs = append(msgs, domain.ErrorMessage(err))
	}
	if msgs[0] != msgs[1] || msgs[1] != msgs[2] {
		t.Errorf("answers differ: %q", msgs)
	}
	if strings.Contains(logs.String(), "wrong-password") || strings.Contains(logs.String(), "right-password") ||
		!strings.Contains(logs.String(), "nobody@example.com") {
		t.Errorf("failed logins must be logged with the email and without the password:\n%s", logs.String())
	}
	// The account's fourth attempt within the minute is refused.
	_, _, err := a.Login(ctx, "jane@example.com", "right-password-1", "10.0.0.3")
	if err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	_, _, err = a.Login(ctx, "JANE@example.com", "right-password-1", "10.0.0.4")
	if domain.ErrorCode(err) != domain.CodeRateLimited || domain.ErrorExtra(err)["retry_after"].(int) < 1 {
		t.Errorf("fourth attempt: %v", err)
	}
}
