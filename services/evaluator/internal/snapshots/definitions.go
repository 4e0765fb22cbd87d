package snapshots

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/platform/rediscache"
)

// Definitions is an environment's flag definitions as SDKs download them: the JSON of
// the snapshot the engine compiles, and the same bytes compressed with gzip.
type Definitions struct {
	Version int64
	JSON    []byte
	Gzip    []byte
}

// definitions keeps the last encoded definitions of each environment SDKs asked for:
// in memory the cache holds only compiled snapshots, and the encoding is made once
// per version however many SDKs fetch it.
type definitions struct {
	mu      sync.Mutex
	byEnv   map[string]*Definitions
	forced  map[string]time.Time // last load forced by a client's hint, per environment
	forcing map[string]bool      // such a load is under way
}

// Definitions returns the environment's definitions at version or newer, as far as a
// store has them: Redis first, PostgreSQL next. version is the one the caller's
// snapshot has, so the definitions are never older than what the evaluator serves
// while a store answers; when neither does, the last ones encoded are served.
func (c *Cache) Definitions(ctx context.Context, environmentID string, version int64) (*Definitions, error) {
	c.defs.mu.Lock()
	d := c.defs.byEnv[environmentID]
	c.defs.mu.Unlock()
	if d != nil && d.Version >= version {
		return d, nil
	}
	// One load per version: a caller that wants a newer version than a load under way
	// does not join it.
	v, err, _ := c.group.Do("definitions:"+environmentID+":"+strconv.FormatInt(version, 10), func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opt.LoadTimeout+c.opt.RedisTimeout)
		defer cancel()
		return c.loadDefinitions(lctx, environmentID, version)
	})
	if err != nil {
		// Stale if error, as for evaluations: the last definitions encoded, which an
		// SDK that has them already answers with a 304 and keeps serving.
		if d != nil && domain.ErrorCode(err) != domain.CodeNotFound {
			c.Stats.StaleServed.Add(1)
			return d, nil
		}
		return nil, err
	}
	d = v.(*Definitions)
	c.defs.mu.Lock()
	if cur := c.defs.byEnv[environmentID]; cur == nil || cur.Version < d.Version {
		c.defs.byEnv[environmentID] = d
	}
	c.defs.mu.Unlock()
	return d, nil
}

func (c *Cache) loadDefinitions(ctx context.Context, environmentID string, version int64) (*Definitions, error) {
	if c.redisUsable() {
		rctx, cancel := context.WithTimeout(ctx, c.opt.RedisTimeout)
		data, v, err := rediscache.Load(rctx, c.rdb, environmentID)
		cancel()
		switch {
		case err == nil && v >= version:
			// Redis holds the snapshot in its own format (rediscache.SnapshotJSON).
			if js, jerr := rediscache.SnapshotJSON(data); jerr == nil {
				return encodeDefinitions(v, js)
			}
			c.log.Warn("unreadable snapshot in redis; loading from postgres", "environment", environmentID)
		case err != nil && !errors.Is(err, rediscache.ErrMiss):
			c.redisFailed(err)
		}
	}
	dctx, cancel := context.WithTimeout(ctx, c.opt.LoadTimeout)
	ds, err := c.src.LoadSnapshot(dctx, environmentID, version)
	cancel()
	if err != nil {
		if domain.ErrorCode(err) == domain.CodeNotFound {
			c.ForgetDefinitions(environmentID)
		}
		return nil, err
	}
	data, err := json.Marshal(ds)
	if err != nil {
		return nil, fmt.Errorf("encode definitions of environment %s: %w", environmentID, err)
	}
	return encodeDefinitions(ds.Version, data)
}

func encodeDefinitions(version int64, data []byte) (*Definitions, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // a valid level
	if _, err := zw.Write(data); err != nil {
		return nil, fmt.Errorf("compress definitions: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress definitions: %w", err)
	}
	return &Definitions{Version: version, JSON: data, Gzip: buf.Bytes()}, nil
}

// ForgetDefinitions drops the encoded definitions of an environment (deleted).
func (c *Cache) ForgetDefinitions(environmentID string) {
	c.defs.mu.Lock()
	delete(c.defs.byEnv, environmentID)
	delete(c.defs.forced, environmentID)
	delete(c.defs.forcing, environmentID)
	c.defs.mu.Unlock()
}

// forcedEvery bounds the loads clients' hints may cause: one a second per environment.
const forcedEvery = time.Second

// AtLeast returns the environment's snapshot at version or newer, when a store has
// it. version comes from a client (OFREP's flagConfigEtag: another replica told it
// about the version), so it raises nothing: a newer snapshot is loaded without
// becoming the environment's floor, and at most once a second per environment, so a
// client that makes versions up costs one load a second and gets what there is.
func (c *Cache) AtLeast(ctx context.Context, environmentID string, version int64) (*eval.Snapshot, error) {
	snap, err := c.Get(ctx, environmentID)
	if err != nil || snap.Version >= version {
		return snap, err
	}
	// Only the start of a load is limited: the clients told about the same version
	// arrive together, and those that come while it runs wait for it with the first.
	now := c.now()
	c.defs.mu.Lock()
	joining := c.defs.forcing[environmentID]
	due := joining || now.Sub(c.defs.forced[environmentID]) >= forcedEvery
	if due && !joining {
		c.defs.forced[environmentID] = now
		c.defs.forcing[environmentID] = true
	}
	c.defs.mu.Unlock()
	if !due {
		return snap, nil
	}
	v, err, _ := c.group.Do("at-least:"+environmentID, func() (any, error) {
		defer func() {
			c.defs.mu.Lock()
			delete(c.defs.forcing, environmentID)
			c.defs.mu.Unlock()
		}()
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opt.LoadTimeout+c.opt.RedisTimeout)
		defer cancel()
		return c.load(lctx, environmentID, version)
	})
	if err != nil {
		return snap, nil // what the cache had is still the best answer
	}
	if fresh := v.(*eval.Snapshot); fresh.Version > snap.Version {
		return fresh, nil
	}
	return snap, nil
}
