// Package config loads the evaluator's configuration from the environment once, in
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

// Config is the evaluator's configuration. Each field documents its variable.
type Config struct {
	DatabaseURL string // DATABASE_URL, required
	RedisURL    string // REDIS_URL, required
	HTTPAddr    string // HTTP_ADDR, default 127.0.0.1:8081

	SnapshotMaxAge  time.Duration // SNAPSHOT_MAX_AGE, default 30s: how long an in-process snapshot is trusted without a message
	RedisTimeout    time.Duration // REDIS_TIMEOUT, default 100ms: deadline of each Redis call on the request path
	DBTimeout       time.Duration // DB_TIMEOUT, default 2s: deadline of a snapshot load from PostgreSQL
	KeyCacheTTL     time.Duration // SDK_KEY_CACHE_TTL, default 30s: how long an SDK key lookup is reused
	AnalyticsFlush  time.Duration // ANALYTICS_FLUSH_INTERVAL, default 5s
	AnalyticsMax    int           // ANALYTICS_MAX_SERIES, default 100000: counters kept between flushes
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT, default 15s
	DBMaxConns      int           // DB_MAX_CONNS, default 10
	MaxBodyBytes    int64         // MAX_BODY_BYTES, default 256 KiB
	LogLevel        string        // LOG_LEVEL, default info
	LogFormat       string        // LOG_FORMAT, default json
}

// Load reads the configuration through getenv and validates it.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL: getenv("DATABASE_URL"),
		RedisURL:    getenv("REDIS_URL"),
		HTTPAddr:    or(getenv("HTTP_ADDR"), "127.0.0.1:8081"),
		LogLevel:    or(getenv("LOG_LEVEL"), "info"),
		LogFormat:   or(getenv("LOG_FORMAT"), "json"),
	}
	var errs []error
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
	num := func(name string, def, min int64) int64 {
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
	c.SnapshotMaxAge = dur("SNAPSHOT_MAX_AGE", 30*time.Second)
	c.RedisTimeout = dur("REDIS_TIMEOUT", 100*time.Millisecond)
	c.DBTimeout = dur("DB_TIMEOUT", 2*time.Second)
	c.KeyCacheTTL = dur("SDK_KEY_CACHE_TTL", 30*time.Second)
	c.AnalyticsFlush = dur("ANALYTICS_FLUSH_INTERVAL", 5*time.Second)
	c.ShutdownTimeout = dur("SHUTDOWN_TIMEOUT", 15*time.Second)
	c.AnalyticsMax = int(num("ANALYTICS_MAX_SERIES", 100_000, 100))
	c.DBMaxConns = int(num("DB_MAX_CONNS", 10, 2))
	c.MaxBodyBytes = num("MAX_BODY_BYTES", 256<<10, 1024)
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
