// Package config loads the evaluator's configuration from the environment once, in
// main, with defaults and a validation that names the bad variable.
package config

import (
	"net"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/platform/envconfig"
	"github.com/switchyard/switchyard/pkg/platform/redisconn"
)

// Config is the evaluator's configuration. Each field documents its variable.
type Config struct {
	DatabaseURL string // DATABASE_URL, required
	// DATABASE_READ_URL, optional: a read replica for snapshots and key lookups; reads
	// that find it behind fall back to DATABASE_URL.
	DatabaseReadURL string
	RedisURL        string // REDIS_URL, required
	HTTPAddr        string // HTTP_ADDR, default 127.0.0.1:8081
	// OPS_ADDR, default 127.0.0.1:9081: the operations listener (metrics, profiles);
	// "off" turns it off, and OpsAddr is then empty.
	OpsAddr string
	// TRUSTED_PROXIES, default none: comma-separated CIDRs of the proxies whose
	// X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	// METRICS_MAX_FLAG_SERIES, default 10000: evaluator_evaluations_total series kept
	// per environment, flag, variant and reason; past it, evaluations are counted under
	// flag="_other".
	MetricsMaxFlagSeries int
	// METRICS_FLAG_SERIES_TTL, default 1h: a series with no evaluation for this long is
	// dropped (flags deleted, archived or no longer used).
	MetricsFlagSeriesTTL time.Duration

	SnapshotMaxAge time.Duration // SNAPSHOT_MAX_AGE, default 30s: how long an in-process snapshot is trusted without a message
	RedisTimeout   time.Duration // REDIS_TIMEOUT, default 100ms: deadline of each Redis call on the request path
	DBTimeout      time.Duration // DB_TIMEOUT, default 2s: deadline of a snapshot load from PostgreSQL
	KeyCacheTTL    time.Duration // SDK_KEY_CACHE_TTL, default 30s: how long an SDK key lookup is reused
	// AUTH_FAILURES_PER_ADDRESS, default 30: failed SDK-key authentications per client
	// address per minute, counted in Redis across replicas, then 429. Zero, which the
	// variable cannot be, counts none.
	AuthFailuresPerAddress int
	// AuthFailureScope names those counts in Redis: replicas that share it share the
	// limit. Not an environment variable: it is "sdk-authfail", and tests give each of
	// their evaluators (or sets of replicas) a scope of its own.
	AuthFailureScope string
	AnalyticsFlush   time.Duration // ANALYTICS_FLUSH_INTERVAL, default 5s, at most 20s
	AnalyticsMax     int           // ANALYTICS_MAX_SERIES, default 100000: live counters (a series lives until 2 minutes idle)
	ShutdownTimeout  time.Duration // SHUTDOWN_TIMEOUT, default 15s
	DBMaxConns       int           // DB_MAX_CONNS, default 10
	MaxBodyBytes     int64         // MAX_BODY_BYTES, default 256 KiB
	LogLevel         string        // LOG_LEVEL, default info
	LogFormat        string        // LOG_FORMAT, default json

	// Live updates (docs/LIVE_UPDATES.md).
	//
	// CORS_ALLOWED_ORIGINS, default none: the web origins whose pages may call the
	// evaluator with client SDK keys (comma-separated, or "*").
	CORSAllowedOrigins []string
	// PUBLIC_URL, default the request's own scheme and host: the evaluator's address as
	// clients reach it, for the stream URL in OFREP answers (set it behind a proxy).
	PublicURL string
	// STREAM_TOKEN_SECRET, default a random one per process: signs the stream URLs of
	// OFREP answers. Replicas behind one address must share it (32 characters or more).
	StreamTokenSecret []byte
	StreamTokenTTL    time.Duration // STREAM_TOKEN_TTL, default 10m: a stream URL is valid for one to two of these
	StreamHeartbeat   time.Duration // STREAM_HEARTBEAT, default 15s: comment lines that keep idle streams open
	// STREAM_POLL_INTERVAL, default 2s: while Redis is unreachable, how often the
	// versions of environments with open streams are read from PostgreSQL.
	StreamPollInterval time.Duration
	StreamsPerKey      int // STREAMS_PER_KEY, default 1000: open streams per server SDK key
	// STREAMS_PER_ADDRESS, default 100: open streams of client keys per client address
	// (every tab of a web app shares its client key, so those are limited per visitor).
	StreamsPerAddress int
	StreamsMax        int // STREAMS_MAX, default 20000: open streams per process
}

