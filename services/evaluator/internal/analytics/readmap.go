package analytics

import (
	"maps"
	"sync/atomic"
)

// readMap is a string-keyed map for many readers and rare writers. Readers look up a
// plain map, published through an atomic pointer, without a lock: one string hash and
// no interface conversion, unlike sync.Map. Writers hold the owner's mutex and change a
// private copy (dirty), which is published once as many locked lookups have missed the
// published map as it holds entries, so that copying costs O(1) per write amortised
// (sync.Map's original scheme), or when the owner asks.
type readMap[V any] struct {
	read   atomic.Pointer[map[string]V]
	dirty  map[string]V // nil while read is current; owner's mutex
	misses int          // owner's mutex
}

// load looks up the published map; it takes no lock and may miss recent writes.
func (m *readMap[V]) load(k string) (v V, ok bool) {
	if p := m.read.Load(); p != nil {
		v, ok = (*p)[k]
	}
	return v, ok
}

// lookup looks up the current map; the owner's mutex is held.
func (m *readMap[V]) lookup(k string) (V, bool) {
	if m.dirty == nil {
		return m.load(k)
	}
	// Every locked lookup while dirty is a miss of the published map (a reader came here
	// after load failed, or will fail to see a write): publish after enough of them.
	if m.misses++; m.misses >= len(m.dirty) {
		v, ok := m.dirty[k]
		m.publish()
		return v, ok
	}
	v, ok := m.dirty[k]
	return v, ok
}

// store sets k; the owner's mutex is held.
func (m *readMap[V]) store(k string, v V) {
	m.own()
	m.dirty[k] = v
}

// delete removes k; the owner's mutex is held.
func (m *readMap[V]) delete(k string) {
	m.own()
	delete(m.dirty, k)
}

// len is the size of the current map; the owner's mutex is held.
func (m *readMap[V]) len() int {
	if m.dirty != nil {
		return len(m.dirty)
	}
	if p := m.read.Load(); p != nil {
		return len(*p)
	}
	return 0
}

// own makes the private copy writers change.
func (m *readMap[V]) own() {
	if m.dirty != nil {
		return
	}
	if p := m.read.Load(); p != nil {
		m.dirty = maps.Clone(*p)
	}
	if m.dirty == nil {
		m.dirty = map[string]V{}
	}
}

// publish makes the writes visible to load; the owner's mutex is held. It reports
// whether there was anything to publish.
func (m *readMap[V]) publish() bool {
	if m.dirty == nil {
		return false
	}
	d := m.dirty
	m.read.Store(&d)
	m.dirty, m.misses = nil, 0
	return true
}

// published returns the published map, to range over without a lock; it must not be
// modified.
func (m *readMap[V]) published() map[string]V {
	if p := m.read.Load(); p != nil {
		return *p
	}
	return nil
}
