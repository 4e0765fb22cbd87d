// Package config loads the admin service's configuration from the environment once, in
// main, with defaults and a validation that names the bad variable.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the admin service's configuration. Each field documents its variable.
type Config struct {
	DatabaseURL string // DATABASE_URL, required: postgres://user:password@host:port/db
	RedisURL    string // REDIS_URL, required: redis://host:port/db
	HTTPAddr    string // HTTP_ADDR, default 127.0.0.1:8080
	AdminToken  string // ADMIN_TOKEN, required: the bootstrap superuser token, ≥ 32 characters

	MaxBodyBytes    int64         // MAX_BODY_BYTES, default 1 MiB: larger request bodies get 413
	OutboxInterval  time.Duration // OUTBOX_INTERVAL, default 1s: how often undelivered invalidations are retried
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT, default 15s: how long in-flight requests may drain
	DBMaxConns      int           // DB_MAX_CONNS, default 20
	LogLevel        string        // LOG_LEVEL, default info: debug, info, warn, error
	LogFormat       string        // LOG_FORMAT, default json: json or text
}

// MinTokenLen is the shortest ADMIN_TOKEN accepted.
const MinTokenLen = 32

// Load reads the configuration through getenv (os.Getenv in main) and validates it.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL: getenv("DATABASE_URL"),
		RedisURL:    getenv("REDIS_URL"),
		HTTPAddr:    or(getenv("HTTP_ADDR"), "127.0.0.1:8080"),
		AdminToken:  getenv("ADMIN_TOKEN"),
		LogLevel:    or(getenv("LOG_LEVEL"), "info"),
		LogFormat:   or(getenv("LOG_FORMAT"), "json"),
	}
	var errs []error
	num := func(name string, def int64, min int64) int64 {
		s := getenv(name)
		if s == "" {
			return def
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < min {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number ≥ %d", name, s, min))
			return def
		}
		return n
	}
	dur := func(name string, def time.Duration) time.Duration {
		s := getenv(name)
		if s == "" {
			return def
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration such as 500ms or 2s", name, s))
			return def
		}
		return d
	}
	c.MaxBodyBytes = num("MAX_BODY_BYTES", 1<<20, 1024)
	c.DBMaxConns = int(num("DB_MAX_CONNS", 20, 2))
	c.OutboxInterval = dur("OUTBOX_INTERVAL", time.Second)
	c.ShutdownTimeout = dur("SHUTDOWN_TIMEOUT", 15*time.Second)
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// Validate names every variable whose value cannot work.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.DatabaseURL); c.DatabaseURL == "" || err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		errs = append(errs, errors.New("DATABASE_URL: required, as postgres://user:password@host:port/database"))
	}
	if u, err := url.Parse(c.RedisURL); c.RedisURL == "" || err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		errs = append(errs, errors.New("REDIS_URL: required, as redis://host:port/db"))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("HTTP_ADDR: %q is not host:port", c.HTTPAddr))
	}
	if len(c.AdminToken) < MinTokenLen {
		errs = append(errs, fmt.Errorf("ADMIN_TOKEN: required, at least %d characters (openssl rand -hex 32)", MinTokenLen))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT: %q is not json or text", c.LogFormat))
	}
	return errors.Join(errs...)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
