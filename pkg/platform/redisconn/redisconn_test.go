package redisconn

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
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
