package auth

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchyard/switchyard/pkg/domain"
)

var cheap = Argon2Params{Memory: 64, Time: 1, Threads: 1}

func TestPasswords(t *testing.T) {
	h := NewHasher(cheap)
	enc := h.Hash("correct horse battery")
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("format: %s", enc)
	}
	if !h.Verify("correct horse battery", enc) || h.Verify("correct horse batterY", enc) {
		t.Error("verify")
	}
	if h.Hash("same") == h.Hash("same") {
		t.Error("salts must differ")
	}
	// Hashes keep their own parameters: a cheaper hasher verifies a default one.
	strong := NewHasher(DefaultArgon2).Hash("pw-1234567890")
	if !h.Verify("pw-1234567890", strong) {
		t.Error("parameters are read from the hash")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$a$b", "$argon2id$v=18$m=64,t=1,p=1$YQ$Yg", "plain"} {
		if h.Verify("x", bad) {
			t.Errorf("%q verified", bad)
		}
	}
}

func TestSessions(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	s := NewSessions(secret, time.Hour)
	now := time.Now()
	s.now = func() time.Time { return now }
	tok, exp, err := s.Issue("user-1", 42)
	if err != nil || !exp.Equal(now.Add(time.Hour)) {
		t.Fatal(err)
	}
	if sub, pwv, err := s.Check(tok); err != nil || sub != "user-1" || pwv != 42 {
		t.Fatalf("check: %v %v %v", sub, pwv, err)
	}
	sign := func(method jwt.SigningMethod, key any, claims jwt.RegisteredClaims) string {
		out, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	good := jwt.RegisteredClaims{Issuer: Issuer, Audience: jwt.ClaimStrings{Audience}, Subject: "user-1",
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}
	with := func(f func(*jwt.RegisteredClaims)) jwt.RegisteredClaims { c := good; f(&c); return c }
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), "user-1", "user-2", 1)
	bad := map[string]string{
		"bad signature":    parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"changed payload":  parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2],
		"alg none":         sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good),
		"alg HS512":        sign(jwt.SigningMethodHS512, secret, good),
		"other secret":     sign(jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), good),
		"expired":          sign(jwt.SigningMethodHS256, secret, with(func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) })),
		"no expiry":        sign(jwt.SigningMethodHS256, secret, with(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil })),
		"other audience":   sign(jwt.SigningMethodHS256, secret, with(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"switchyard-evaluator"} })),
		"other issuer":     sign(jwt.SigningMethodHS256, secret, with(func(c *jwt.RegisteredClaims) { c.Issuer = "someone" })),
		"issued in future": sign(jwt.SigningMethodHS256, secret, with(func(c *jwt.RegisteredClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour)) })),
		"no subject":       sign(jwt.SigningMethodHS256, secret, with(func(c *jwt.RegisteredClaims) { c.Subject = "" })),
		"not a token":      "hello",
	}
	for name, tok := range bad {
		if _, _, err := s.Check(tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPrincipal(t *testing.T) {
	p := Member(domain.Actor{}, "u", map[string]domain.Grant{
		"shop": {Role: domain.RoleDeveloper, EnvironmentRoles: map[string]domain.Role{"production": domain.RoleViewer, "qa": domain.RoleAdmin}},
	})
	cases := []struct {
		project, env string
		need         domain.Role
		ok           bool
	}{
		{"shop", "", domain.RoleDeveloper, true},
		{"shop", "", domain.RoleAdmin, false},
		{"shop", "staging", domain.RoleDeveloper, true},
		{"shop", "production", domain.RoleDeveloper, false},
		{"shop", "production", domain.RoleViewer, true},
		{"shop", "qa", domain.RoleAdmin, true},
		{"other", "", domain.RoleViewer, false},
	}
	for _, c := range cases {
		err := p.Need(c.project, c.env, c.need)
		if (err == nil) != c.ok || (err != nil && domain.ErrorCode(err) != domain.CodeForbidden) {
			t.Errorf("%s/%s %s: %v", c.project, c.env, c.need, err)
		}
	}
	if err := p.Need("shop", "production", domain.RoleAdmin); !strings.Contains(err.Error(), "the admin role in environment production of project shop is needed; you have viewer") {
		t.Errorf("message: %v", err)
	}
	capped := Cap(domain.Grant{Role: domain.RoleAdmin, EnvironmentRoles: map[string]domain.Role{"qa": domain.RoleViewer}},
		domain.Grant{Role: domain.RoleDeveloper, EnvironmentRoles: map[string]domain.Role{"production": domain.RoleViewer}})
	if capped.Role != domain.RoleDeveloper || capped.In("qa") != domain.RoleViewer || capped.In("production") != domain.RoleViewer || capped.In("dev") != domain.RoleDeveloper {
		t.Errorf("cap: %+v", capped)
	}
}
