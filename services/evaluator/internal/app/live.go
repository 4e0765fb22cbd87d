package app

import (
	"context"
	"sync"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// changed is what follows a change to an environment, announced by an invalidation or
// found by the version poller: older snapshots and cached keys are no longer trusted,
// open streams announce the version, and the keys behind them are checked again (a
// revocation is a change).
func (a *App) changed(environmentID string, version int64) {
	a.Cache.Invalidate(environmentID, version)
	a.Keys.DropEnvironment(environmentID)
	a.Streams.Announce(environmentID, version)
	if a.Streams.Has(environmentID) {
		a.recheck.add(environmentID)
	}
}

// pollVersions reads the versions of the environments with open streams from
// PostgreSQL while the invalidation channel is down, and once after every
// resubscription (messages published meanwhile are lost): streams keep announcing
// changes through a Redis outage.
func (a *App) pollVersions(ctx context.Context, every, timeout time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if a.Listener.Connected() {
				continue
			}
		case <-a.poll:
		}
		ids := a.Streams.Environments()
		if len(ids) == 0 {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, timeout)
		versions, err := a.Store.EnvironmentVersions(qctx, ids)
		cancel()
		if err != nil {
			a.log.Debug("cannot read environment versions", "error", err)
			continue
		}
		for id, v := range versions {
			if v > a.Streams.Version(id, 0) {
				a.changed(id, v)
			}
		}
	}
}

// recheckKeys checks the keys of open streams again after their environment changed,
// and ends the streams of keys revoked, expired or deleted.
func (a *App) recheckKeys(ctx context.Context, timeout time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.recheck.wake:
		}
		for _, env := range a.recheck.take() {
			for _, id := range a.Streams.Keys(env) {
				qctx, cancel := context.WithTimeout(ctx, timeout)
				k, err := a.Keys.Valid(qctx, id, env)
				cancel()
				switch {
				case domain.ErrorCode(err) == domain.CodeUnauthorized:
					a.log.Info("ending the streams of a revoked SDK key", "environment", env, "key_id", id)
					a.Streams.EndKey(env, id)
				case err == nil && k.ExpiresAt != nil:
					// An expiry set after the streams opened (a rotation's grace
					// period) ends them when it comes.
					a.Streams.EndKeyAt(env, id, *k.ExpiresAt)
				}
			}
		}
	}
}

// pending is a set of environments with a wake-up channel: changes in quick
// succession cost one check.
type pending struct {
	mu   *sync.Mutex
	set  map[string]bool
	wake chan struct{}
}

func newPending() pending {
	return pending{mu: &sync.Mutex{}, set: map[string]bool{}, wake: make(chan struct{}, 1)}
}

func (p pending) add(id string) {
	p.mu.Lock()
	p.set[id] = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p pending) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]string, 0, len(p.set))
	for id := range p.set {
		ids = append(ids, id)
	}
	clear(p.set)
	return ids
}
