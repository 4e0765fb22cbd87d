package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/secret"
)

// Store is what authentication reads.
type Store interface {
	Session(ctx context.Context, userID string) (domain.Credentials, map[string]domain.Grant, error)
	TokenByDigest(ctx context.Context, digest []byte) (domain.APIToken, error)
	CredentialsByEmail(ctx context.Context, email string) (domain.Credentials, error)
	// RevokeSession ends a login session before its expiry; SessionRevoked reports
	// whether one was ended. A revocation is kept until the session would have expired.
	RevokeSession(ctx context.Context, id, userID string, expires time.Time) error
	SessionRevoked(ctx context.Context, id string) (bool, error)
}

// Passwords checks passwords; VerifyNobody spends the time of a check for an account
// that does not exist.
type Passwords interface {
	Verify(password, encoded string) bool
	VerifyNobody(password string)
}

// Options configure authentication.
type Options struct {
	BootstrapToken string
	Sessions       *Sessions
	Hasher         Passwords
	// Guesses limits password guesses (nil: no limit).
	Guesses *Guesses
	// Failures counts failed authentications per client address (nil: no limit).
	Failures Limiter
}

// Authenticator turns credentials into principals.
type Authenticator struct {
	store     Store
	log       *slog.Logger
	opt       Options
	bootstrap [sha256.Size]byte
	now       func() time.Time
}

// NewAuthenticator returns an authenticator.
func NewAuthenticator(log *slog.Logger, store Store, opt Options) *Authenticator {
	return &Authenticator{store: store, log: log, opt: opt, bootstrap: sha256.Sum256([]byte(opt.BootstrapToken)), now: time.Now}
}

func unauthorized(format string, args ...any) error {
	return domain.Errorf(domain.CodeUnauthorized, format, args...)
}

// Authenticate returns the principal of a credential: the bootstrap token, an API token
// (sy_adm_...) or a login JWT. client is the caller's address: failed authentications
// are counted against it, and past the limit it gets 429 instead of 401, before any
// lookup its credential would cost.
func (a *Authenticator) Authenticate(ctx context.Context, credential, client string) (*Principal, error) {
	if a.opt.Failures != nil && secret.AdminToken.Check(credential) != secret.Invalid {
		if blocked, wait := a.opt.Failures.Blocked(ctx, client); blocked {
			return nil, domain.RateLimited("too many failed authentications from this address", wait)
		}
	}
	p, err := a.authenticate(ctx, credential)
	if domain.ErrorCode(err) == domain.CodeUnauthorized && credential != "" && a.opt.Failures != nil {
		if ok, wait := a.opt.Failures.Allow(ctx, client); !ok {
			return nil, domain.RateLimited("too many failed authentications from this address", wait)
		}
	}
	return p, err
}

func (a *Authenticator) authenticate(ctx context.Context, credential string) (*Principal, error) {
	switch {
	case credential == "":
		return nil, unauthorized("missing credentials: send Authorization: Bearer <token>")
	case secret.SDKKey.Looks(credential):
		return nil, unauthorized("this is an SDK key: it evaluates flags at the evaluator and never opens the admin API")
	}
	// Compare digests, so neither the token nor its length leaks through timing.
	if d := sha256.Sum256([]byte(credential)); subtle.ConstantTimeCompare(d[:], a.bootstrap[:]) == 1 && a.opt.BootstrapToken != "" {
		return Superuser(domain.Actor{Type: domain.ActorBootstrap, ID: "bootstrap", Name: "bootstrap admin token"}), nil
	}
	if secret.AdminToken.Looks(credential) {
		if secret.AdminToken.Check(credential) == secret.Invalid {
			return nil, unauthorized("invalid token")
		}
		return a.token(ctx, credential)
	}
	return a.session(ctx, credential)
}

