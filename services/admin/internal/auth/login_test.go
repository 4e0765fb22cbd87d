package auth

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/ratelimit"
	"github.com/switchyard/switchyard/pkg/platform/secret"
)

type fakeStore struct {
	users map[string]domain.Credentials
}

func (f fakeStore) Session(context.Context, string) (domain.Credentials, map[string]domain.Grant, error) {
	return domain.Credentials{}, nil, domain.Errorf(domain.CodeNotFound, "x")
}
func (f fakeStore) TokenByDigest(context.Context, []byte) (domain.APIToken, error) {
	return domain.APIToken{}, domain.Errorf(domain.CodeNotFound, "x")
}
func (f fakeStore) RevokeSession(context.Context, string, string, time.Time) error { return nil }
func (f fakeStore) SessionRevoked(context.Context, string) (bool, error)           { return false, nil }
func (f fakeStore) CredentialsByEmail(_ context.Context, email string) (domain.Credentials, error) {
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
	store := fakeStore{users: map[string]domain.Credentials{
		"jane@example.com": {User: domain.User{ID: "u1", Email: "jane@example.com"}, PasswordHash: h.Hash("right-password-1")},
		"gone@example.com": {User: domain.User{ID: "u2", Email: "gone@example.com", Disabled: true}, PasswordHash: h.Hash("right-password-2")},
	}}
	a := NewAuthenticator(slog.New(slog.NewTextHandler(&logs, nil)), store, Options{
		Sessions: NewSessions([]byte(strings.Repeat("k", 32)), time.Hour), Hasher: h,
		Guesses: guesses(100, 3, 10),
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
	// Failures from one address use up that address's share of the account: the
	// right password from it is refused too (429, not 401), while the owner, elsewhere,
	// still gets in.
	for range 3 {
		if _, _, err := a.Login(ctx, "jane@example.com", "wrong-password", "10.0.0.9"); domain.ErrorCode(err) != domain.CodeUnauthorized {
			t.Fatalf("failure: %v", err)
		}
	}
	_, _, err := a.Login(ctx, "JANE@example.com", "right-password-1", "10.0.0.9")
	if domain.ErrorCode(err) != domain.CodeRateLimited || domain.RetryAfter(err) < 1 {
		t.Errorf("fourth attempt from the guessing address: %v", err)
	}
	if _, _, err := a.Login(ctx, "jane@example.com", "right-password-1", "10.0.0.3"); err != nil {
		t.Errorf("the owner from another address is locked out: %v", err)
	}
	// An over-long email is refused without becoming a limiter key.
	_, _, err = a.Login(ctx, strings.Repeat("a", 300)+"@example.com", "x", "10.0.0.5")
	if domain.ErrorCode(err) != domain.CodeInvalid || domain.ErrorFields(err)[0].Field != "email" {
		t.Errorf("long email: %v", err)
	}
}

// guesses returns in-process limits: attempts per address, failures per account and
// address, failures per account.
func guesses(address, pair, account int) *Guesses {
	l := func(name string, n int) *ratelimit.Limiter {
		return ratelimit.New(nil, name, ratelimit.Options{Limit: n, Window: time.Minute})
	}
	return &Guesses{Address: l("address", address), Pair: l("pair", pair), Account: l("account", account)}
}

// TestGuessOrder: the account is protected from guesses spread over addresses, and a
// client refused for its address spends nothing of the account's budget.
func TestGuessOrder(t *testing.T) {
	g := guesses(2, 3, 6)
	ctx := context.Background()
	// One address: two attempts, then refused for the address; the account's
	// attempts counted are only the two that were let through.
	for i := range 4 {
		err := g.Begin(ctx, "jane@example.com", "10.1.1.1")
		if (err == nil) != (i < 2) {
			t.Fatalf("attempt %d from one address: %v", i, err)
		}
	}
	// Four more addresses, one attempt each, reach the account's 6.
	for i := range 4 {
		addr := fmt.Sprintf("10.2.2.%d", i)
		if err := g.Begin(ctx, "Jane@example.com", addr); err != nil {
			t.Fatalf("address %s: %v", addr, err)
		}
	}
	err := g.Begin(ctx, "jane@example.com", "10.3.3.3")
	if domain.ErrorCode(err) != domain.CodeRateLimited || !strings.Contains(domain.ErrorMessage(err), "for this account") {
		t.Fatalf("after 6 attempts from 5 addresses: %v", err)
	}
	if err := g.Begin(ctx, "someone@example.com", "10.3.3.3"); err != nil {
		t.Fatalf("another account: %v", err)
	}
}

// lookups counts token lookups.
type lookups struct {
	fakeStore
	n int
}

func (l *lookups) TokenByDigest(ctx context.Context, d []byte) (domain.APIToken, error) {
	l.n++
	return l.fakeStore.TokenByDigest(ctx, d)
}

// TestTokenChecksum: an API token with a wrong checksum is refused without a lookup,
// and failed authentications from one address end in 429.
func TestTokenChecksum(t *testing.T) {
	store := &lookups{}
	failures := ratelimit.New(nil, "failures", ratelimit.Options{Limit: 3, Window: time.Minute})
	a := NewAuthenticator(slog.New(slog.DiscardHandler), store, Options{
		Sessions: NewSessions([]byte(strings.Repeat("k", 32)), time.Hour), Hasher: NewHasher(cheap), Failures: failures})
	ctx := context.Background()
	tok, _, _ := secret.AdminToken.New()
	typo := tok[:len(tok)-1] + "x"
	if tok[len(tok)-1] == 'x' {
		typo = tok[:len(tok)-1] + "y"
	}
	for _, c := range []string{typo, tok[:20], "sy_adm_nope"} {
		if _, err := a.Authenticate(ctx, c, "10.0.0.1"); domain.ErrorCode(err) != domain.CodeUnauthorized {
			t.Fatalf("%q: %v", c, err)
		}
	}
	if store.n != 0 {
		t.Fatalf("%d lookups for tokens with a wrong checksum", store.n)
	}
	// The fourth failure from the address, and anything after it, is 429.
	_, err := a.Authenticate(ctx, tok, "10.0.0.1")
	if domain.ErrorCode(err) != domain.CodeRateLimited || domain.RetryAfter(err) < 1 {
		t.Fatalf("fourth failure: %v", err)
	}
	n := store.n
	if _, err := a.Authenticate(ctx, tok, "10.0.0.1"); domain.ErrorCode(err) != domain.CodeRateLimited || store.n != n {
		t.Fatalf("a blocked address still costs a lookup: %v, %d", err, store.n-n)
	}
	if _, err := a.Authenticate(ctx, tok, "10.0.0.2"); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Fatalf("another address: %v", err)
	}
}
