// Package redisconn opens the Redis client both services use, for one server, a Redis
// Cluster or a Sentinel-managed failover group, all behind go-redis's UniversalClient:
//
//	redis://[user:password@]host:port/db            one server (rediss:// for TLS)
//	redis-cluster://host:port?addr=host2:port2&...   Redis Cluster, seeded by these nodes
//	redis-sentinel://host:port?addr=host2:port2&master_name=mymaster
//	                                                  failover through these sentinels
//
// Every Redis call gets short deadlines, so a dead Redis costs milliseconds.
package redisconn

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options are the client's deadlines and pool.
type Options struct {
	Dial, Read, Write time.Duration // a negative Read disables the read deadline (subscriptions)
	MaxRetries        int           // -1: no retries
	PoolSize          int           // 0: go-redis's default
}

// apply sets a client's deadlines, retries and pool (the three go-redis option types
// name them alike but share no type).
func (o Options) apply(dial, read, write *time.Duration, retries, pool *int) {
	*dial, *read, *write, *retries = o.Dial, o.Read, o.Write, o.MaxRetries
	if o.PoolSize > 0 {
		*pool = o.PoolSize
	}
}

// Schemes lists the accepted URL schemes.
var Schemes = []string{"redis", "rediss", "redis-cluster", "rediss-cluster", "redis-sentinel", "rediss-sentinel"}

// Open returns a client for url.
func Open(url string, o Options) (redis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return nil, fmt.Errorf("redis url %q: no scheme", redact(url))
	}
	base := strings.TrimSuffix(strings.TrimSuffix(scheme, "-cluster"), "-sentinel")
	plain := base + "://" + rest
	switch {
	case strings.HasSuffix(scheme, "-cluster"):
		opt, err := redis.ParseClusterURL(plain)
		if err != nil {
			return nil, fmt.Errorf("redis cluster url %q: %w", redact(url), err)
		}
		o.apply(&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.MaxRetries, &opt.PoolSize)
		return redis.NewClusterClient(opt), nil
	case strings.HasSuffix(scheme, "-sentinel"):
		opt, err := redis.ParseFailoverURL(plain)
		if err != nil {
			return nil, fmt.Errorf("redis sentinel url %q: %w", redact(url), err)
		}
		if opt.MasterName == "" {
			return nil, fmt.Errorf("redis sentinel url %q: master_name is required", redact(url))
		}
		o.apply(&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.MaxRetries, &opt.PoolSize)
		return redis.NewFailoverClient(opt), nil
	case scheme == "redis" || scheme == "rediss":
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("redis url %q: %w", redact(url), err)
		}
		o.apply(&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.MaxRetries, &opt.PoolSize)
		return redis.NewClient(opt), nil
	}
	return nil, fmt.Errorf("redis url %q: scheme %q is not one of %s", redact(url), scheme, strings.Join(Schemes, ", "))
}

// redact hides a password in a URL for error messages.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if user, _, has := strings.Cut(rest[:at], ":"); has {
			return scheme + "://" + user + ":***@" + rest[at+1:]
		}
	}
	return url
}

// Pinger is a client as a readiness check (server.Checker).
type Pinger struct{ Client redis.UniversalClient }

// Ping checks that Redis answers.
func (p Pinger) Ping(ctx context.Context) error { return p.Client.Ping(ctx).Err() }