// Load reads the configuration through getenv and reports every bad variable at once.
func Load(getenv func(string) string) (Config, error) {
	r := envconfig.New(getenv)
	c := Config{
		DatabaseURL:            r.URL("DATABASE_URL", "postgres://user:password@host:port/database", "postgres", "postgresql"),
		DatabaseReadURL:        r.String("DATABASE_READ_URL", ""),
		RedisURL:               r.URL("REDIS_URL", "redis://host:port/db (or redis-cluster://, redis-sentinel://)", redisconn.Schemes...),
		HTTPAddr:               r.Addr("HTTP_ADDR", "127.0.0.1:8081"),
		SnapshotMaxAge:         r.Duration("SNAPSHOT_MAX_AGE", 30*time.Second),
		RedisTimeout:           r.Duration("REDIS_TIMEOUT", 100*time.Millisecond),
		DBTimeout:              r.Duration("DB_TIMEOUT", 2*time.Second),
		KeyCacheTTL:            r.Duration("SDK_KEY_CACHE_TTL", 30*time.Second),
		AuthFailuresPerAddress: int(r.Int("AUTH_FAILURES_PER_ADDRESS", 30, 1)),
		AuthFailureScope:       "sdk-authfail",
		AnalyticsFlush:         r.Duration("ANALYTICS_FLUSH_INTERVAL", 5*time.Second),
		ShutdownTimeout:        r.Duration("SHUTDOWN_TIMEOUT", 15*time.Second),
		AnalyticsMax:           int(r.Int("ANALYTICS_MAX_SERIES", 100_000, 100)),
		DBMaxConns:             int(r.Int("DB_MAX_CONNS", 10, 2)),
		MaxBodyBytes:           r.Int("MAX_BODY_BYTES", 256<<10, 1024),
		LogLevel:               r.OneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		LogFormat:              r.OneOf("LOG_FORMAT", "json", "json", "text"),

		MetricsMaxFlagSeries: int(r.Int("METRICS_MAX_FLAG_SERIES", 10_000, 0)),
		MetricsFlagSeriesTTL: r.Duration("METRICS_FLAG_SERIES_TTL", time.Hour),
		OpsAddr:              r.OpsAddr("OPS_ADDR", "127.0.0.1:9081"),
		TrustedProxies:       r.CIDRs("TRUSTED_PROXIES"),

		CORSAllowedOrigins: r.Origins("CORS_ALLOWED_ORIGINS"),
		PublicURL:          strings.TrimSuffix(r.String("PUBLIC_URL", ""), "/"),
		StreamTokenTTL:     r.Duration("STREAM_TOKEN_TTL", 10*time.Minute),
		StreamHeartbeat:    r.Duration("STREAM_HEARTBEAT", 15*time.Second),
		StreamPollInterval: r.Duration("STREAM_POLL_INTERVAL", 2*time.Second),
		StreamsPerKey:      int(r.Int("STREAMS_PER_KEY", 1000, 1)),
		StreamsPerAddress:  int(r.Int("STREAMS_PER_ADDRESS", 100, 1)),
		StreamsMax:         int(r.Int("STREAMS_MAX", 20_000, 1)),
	}
	if c.PublicURL != "" {
		r.URL("PUBLIC_URL", "https://flags.example.com", "http", "https")
	}
	if s := r.String("STREAM_TOKEN_SECRET", ""); s != "" {
		if len(s) < 32 {
			r.Fail("STREAM_TOKEN_SECRET: must be at least 32 characters")
		}
		c.StreamTokenSecret = []byte(s)
	}
	if c.StreamTokenTTL < time.Minute {
		r.Fail("STREAM_TOKEN_TTL: %v is shorter than a minute; clients would fetch a new URL (and the flags) that often", c.StreamTokenTTL)
	}
	// Counts are kept per minute in two cells, this minute's and the last one's: a
	// flush must come well within a minute of the one before (its write may take as
	// long again).
	if c.AnalyticsFlush > 20*time.Second {
		r.Fail("ANALYTICS_FLUSH_INTERVAL: %v is longer than 20s; counts are attributed to their minute only when flushes come more often", c.AnalyticsFlush)
	}
	if c.StreamsPerKey > c.StreamsMax {
		r.Fail("STREAMS_PER_KEY: %d is more than STREAMS_MAX (%d)", c.StreamsPerKey, c.StreamsMax)
	}
	if c.OpsAddr == c.HTTPAddr {
		r.Fail("OPS_ADDR: %q is HTTP_ADDR too; the operations listener needs its own port", c.OpsAddr)
	}
	// Refused rather than ignored, so that nobody looks for profiles where none are.
	if r.String("PPROF_ADDR", "") != "" {
		r.Fail("PPROF_ADDR: no longer read; profiles are served with the metrics on OPS_ADDR")
	}
	if c.DatabaseReadURL != "" {
		r.URL("DATABASE_READ_URL", "postgres://user:password@replica:port/database", "postgres", "postgresql")
	}
	return c, r.Err()
}
