package redisconn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/testinfra"
)

func TestOpen(t *testing.T) {
	o := Options{MaxRetries: -1}
	c, err := Open("redis://127.0.0.1:6379/2", o)
	if _, ok := c.(*redis.Client); err != nil || !ok {
		t.Errorf("single: %T %v", c, err)
	}
	c, err = Open("redis-cluster://127.0.0.1:7000?addr=127.0.0.1:7001&addr=127.0.0.1:7002", o)
	if cc, ok := c.(*redis.ClusterClient); err != nil || !ok || len(cc.Options().Addrs) != 3 {
		t.Errorf("cluster: %T %v", c, err)
	}
	c, err = Open("redis-sentinel://127.0.0.1:26379?addr=127.0.0.1:26380&master_name=primary", o)
	if _, ok := c.(*redis.Client); err != nil || !ok {
		t.Errorf("sentinel: %T %v", c, err)
	}
	for _, bad := range []string{"127.0.0.1:6379", "http://x", "redis-sentinel://h:1", "redis-cluster://h:1?bogus=1"} {
		if _, err := Open(bad, o); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	_, err = Open("redis-sentinel://user:s3cret@h:1", o)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("errors must not show the password: %v", err)
	}
}

// TestPinger: the readiness check fails while Redis does not answer, and passes once
// it does.
func TestPinger(t *testing.T) {
	dead, err := Open("redis://127.0.0.1:1/0", Options{Dial: 100 * time.Millisecond, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	if err := (Pinger{dead}).Ping(context.Background()); err == nil {
		t.Error("a Redis that is not there answered")
	}
	live, err := Open(testinfra.RedisURL(t), Options{MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := (Pinger{live}).Ping(context.Background()); err != nil {
		t.Errorf("the test Redis did not answer: %v", err)
	}
}
