package eval

import (
	"hash/maphash"
)

// Snapshot is a compiled environment: every flag of one environment at one version,
// ready to evaluate. It is immutable, and safe for concurrent use without locks.
// Variant values are shared by every result; callers must not modify them.
type Snapshot struct {
	ProjectKey     string
	EnvironmentID  string
	EnvironmentKey string
	Version        int64

	flags    []flag // sorted by key
	index    map[string]int
	seed     maphash.Seed // of every textSet and attribute hash
	nattrs   int          // distinct attribute names
	order    []int        // every flag after its prerequisites
	problems []error
	budget   int64 // work units per evaluation call
}

type flag struct {
	key      string
	salt     string
	off      bool // killed, or disabled in this environment
	variants []variant
	offIdx   int
	rules    []rule
	def      serve
	prereqs  []prereq
	nlocal   int // distinct attribute names of this flag
	// broken says why the flag cannot be evaluated; it then answers ERROR/GENERAL.
	broken string
}

type variant struct {
	key   string
	value any
}

type prereq struct {
	flag    int // -1 when the flag is unknown or archived
	variant string
}

type rule struct {
	id    string
	conds []condition
	serve serve
}

type serve struct {
	variant int // -1 for a rollout
	rollout *rollout
}

type rollout struct {
	by       attrRef
	bounds   []uint32 // exclusive upper bucket of each range
	variants []int
}

// Problems lists the flags that could not be compiled, and why.
func (s *Snapshot) Problems() []error { return s.problems }

// Len returns the number of flags in the snapshot.
func (s *Snapshot) Len() int { return len(s.flags) }

// Keys returns the flag keys in the order EvaluateAll answers them.
func (s *Snapshot) Keys() []string {
	keys := make([]string, len(s.flags))
	for i := range s.flags {
		keys[i] = s.flags[i].key
	}
	return keys
}

// Has reports whether the snapshot holds a flag with the given key.
func (s *Snapshot) Has(key string) bool {
	_, ok := s.index[key]
	return ok
}
