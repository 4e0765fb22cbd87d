// Package streams keeps the evaluator's open event streams (docs/LIVE_UPDATES.md): who
// listens to which environment, the newest version each environment has announced,
// and the limits on how many streams a key and the process may hold.
//
// Announcing a version costs one non-blocking send per stream, under one lock: a
// stream has a wake-up channel of capacity one, so a stream that is still writing the
// previous event is not waited for, and reads the newest version when it gets to it.
// Versions in between are skipped, never sent out of order.
package streams

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Options are the limits of a hub.
type Options struct {
	PerKey int // open streams per server SDK key
	// PerAddress bounds the streams of client keys per client address: every browser
	// tab of a web app shares its one client key, which anyone can read from the page,
	// so a per-key limit would let one visitor take every user's live updates.
	PerAddress int
	Max        int // open streams per process
}

// Owner is who opens a stream: the environment, the key, whether the key is a client
// key, the client's address (its /64 for IPv6) and the key's expiry.
type Owner struct {
	Environment, KeyID, Address string
	ClientKey                   bool
	ExpiresAt                   *time.Time
}

// Stats counts what the hub did, for metrics.
type Stats struct {
	Opened, RefusedKey, RefusedProcess, Announcements, Revoked atomic.Int64
}

// Hub is the set of open streams. It is safe for concurrent use.
type Hub struct {
	opt   Options
	Stats Stats

	mu      sync.Mutex
	envs    map[string]*environment
	perKey  map[string]int
	perAddr map[string]int
	// expiring holds when each key with an expiry is due to end its streams.
	expiring map[string]time.Time
	open     int
	closed   bool
}

type environment struct {
	version int64
	subs    map[*Stream]struct{}
}

// Stream is one open stream: its writer waits on Wake and Done.
type Stream struct {
	Owner

	hub  *Hub
	wake chan struct{}
	done chan struct{}
	once sync.Once
}

// Errors of Open.
var (
	errKeyLimit     = errors.New("too many open streams for this SDK key")
	errAddressLimit = errors.New("too many open streams from this address")
	errProcessLimit = errors.New("this evaluator holds as many streams as it may")
	errClosing      = errors.New("the evaluator is shutting down")
)

// New returns an empty hub.
func New(opt Options) *Hub {
	return &Hub{opt: opt, envs: map[string]*environment{}, perKey: map[string]int{}, perAddr: map[string]int{}, expiring: map[string]time.Time{}}
}

// Open registers a stream, unless a limit is reached: 429 for a server key's or a
// client address's, 503 for the process's, each with a Retry-After.
func (h *Hub) Open(o Owner) (*Stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, domain.Wrap(domain.CodeUnavailable, errClosing, "the evaluator is shutting down; reconnect")
	case !o.ClientKey && h.perKey[o.KeyID] >= h.opt.PerKey:
		h.Stats.RefusedKey.Add(1)
		return nil, domain.RateLimited(errKeyLimit.Error()+" (STREAMS_PER_KEY); close some or use another key", 5*time.Second)
	case o.ClientKey && h.perAddr[o.Address] >= h.opt.PerAddress:
		h.Stats.RefusedKey.Add(1)
		return nil, domain.RateLimited(errAddressLimit.Error()+" (STREAMS_PER_ADDRESS); close some", 5*time.Second)
	case h.open >= h.opt.Max:
		h.Stats.RefusedProcess.Add(1)
		return nil, domain.Busy(errProcessLimit.Error()+" (STREAMS_MAX); reach another replica", 5*time.Second)
	}
	s := &Stream{Owner: o, hub: h, wake: make(chan struct{}, 1), done: make(chan struct{})}
	e := h.envs[o.Environment]
	if e == nil {
		e = &environment{subs: map[*Stream]struct{}{}}
		h.envs[o.Environment] = e
	}
	e.subs[s] = struct{}{}
	if o.ClientKey {
		h.perAddr[o.Address]++
	} else {
		h.perKey[o.KeyID]++
	}
	h.open++
	h.Stats.Opened.Add(1)
	return s, nil
}

