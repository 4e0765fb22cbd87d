package auth

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWT issuer and audience: a token made for another service or by another issuer is
// refused.
const (
	Issuer   = "switchyard"
	Audience = "switchyard-admin"
)

// Sessions signs and checks login tokens: HS256 only, with issuer, audience, expiry
// and issue time required.
type Sessions struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewSessions returns a signer with a secret of at least 32 bytes.
func NewSessions(secret []byte, ttl time.Duration) *Sessions {
	return &Sessions{secret: secret, ttl: ttl, now: time.Now}
}

// claims are a session's: the registered ones, and the version of the password the
// user logged in with (its change time in microseconds). A password change makes
// every earlier session's version stale, however close in time.
type claims struct {
	jwt.RegisteredClaims
	PasswordVersion int64 `json:"pwv"`
}

// Issue returns a token for the user, logged in with the password of the given
// version, and when it expires.
func (s *Sessions) Issue(userID string, passwordVersion int64) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(s.ttl)
	claims := claims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer: Issuer, Audience: jwt.ClaimStrings{Audience}, Subject: userID, ID: rand.Text(),
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	}, PasswordVersion: passwordVersion}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign session: %w", err)
	}
	return token, exp, nil
}

// Check verifies a token and returns its user and password version. Any other
// algorithm (none included), a bad signature, a wrong issuer or audience, or an expired
// token is refused.
func (s *Sessions) Check(token string) (userID string, passwordVersion int64, err error) {
	c, err := s.Parse(token)
	return c.UserID, c.PasswordVersion, err
}

// Session is what a verified login token says.
type Session struct {
	// ID names the session (the token's jti): signing out revokes it.
	ID              string
	UserID          string
	PasswordVersion int64
	ExpiresAt       time.Time
}

// Parse verifies a token as Check does and returns all it says.
func (s *Sessions) Parse(token string) (Session, error) {
	var claims claims
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer), jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(5*time.Second),
		jwt.WithTimeFunc(s.now),
	)
	if _, err := parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return s.secret, nil }); err != nil {
		return Session{}, err
	}
	if claims.Subject == "" || claims.IssuedAt == nil {
		return Session{}, fmt.Errorf("token without subject or issue time")
	}
	return Session{ID: claims.ID, UserID: claims.Subject, PasswordVersion: claims.PasswordVersion,
		ExpiresAt: claims.ExpiresAt.Time}, nil
}
