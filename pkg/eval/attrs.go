package eval

import (
	"hash/maphash"
	"regexp"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/semver"
)

// attr locates an attribute in a context. A snapshot interns one attr per distinct
// name, numbered by slot, so that one evaluation resolves it once however many
// conditions and flags test it.
type attr struct {
	name string
	path []string // the dotted path's segments; nil when name has no dot
	key  bool     // the targeting key
}

// attrRef is a use of an attribute by a flag. idx[bulk] is the attribute's slot in the
// snapshot, idx[single] its number among the attributes of that flag, for single
// evaluation, whose cache lives on the stack.
type attrRef struct {
	*attr
	idx [2]int32
}

// Cache modes, indexes of attrRef.idx.
const (
	single = 0
	bulk   = 1
)

// lookupMap finds a non-targeting-key attribute: by its dotted path through nested
// objects, then by a key that is the whole name.
func (a *attr) lookupMap(attrs map[string]any) (any, bool) {
	if a.path == nil {
		v, ok := attrs[a.name]
		return v, ok
	}
	if v, ok := followPath(attrs, a.path); ok {
		return v, true
	}
	v, ok := attrs[a.name]
	return v, ok
}

// lookupList is lookupMap for a listed context: ok is false when the attribute is
// absent or null, and x is nil when it is the string text.
func (a *attr) lookupList(list []Attribute) (x any, text string, ok bool) {
	if a.path != nil {
		if top := listed(list, a.path[0]); top != nil {
			if m, isMap := top.Value.(map[string]any); isMap {
				if v, found := followPath(m, a.path[1:]); found {
					return v, "", v != nil
				}
			}
		}
	}
	if at := listed(list, a.name); at != nil {
		return at.Value, at.Text, true
	}
	return nil, "", false
}

