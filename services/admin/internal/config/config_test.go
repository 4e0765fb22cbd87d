package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	good := map[string]string{
		"DATABASE_URL": "postgres://u:p@127.0.0.1:5432/db",
		"REDIS_URL":    "redis://127.0.0.1:6379/0",
		"ADMIN_TOKEN":  strings.Repeat("t", 32),
		"JWT_SECRET":   strings.Repeat("j", 32),
	}
	c, err := Load(env(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.MaxBodyBytes != 1<<20 || c.OutboxInterval != time.Second ||
		c.OpsAddr != "127.0.0.1:9080" || len(c.TrustedProxies) != 0 || c.CookieSecure {
		t.Errorf("defaults: %+v", c)
	}
	set := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for k, v := range good {
			m[k] = v
		}
		return m
	}
	if c, err := Load(env(set("OPS_ADDR", "off"))); err != nil || c.OpsAddr != "" {
		t.Errorf("OPS_ADDR=off: %q %v", c.OpsAddr, err)
	}
	if c, err := Load(env(set("COOKIE_SECURE", "TRUE"))); err != nil || !c.CookieSecure {
		t.Errorf("COOKIE_SECURE=TRUE: %v %v", c.CookieSecure, err)
	}
	if c, err := Load(env(set("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1"))); err != nil || len(c.TrustedProxies) != 2 {
		t.Errorf("TRUSTED_PROXIES: %v %v", c.TrustedProxies, err)
	}
	tests := []struct {
		name, key, value, want string
	}{
		{"missing database", "DATABASE_URL", "", "DATABASE_URL: required"},
		{"wrong scheme", "DATABASE_URL", "mysql://x", "DATABASE_URL"},
		{"missing redis", "REDIS_URL", "", "REDIS_URL: required"},
		{"short token", "ADMIN_TOKEN", "short", "ADMIN_TOKEN: required, at least 32"},
		{"short secret", "JWT_SECRET", "short", "JWT_SECRET: required, at least 32"},
		{"bad session length", "JWT_TTL", "forever", "JWT_TTL"},
		{"bad login limit", "LOGIN_ATTEMPTS_PER_ACCOUNT", "0", "LOGIN_ATTEMPTS_PER_ACCOUNT"},
		{"bad auth failure limit", "AUTH_FAILURES_PER_ADDRESS", "-1", "AUTH_FAILURES_PER_ADDRESS"},
		{"bad addr", "HTTP_ADDR", "8080", "HTTP_ADDR"},
		{"bad ops addr", "OPS_ADDR", "9080", "OPS_ADDR"},
		{"ops on the public port", "OPS_ADDR", "127.0.0.1:8080", "OPS_ADDR"},
		{"bad proxy CIDR", "TRUSTED_PROXIES", "10.0.0.0/8,10.0.0.0/33", `TRUSTED_PROXIES: "10.0.0.0/33"`},
		{"bad body limit", "MAX_BODY_BYTES", "lots", "MAX_BODY_BYTES"},
		{"bad interval", "OUTBOX_INTERVAL", "-1s", "OUTBOX_INTERVAL"},
		{"bad level", "LOG_LEVEL", "loud", "LOG_LEVEL"},
		{"bad format", "LOG_FORMAT", "xml", "LOG_FORMAT"},
		{"bad cookie flag", "COOKIE_SECURE", "yes", "COOKIE_SECURE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range good {
				m[k] = v
			}
			m[tt.key] = tt.value
			_, err := Load(env(m))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %q", err, tt.want)
			}
		})
	}
}