func (a *Authenticator) token(ctx context.Context, credential string) (*Principal, error) {
	d := sha256.Sum256([]byte(credential))
	t, err := a.store.TokenByDigest(ctx, d[:])
	switch {
	case domain.ErrorCode(err) == domain.CodeNotFound:
		return nil, unauthorized("invalid token")
	case err != nil:
		return nil, err
	case t.RevokedAt != nil:
		return nil, unauthorized("this token was revoked")
	case t.ExpiresAt != nil && !a.now().Before(*t.ExpiresAt):
		return nil, unauthorized("this token expired at %s", t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	actor := domain.Actor{Type: domain.ActorToken, ID: t.ID, Name: t.Name}
	grant := domain.Grant{Role: t.Role, EnvironmentRoles: t.EnvironmentRoles}
	if t.OwnerID != "" {
		owner, ownerGrants, err := a.store.Session(ctx, t.OwnerID)
		if err != nil {
			return nil, err
		}
		if owner.User.Disabled {
			return nil, unauthorized("this token's owner is disabled")
		}
		if !owner.User.InstanceAdmin {
			og, ok := ownerGrants[t.Project]
			if !ok {
				return Member(actor, t.OwnerID, nil), nil // the owner lost the project: so did the token
			}
			grant = Cap(grant, og)
		}
	}
	return Member(actor, t.OwnerID, map[string]domain.Grant{t.Project: grant}), nil
}

func (a *Authenticator) session(ctx context.Context, credential string) (*Principal, error) {
	sess, err := a.opt.Sessions.Parse(credential)
	if err != nil || sess.ID == "" {
		return nil, unauthorized("invalid or expired session token: log in again")
	}
	cred, grants, err := a.store.Session(ctx, sess.UserID)
	switch {
	case domain.ErrorCode(err) == domain.CodeNotFound:
		return nil, unauthorized("this session's user no longer exists")
	case err != nil:
		return nil, err
	case cred.User.Disabled:
		return nil, unauthorized("this account is disabled")
	case sess.PasswordVersion != cred.PasswordChangedAt.UnixMicro():
		return nil, unauthorized("the password changed after this session began: log in again")
	}
	revoked, err := a.store.SessionRevoked(ctx, sess.ID)
	switch {
	case err != nil:
		return nil, err
	case revoked:
		return nil, unauthorized("this session was signed out: log in again")
	}
	actor := domain.Actor{Type: domain.ActorUser, ID: cred.User.ID, Name: cred.User.Email}
	var p *Principal
	if cred.User.InstanceAdmin {
		p = Superuser(actor)
		p.userID = cred.User.ID
	} else {
		p = Member(actor, cred.User.ID, grants)
	}
	p.session = sess
	return p, nil
}

// Logout ends the login session of a token before its expiry: from now on the token,
// and every copy of it (a cookie, a header), is refused. A token that is invalid or
// expired already has no session left to end.
func (a *Authenticator) Logout(ctx context.Context, token string) error {
	sess, err := a.opt.Sessions.Parse(token)
	if err != nil || sess.ID == "" {
		return nil
	}
	if err := a.store.RevokeSession(ctx, sess.ID, sess.UserID, sess.ExpiresAt); err != nil {
		return err
	}
	a.log.InfoContext(ctx, "signed out", "user_id", sess.UserID)
	return nil
}

// Login checks an email and password and returns a session token. It answers alike,
// and takes as long, whether or not the account exists; guesses are limited per client
// address, per account and address, and per account (Guesses).
func (a *Authenticator) Login(ctx context.Context, email, password, address string) (string, time.Time, error) {
	email = strings.TrimSpace(email)
	if len(email) > MaxEmailLen {
		// Counted against the address like any attempt, but never used as a key.
		if err := a.opt.Guesses.Begin(ctx, "", address); err != nil {
			return "", time.Time{}, err
		}
		return "", time.Time{}, domain.InvalidField("login", "email", fmt.Sprintf("must be at most %d characters", MaxEmailLen))
	}
	if err := a.opt.Guesses.Begin(ctx, email, address); err != nil {
		a.log.WarnContext(ctx, "login rate limited", "email", email, "address", address)
		return "", time.Time{}, err
	}
	fail := func(reason string) (string, time.Time, error) {
		a.log.WarnContext(ctx, "login failed", "email", email, "address", address, "reason", reason)
		return "", time.Time{}, unauthorized("invalid email or password")
	}
	cred, err := a.store.CredentialsByEmail(ctx, email)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		a.opt.Hasher.VerifyNobody(password)
		return fail("no such account")
	}
	if err != nil {
		return "", time.Time{}, err
	}
	if !a.opt.Hasher.Verify(password, cred.PasswordHash) {
		return fail("wrong password")
	}
	if cred.User.Disabled {
		return fail("account disabled")
	}
	a.opt.Guesses.Succeeded(ctx, email, address)
	return a.opt.Sessions.Issue(cred.User.ID, cred.PasswordChangedAt.UnixMicro())
}