func listed(list []Attribute, name string) *Attribute {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// followPath follows path through nested objects from m.
func followPath(m map[string]any, path []string) (any, bool) {
	for i, seg := range path {
		v, ok := m[seg]
		if !ok {
			return nil, false
		}
		if i == len(path)-1 {
			return v, true
		}
		if m, ok = v.(map[string]any); !ok {
			return nil, false
		}
	}
	return nil, false
}

// interner hands out attribute slots while a snapshot compiles.
type interner struct {
	global map[string]*attr
	slots  map[string]int
	local  map[string]int // of the flag being compiled
	conds  []condition    // the snapshot's condition arena
	// Each distinct pattern is compiled once, however many flags use it, and the
	// tally bounds the work and memory of all of them.
	regexes map[string]*regexp.Regexp
	tally   domain.RegexTally
}

func (in *interner) attr(name string) attrRef {
	a, ok := in.global[name]
	if !ok {
		a = &attr{name: name, key: name == "key" || name == "targetingKey"}
		if strings.Contains(name, ".") {
			a.path = strings.Split(name, ".")
		}
		in.global[name] = a
		in.slots[name] = len(in.slots)
	}
	local, ok := in.local[name]
	if !ok {
		local = len(in.local)
		in.local[name] = local
	}
	return attrRef{attr: a, idx: [2]int32{single: int32(local), bulk: int32(in.slots[name])}}
}

// Flags of a resolved attribute.
const (
	resolved uint8 = 1 << iota
	present
	isString
	hashed
	verParsed
	verValid
	timeParsed
	timeValid
)

// value is one attribute of the context, resolved once per evaluation.
// A string is hashed, and parsed as a version or a time, at most once per evaluation:
// in bulk evaluation a thousand flags may test the same app_version.
type value struct {
	flags uint8
	s     string // the value when it is a string (or the targeting key)
	v     any
	hash  uint64 // of s, with the snapshot's seed
	ver   semver.Version
	time  time.Time
}

func (v *value) semver() (semver.Version, bool) {
	if v.flags&verParsed == 0 {
		v.flags |= verParsed
		var ok bool
		if v.ver, ok = semver.Parse(v.s); ok {
			v.flags |= verValid
		}
	}
	return v.ver, v.flags&verValid != 0
}

func (v *value) parsedTime() (time.Time, bool) {
	if v.flags&timeParsed == 0 {
		v.flags |= timeParsed
		var err error
		if v.time, err = time.Parse(time.RFC3339, v.s); err == nil {
			v.flags |= timeValid
		}
	}
	return v.time, v.flags&timeValid != 0
}

// attrCache resolves attributes for one evaluation. With vals nil nothing is cached.
//
// The context is not a field: storing what it holds into vals would then make the
// analysis move vals, which single evaluation keeps on the stack, to the heap.
// scratch, a one-element slice, holds an attribute that has no slot in vals; a slice
// rather than a field for the same reason.
//
// left is what remains of the evaluation's budget.
type attrCache struct {
	seed    maphash.Seed
	vals    []value
	mode    int // single or bulk: which attrRef.idx indexes vals
	scratch []value
	left    budget
}

// localVals returns a cleared cache for a flag with n local attributes, held in buf
// when it is large enough, and nil (no caching) otherwise. It returns the slice rather
// than storing it so that buf can stay on the caller's stack.
func localVals(buf []value, n int) []value {
	if n > len(buf) {
		return nil
	}
	clear(buf[:n])
	return buf[:n]
}

// get returns the attribute, resolving it on first use.
func (ac *attrCache) get(ctx *Context, a *attrRef) *value {
	i := int(a.idx[ac.mode])
	if i < len(ac.vals) && ac.vals[i].flags&resolved != 0 {
		return &ac.vals[i]
	}
	return ac.resolve(ctx, a, i)
}

func (ac *attrCache) resolve(ctx *Context, a *attrRef, i int) *value {
	// A dotted path costs a lookup per segment, and one for the whole name; callers see
	// a spent budget when the condition returns.
	ac.left.spend(costResolve * int64(1+len(a.path)))
	var v *value
	if i < len(ac.vals) {
		v = &ac.vals[i]
	} else {
		v = &ac.scratch[0]
		*v = value{}
	}
	v.flags = resolved
	if a.key {
		if ctx.Key != "" {
			v.flags |= present | isString
			v.s = ctx.Key
		}
		return v
	}
	var x any
	var text string
	var ok bool
	if ctx.List != nil {
		x, text, ok = a.lookupList(ctx.List)
	} else {
		x, ok = a.lookupMap(ctx.Attributes)
		ok = ok && x != nil // null, as absent
	}
	if !ok {
		return v
	}
	if x == nil { // a listed string
		v.flags |= present | isString
		v.s = text
		return v
	}
	v.flags |= present
	v.v = x
	if s, ok := x.(string); ok {
		v.flags |= isString
		v.s = s
	}
	return v
}

func (ac *attrCache) hash(v *value) uint64 {
	if v.flags&hashed == 0 {
		v.hash = maphash.String(ac.seed, v.s)
		v.flags |= hashed
	}
	return v.hash
}

// textSet is an open-addressing hash set of strings for in and not_in, keyed by the
// snapshot's seed so that a context value is hashed once for every set it is tested
// against. A slot holds a hash beside its key and the keys' bytes share one block, so
// that a lookup touches few cache lines: bulk evaluation walks thousands of sets.
type textSet struct {
	seed  maphash.Seed
	slots []setSlot // a power of two long; hash 0 marks an empty slot
}

type setSlot struct {
	hash uint64 // with the low bit set
	key  string
}

func newTextSet(seed maphash.Seed, values []string) textSet {
	size := 1
	for size < 2*len(values) {
		size <<= 1
	}
	blob := strings.Join(values, "")
	t := textSet{seed: seed, slots: make([]setSlot, size)}
	mask := uint64(size - 1)
	off := 0
	for _, s := range values {
		key := blob[off : off+len(s)]
		off += len(s)
		h := maphash.String(seed, key) | 1
		i := h & mask
		for t.slots[i].hash != 0 && !(t.slots[i].hash == h && t.slots[i].key == key) {
			i = (i + 1) & mask
		}
		t.slots[i] = setSlot{hash: h, key: key}
	}
	return t
}

func (t *textSet) hasHashed(s string, h uint64) bool {
	h |= 1
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; t.slots[i].hash != 0; i = (i + 1) & mask {
		if t.slots[i].hash == h && t.slots[i].key == s {
			return true
		}
	}
	return false
}

func (t *textSet) has(s string) bool { return t.hasHashed(s, maphash.String(t.seed, s)) }

func (t *textSet) hasBytes(b []byte) bool {
	h := maphash.Bytes(t.seed, b) | 1
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; t.slots[i].hash != 0; i = (i + 1) & mask {
		if t.slots[i].hash == h && t.slots[i].key == string(b) {
			return true
		}
	}
	return false
}
