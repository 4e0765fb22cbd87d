package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	good := map[string]string{"DATABASE_URL": "postgres://u:p@h:5432/d", "REDIS_URL": "redis://h:6379/0"}
	get := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := Load(get(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8081" || c.SnapshotMaxAge != 30*time.Second || c.RedisTimeout != 100*time.Millisecond ||
		c.OpsAddr != "127.0.0.1:9081" || len(c.TrustedProxies) != 0 || c.MetricsMaxFlagSeries != 10_000 || c.MetricsFlagSeriesTTL != time.Hour ||
		c.AuthFailuresPerAddress != 30 || c.AuthFailureScope != "sdk-authfail" ||
		len(c.CORSAllowedOrigins) != 0 || c.PublicURL != "" || c.StreamTokenSecret != nil || c.StreamTokenTTL != 10*time.Minute ||
		c.StreamHeartbeat != 15*time.Second || c.StreamPollInterval != 2*time.Second || c.StreamsPerKey != 1000 || c.StreamsPerAddress != 100 || c.StreamsMax != 20_000 {
		t.Errorf("defaults: %+v", c)
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for k, v := range good {
			m[k] = v
		}
		return m
	}
	if c, err := Load(get(with("OPS_ADDR", "off"))); err != nil || c.OpsAddr != "" {
		t.Errorf("OPS_ADDR=off: %q %v", c.OpsAddr, err)
	}
	if c, err := Load(get(with("PUBLIC_URL", "https://flags.example.com/"))); err != nil || c.PublicURL != "https://flags.example.com" {
		t.Errorf("PUBLIC_URL: %q %v", c.PublicURL, err)
	}
	if c, err := Load(get(with("METRICS_MAX_FLAG_SERIES", "0"))); err != nil || c.MetricsMaxFlagSeries != 0 {
		t.Errorf("METRICS_MAX_FLAG_SERIES=0 (every evaluation under _other): %v %v", c.MetricsMaxFlagSeries, err)
	}
	for key, value := range map[string]string{"DATABASE_URL": "", "REDIS_URL": "http://x", "SNAPSHOT_MAX_AGE": "soon",
		"ANALYTICS_MAX_SERIES": "3", "HTTP_ADDR": "nope", "LOG_FORMAT": "xml", "PPROF_ADDR": "127.0.0.1:6060",
		"OPS_ADDR": "9081", "TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal", "METRICS_MAX_FLAG_SERIES": "-1",
		"METRICS_FLAG_SERIES_TTL": "0s", "CORS_ALLOWED_ORIGINS": "app.example.com", "PUBLIC_URL": "flags.example.com",
		"STREAM_TOKEN_SECRET": "short", "STREAM_HEARTBEAT": "0s", "STREAMS_PER_KEY": "30000", "STREAMS_MAX": "0", "STREAM_TOKEN_TTL": "1s", "STREAMS_PER_ADDRESS": "0", "ANALYTICS_FLUSH_INTERVAL": "30s"} {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		m[key] = value
		if _, err := Load(get(m)); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%q: %v", key, value, err)
		}
	}
}
