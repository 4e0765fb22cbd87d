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
	if c.HTTPAddr != "127.0.0.1:8081" || c.SnapshotMaxAge != 30*time.Second || c.RedisTimeout != 100*time.Millisecond {
		t.Errorf("defaults: %+v", c)
	}
	for key, value := range map[string]string{"DATABASE_URL": "", "REDIS_URL": "http://x", "SNAPSHOT_MAX_AGE": "soon",
		"ANALYTICS_MAX_SERIES": "3", "HTTP_ADDR": "nope", "LOG_FORMAT": "xml", "PPROF_ADDR": "6060"} {
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
