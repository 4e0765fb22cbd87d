// Package config loads the admin service's configuration from the environment once, in
// main, with defaults and a validation that names the bad variable.
package config

import (
	"net"
	"time"

	"github.com/switchyard/switchyard/pkg/platform/envconfig"
	"github.com/switchyard/switchyard/pkg/platform/redisconn"
)

// Config is the admin service's configuration. Each field documents its variable.
type Config struct {
	DatabaseURL string // DATABASE_URL, required: postgres://user:password@host:port/db
	RedisURL    string // REDIS_URL, required: redis://host:port/db
	HTTPAddr    string // HTTP_ADDR, default 127.0.0.1:8080
	// OPS_ADDR, default 127.0.0.1:9080: the operations listener (metrics, profiles);
	// "off" turns it off, and OpsAddr is then empty.
	OpsAddr string
	// TRUSTED_PROXIES, default none: comma-separated CIDRs of the proxies whose
	// X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	AdminToken     string        // ADMIN_TOKEN, required: the bootstrap superuser token, ≥ 32 characters
	JWTSecret      string        // JWT_SECRET, required: signs login sessions (HS256), ≥ 32 bytes
	JWTTTL         time.Duration // JWT_TTL, default 12h: how long a login session lasts
	// COOKIE_SECURE, default false: mark the dashboard's cookies Secure on every
	// answer, for a service behind a proxy that terminates TLS (over TLS they are
	// Secure anyway).
	CookieSecure bool

	// Password guesses per minute, at login and at a password change's current_password,
	// counted in Redis across replicas (per process while Redis is down):
	LoginPerAddress        int // LOGIN_ATTEMPTS_PER_ADDRESS, default 50: attempts from one client address
	LoginPerAccountAddress int // LOGIN_ATTEMPTS_PER_ACCOUNT_ADDRESS, default 5: attempts at one account from one address (a success gives them back)
	LoginPerAccount        int // LOGIN_ATTEMPTS_PER_ACCOUNT, default 30: attempts at one account from all addresses
	// AUTH_FAILURES_PER_ADDRESS, default 30: failed authentications (bad tokens or
	// sessions) per client address per minute, then 429
	AuthFailuresPerAddress int

	MaxBodyBytes    int64         // MAX_BODY_BYTES, default 1 MiB: larger request bodies get 413
	OutboxInterval  time.Duration // OUTBOX_INTERVAL, default 1s: how often undelivered invalidations are retried
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT, default 15s: how long in-flight requests may drain
	DBMaxConns      int           // DB_MAX_CONNS, default 20
	LogLevel        string        // LOG_LEVEL, default info: debug, info, warn, error
	LogFormat       string        // LOG_FORMAT, default json: json or text
}

// MinTokenLen is the shortest ADMIN_TOKEN accepted.
const MinTokenLen = 32

// Load reads the configuration through getenv (os.Getenv in main) and reports every
// bad variable at once.
func Load(getenv func(string) string) (Config, error) {
	r := envconfig.New(getenv)
	c := Config{
		DatabaseURL:            r.URL("DATABASE_URL", "postgres://user:password@host:port/database", "postgres", "postgresql"),
		RedisURL:               r.URL("REDIS_URL", "redis://host:port/db (or redis-cluster://, redis-sentinel://)", redisconn.Schemes...),
		HTTPAddr:               r.Addr("HTTP_ADDR", "127.0.0.1:8080"),
		AdminToken:             getenv("ADMIN_TOKEN"),
		JWTSecret:              getenv("JWT_SECRET"),
		JWTTTL:                 r.Duration("JWT_TTL", 12*time.Hour),
		LoginPerAddress:        int(r.Int("LOGIN_ATTEMPTS_PER_ADDRESS", 50, 1)),
		LoginPerAccountAddress: int(r.Int("LOGIN_ATTEMPTS_PER_ACCOUNT_ADDRESS", 5, 1)),
		LoginPerAccount:        int(r.Int("LOGIN_ATTEMPTS_PER_ACCOUNT", 30, 1)),
		AuthFailuresPerAddress: int(r.Int("AUTH_FAILURES_PER_ADDRESS", 30, 1)),
		MaxBodyBytes:           r.Int("MAX_BODY_BYTES", 1<<20, 1024),
		DBMaxConns:             int(r.Int("DB_MAX_CONNS", 20, 2)),
		OutboxInterval:         r.Duration("OUTBOX_INTERVAL", time.Second),
		ShutdownTimeout:        r.Duration("SHUTDOWN_TIMEOUT", 15*time.Second),
		LogLevel:               r.OneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		LogFormat:              r.OneOf("LOG_FORMAT", "json", "json", "text"),
		OpsAddr:                r.OpsAddr("OPS_ADDR", "127.0.0.1:9080"),
		TrustedProxies:         r.CIDRs("TRUSTED_PROXIES"),
		CookieSecure:           r.OneOf("COOKIE_SECURE", "false", "true", "false") == "true",
	}
	if c.OpsAddr == c.HTTPAddr {
		r.Fail("OPS_ADDR: %q is HTTP_ADDR too; the operations listener needs its own port", c.OpsAddr)
	}
	if len(c.AdminToken) < MinTokenLen {
		r.Fail("ADMIN_TOKEN: required, at least %d characters (openssl rand -hex 32)", MinTokenLen)
	}
	if len(c.JWTSecret) < MinTokenLen {
		r.Fail("JWT_SECRET: required, at least %d bytes (openssl rand -hex 32)", MinTokenLen)
	}
	return c, r.Err()
}