// Wake is signalled when the environment announces a newer version.
func (s *Stream) Wake() <-chan struct{} { return s.wake }

// Done is closed when the hub ends the stream: the key was revoked, or the evaluator
// is shutting down.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Close unregisters the stream; the handler calls it when it returns.
func (s *Stream) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.envs[s.Environment]
	if e == nil {
		return
	}
	if _, ok := e.subs[s]; !ok {
		return
	}
	delete(e.subs, s)
	if len(e.subs) == 0 {
		// The version is forgotten with the last listener: a later stream starts from
		// the snapshot it is given, which is at least as new.
		delete(h.envs, s.Environment)
	}
	if s.ClientKey {
		if h.perAddr[s.Address]--; h.perAddr[s.Address] <= 0 {
			delete(h.perAddr, s.Address)
		}
	} else if h.perKey[s.KeyID]--; h.perKey[s.KeyID] <= 0 {
		delete(h.perKey, s.KeyID)
	}
	h.open--
	s.end()
}

func (s *Stream) end() { s.once.Do(func() { close(s.done) }) }

// Version returns the newest version the environment's streams know of, at least
// seen: the version of the snapshot a new stream starts from. A seen newer than the
// announcements (the snapshot cache reloaded before the invalidation arrived) is
// announced to the streams already open, which would otherwise never hear of it: the
// invalidation, when it comes, is no longer newer.
func (h *Hub) Version(environmentID string, seen int64) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.envs[environmentID]
	if e == nil {
		return seen
	}
	h.announce(e, seen)
	return e.version
}

// Announce records that the environment is at version and wakes its streams, unless
// they were told about that version or a newer one already.
func (h *Hub) Announce(environmentID string, version int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.envs[environmentID]; e != nil {
		h.announce(e, version)
	}
}

// announce wakes the environment's streams for a newer version; h.mu is held.
func (h *Hub) announce(e *environment, version int64) {
	if version <= e.version {
		return
	}
	e.version = version
	for s := range e.subs {
		select {
		case s.wake <- struct{}{}:
		default: // already due to wake: it reads the newest version then
		}
	}
	h.Stats.Announcements.Add(1)
}

// Environments returns the environments that have open streams.
func (h *Hub) Environments() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]string, 0, len(h.envs))
	for id := range h.envs {
		ids = append(ids, id)
	}
	return ids
}

// Has reports whether the environment has open streams.
func (h *Hub) Has(environmentID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.envs[environmentID] != nil
}

// Keys returns the keys with open streams in the environment.
func (h *Hub) Keys(environmentID string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.envs[environmentID]
	if e == nil {
		return nil
	}
	seen := map[string]bool{}
	var ids []string
	for s := range e.subs {
		if !seen[s.KeyID] {
			seen[s.KeyID] = true
			ids = append(ids, s.KeyID)
		}
	}
	return ids
}

// EndKey ends the streams opened with a key (revoked, expired, or gone).
func (h *Hub) EndKey(environmentID, keyID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.envs[environmentID]; e != nil {
		for s := range e.subs {
			if s.KeyID == keyID {
				h.Stats.Revoked.Add(1)
				s.end()
			}
		}
	}
}

// EndKeyAt ends the streams of a key when it expires: an expiry set after they opened
// (a rotation's grace period) ends them too.
func (h *Hub) EndKeyAt(environmentID, keyID string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.expiring[keyID].Equal(at) {
		return // scheduled already: every change to the environment checks the key again
	}
	h.expiring[keyID] = at
	time.AfterFunc(time.Until(at), func() {
		h.EndKey(environmentID, keyID)
		h.mu.Lock()
		if h.expiring[keyID].Equal(at) {
			delete(h.expiring, keyID)
		}
		h.mu.Unlock()
	})
}

// Close ends every stream and refuses new ones: the evaluator is shutting down, and
// its listener must not wait for streams that would never end by themselves.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, e := range h.envs {
		for s := range e.subs {
			s.end()
		}
	}
}

// Open returns the number of open streams.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.open
}
