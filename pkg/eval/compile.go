package eval

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Compile compiles an environment snapshot. It never fails: a flag whose configuration
// cannot be compiled (which validation prevents) answers ERROR with error code GENERAL,
// and Problems says why.
//
// The compiled snapshot keeps nothing of s: flag keys are copied into one block, and
// every other string, value list, rollout and operand is interned, since an
// environment repeats them from flag to flag (variant keys, rule ids, plan and country
// lists, the same 25/75 rollout). Rules, variants and prerequisites of all flags share
// a few backing arrays. A snapshot of ten thousand flags is then a few allocations
// and the flags' own structures, rather than tens of small objects per flag.
//
// Flags are compiled in key order (a Builder fed sorted), stably, so that of a key
// listed twice the first is used.
func Compile(s domain.Snapshot) *Snapshot {
	// Flags are visited through their indexes: a FlagConfig is too large to move
	// around.
	order := make([]int32, 0, len(s.Flags))
	var h Sizes
	for i := range s.Flags {
		fc := &s.Flags[i]
		if fc.Flag.Archived {
			continue
		}
		order = append(order, int32(i))
		for _, r := range fc.Config.Rules {
			h.Conditions += len(r.Conditions)
		}
		h.Rules += len(fc.Config.Rules)
		h.KeyBytes += len(fc.Flag.Key)
		if fc.Flag.Salt != fc.Flag.Key {
			h.KeyBytes += len(fc.Flag.Salt) // BucketSalt: the key when empty
		}
	}
	h.Flags = len(order)
	byKey := func(a, b int32) int { return strings.Compare(s.Flags[a].Flag.Key, s.Flags[b].Flag.Key) }
	if !slices.IsSortedFunc(order, byKey) {
		slices.SortStableFunc(order, byKey)
	}
	b := NewBuilder(s.ProjectKey, s.EnvironmentID, s.EnvironmentKey, s.Version, h)
	for _, i := range order {
		b.Add(&s.Flags[i])
	}
	return b.Snapshot()
}

// Sizes tell a Builder how much to reserve; zero values are fine, and so are
// estimates: the arrays flags are cut from then grow by blocks.
type Sizes struct {
	Flags, Rules, Conditions int
	KeyBytes                 int // flag keys, and salts that differ from the key
}

// A Builder compiles a snapshot flag by flag, as a decoder produces them, so that the
// whole input is never held at once and decoding can run while flags compile. Fed the
// flags sorted by key, it builds what Compile builds. Fed them in another order, the
// snapshot is the same but for the snapshot-wide limits (the regular expressions'
// tally, domain.RegexTally), which then may fall on other flags: Sorted says so.
//
// The Builder keeps nothing of the flags given to Add once Snapshot has returned; a
// caller may reuse a FlagConfig after Add.
type Builder struct {
	snap *Snapshot
	c    *compiler
	// keys holds flag keys and salts end to end; a new block is taken when it is full,
	// so that substrings already taken stay valid.
	keys     strings.Builder
	keyBlock int
	sorted   bool
	added    bool
	last     string // the key last added
	problems []problem
	pending  []pendingPrereq
	preStart []int32 // of each flag in pending, then the end
}

type problem struct {
	key string
	err error
}

// pendingPrereq is a prerequisite to resolve once every flag is known.
type pendingPrereq struct {
	flag    string // the input's string, dropped by Snapshot
	variant string // interned
}

// NewBuilder starts a snapshot of the given environment at the given version.
func NewBuilder(projectKey, environmentID, environmentKey string, version int64, sizes Sizes) *Builder {
	snap := &Snapshot{
		ProjectKey:     strings.Clone(projectKey),
		EnvironmentID:  strings.Clone(environmentID),
		EnvironmentKey: strings.Clone(environmentKey),
		Version:        version,
		seed:           maphash.MakeSeed(),
		budget:         DefaultBudget,
		index:          make(map[string]int, sizes.Flags),
		flags:          make([]flag, 0, sizes.Flags),
	}
	b := &Builder{snap: snap, c: newCompiler(snap.seed, sizes.Conditions, sizes.Rules), sorted: true,
		keyBlock: sizes.KeyBytes, preStart: make([]int32, 0, sizes.Flags+1)}
	if b.keyBlock <= 0 {
		b.keyBlock = min(keyBlock, 16*max(sizes.Flags, 16))
	}
	return b
}

// keyOf copies a flag's key and its bucketing salt (domain.Flag.BucketSalt) into the
// key block.
func (b *Builder) keyOf(fl *domain.Flag) (key, salt string) {
	n := len(fl.Key)
	if fl.Salt != "" && fl.Salt != fl.Key {
		n += len(fl.Salt)
	}
	if b.keys.Cap()-b.keys.Len() < n {
		b.keys = strings.Builder{}
		b.keys.Grow(max(n, b.keyBlock))
		b.keyBlock = keyBlock // the size given was spent: later keys were not counted
	}
	start := b.keys.Len()
	b.keys.WriteString(fl.Key)
	if n == len(fl.Key) {
		key = b.keys.String()[start:]
		return key, key
	}
	b.keys.WriteString(fl.Salt)
	all := b.keys.String()
	return all[start : start+len(fl.Key)], all[start+len(fl.Key):]
}

// keyBlock is the size of the key block's next block when the size given ran out.
const keyBlock = 4096

// Add compiles one flag. An archived flag is left out; of a key given twice, the
// first is used.
func (b *Builder) Add(fc *domain.FlagConfig) {
	fl := &fc.Flag
	if fl.Archived {
		return
	}
	snap := b.snap
	if b.added && fl.Key < b.last {
		b.sorted = false
	}
	b.last, b.added = fl.Key, true
	if _, dup := snap.index[fl.Key]; dup {
		b.problems = append(b.problems, problem{fl.Key, fmt.Errorf("flag %q: listed twice; the first is used", fl.Key)})
		return
	}
	key, salt := b.keyOf(fl)
	f, err := b.c.compileFlag(fc, key, salt)
	if err != nil {
		f.broken = err.Error()
		b.problems = append(b.problems, problem{key, fmt.Errorf("flag %q: %w", fl.Key, err)})
	}
	snap.index[key] = len(snap.flags)
	snap.flags = append(snap.flags, f)
	b.preStart = append(b.preStart, int32(len(b.pending)))
	for _, p := range fc.Config.Prerequisites {
		b.pending = append(b.pending, pendingPrereq{flag: p.Flag, variant: b.c.str(p.Variant)})
	}
}

// Sorted reports whether the flags were added sorted by key, so that the snapshot is
// exactly Compile's.
func (b *Builder) Sorted() bool { return b.sorted }

// Snapshot finishes the snapshot. The Builder must not be used after it.
func (b *Builder) Snapshot() *Snapshot {
	snap, c := b.snap, b.c
	b.preStart = append(b.preStart, int32(len(b.pending)))
	var perm []int32 // the flags' positions in arrival order, by key
	if !b.sorted {
		perm = make([]int32, len(snap.flags))
		for i := range perm {
			perm[i] = int32(i)
		}
		slices.SortFunc(perm, func(x, y int32) int { return strings.Compare(snap.flags[x].key, snap.flags[y].key) })
		flags := make([]flag, len(snap.flags))
		for j, i := range perm {
			flags[j] = snap.flags[i]
			snap.index[flags[j].key] = j
		}
		snap.flags = flags
		// Problems in key order, as Compile lists them (stable: a flag's own problem
		// before its duplicates').
		slices.SortStableFunc(b.problems, func(x, y problem) int { return strings.Compare(x.key, y.key) })
	}
	if len(b.pending) > 0 {
		prereqs := make([]prereq, 0, len(b.pending))
		for j := range snap.flags {
			i := int32(j)
			if perm != nil {
				i = perm[j]
			}
			pre := b.pending[b.preStart[i]:b.preStart[i+1]]
			if len(pre) == 0 {
				continue
			}
			start := len(prereqs)
			for _, p := range pre {
				idx, ok := snap.index[p.flag]
				if !ok {
					idx = -1
				}
				prereqs = append(prereqs, prereq{flag: idx, variant: p.variant})
			}
			snap.flags[j].prereqs = prereqs[start:len(prereqs):len(prereqs)]
		}
	}
	for _, p := range b.problems {
		snap.problems = append(snap.problems, p.err)
	}
	snap.nattrs = len(c.slots)
	snap.link()
	b.snap, b.c, b.pending, b.problems = nil, nil, nil, nil
	return snap
}

// compiler holds what compiling one snapshot shares between its flags: the attribute
// interner, the arenas the flags' slices are cut from (sized beforehand when the sizes
// are known, else grown by blocks: slices already cut keep their block), and the
// interned values.
type compiler struct {
	*interner
	seed     maphash.Seed
	rules    []rule
	variants []variant
	strs     map[string]string
	lists    map[string][]string
	sets     map[string]textSet
	operands map[string]*operand
	rollouts map[string]*rollout
	variantL map[string][]variant
	scratch  []string
	ro       rollout
	buf      []byte
	// attrs and ops remember, by the input's text, what attr and Spec found: one map
	// lookup per condition rather than five.
	attrs map[string]attrSlot
	ops   map[domain.Operator]opInfo
}

type attrSlot struct {
	attr *attr
	slot int32
}

type opInfo struct {
	spec domain.OperatorSpec
	op   opcode
}

// attrRef interns an attribute by name (interner.attr), for the flag being compiled.
func (c *compiler) attrRef(name string) attrRef {
	g, ok := c.attrs[name]
	if !ok {
		name = c.str(name)
		ref := c.attr(name)
		c.attrs[name] = attrSlot{attr: ref.attr, slot: ref.idx[bulk]}
		return ref
	}
	local, ok := c.local[g.attr.name]
	if !ok {
		local = len(c.local)
		c.local[g.attr.name] = local
	}
	return attrRef{attr: g.attr, idx: [2]int32{single: int32(local), bulk: g.slot}}
}

// spec returns an operator's spec (domain.Operator.Spec), and the opcode of the
// positive operator.
func (c *compiler) spec(o domain.Operator) (domain.OperatorSpec, opcode, bool) {
	if in, ok := c.ops[o]; ok {
		return in.spec, in.op, true
	}
	spec, ok := o.Spec()
	if !ok {
		return spec, 0, false
	}
	in := opInfo{spec: spec, op: opcodes[spec.Positive()]}
	c.ops[domain.Operator(strings.Clone(string(o)))] = in
	return in.spec, in.op, true
}

func newCompiler(seed maphash.Seed, nconds, nrules int) *compiler {
	in := &interner{global: map[string]*attr{}, slots: map[string]int{}, local: map[string]int{}, regexes: map[string]*regexp.Regexp{}}
	in.conds = make([]condition, 0, nconds)
	return &compiler{interner: in, seed: seed,
		rules: make([]rule, 0, nrules),
		strs:  map[string]string{}, lists: map[string][]string{}, sets: map[string]textSet{},
		operands: map[string]*operand{}, rollouts: map[string]*rollout{}, variantL: map[string][]variant{},
		attrs: map[string]attrSlot{}, ops: map[domain.Operator]opInfo{}}
}

// str interns s, copying it the first time.
func (c *compiler) str(s string) string {
	if t, ok := c.strs[s]; ok {
		return t
	}
	t := strings.Clone(s)
	c.strs[t] = t
	return t
}

// appendKey appends s to the interning key in c.buf, length first, so that the
// concatenation of several strings is unambiguous.
func (c *compiler) appendKey(s string) {
	c.buf = binary.AppendUvarint(c.buf, uint64(len(s)))
	c.buf = append(c.buf, s...)
}

// list interns a list of strings (the values of a condition).
func (c *compiler) list(l []string) []string {
	c.buf = c.buf[:0]
	for _, s := range l {
		c.appendKey(s)
	}
	if t, ok := c.lists[string(c.buf)]; ok {
		return t
	}
	t := make([]string, len(l))
	for i, s := range l {
		t[i] = c.str(s)
	}
	c.lists[string(c.buf)] = t
	return t
}

// set interns the hash set of a list of strings.
func (c *compiler) set(l []string) textSet {
	c.buf = c.buf[:0]
	for _, s := range l {
		c.appendKey(s)
	}
	if t, ok := c.sets[string(c.buf)]; ok {
		return t
	}
	t := newTextSet(c.seed, l)
	c.sets[string(c.buf)] = t
	return t
}

// operand interns a condition's operand, known by its operator and its text.
func (c *compiler) operand(op opcode, text string, arg operand) *operand {
	c.buf = append(c.buf[:0], byte(op))
	c.buf = append(c.buf, text...)
	if p, ok := c.operands[string(c.buf)]; ok {
		return p
	}
	p := new(operand)
	*p = arg
	c.operands[string(c.buf)] = p
	return p
}

// rollout interns a rollout: flags that bucket by the same attribute (at the same
// local slot) with the same ranges share it. ro is the scratch rollout: a new one is
// copied.
func (c *compiler) rollout(ro *rollout) *rollout {
	c.buf = c.buf[:0]
	c.appendKey(ro.by.name)
	c.buf = binary.AppendVarint(c.buf, int64(ro.by.idx[single]))
	c.buf = binary.AppendVarint(c.buf, int64(ro.by.idx[bulk]))
	for i, b := range ro.bounds {
		c.buf = binary.AppendUvarint(c.buf, uint64(b))
		c.buf = binary.AppendUvarint(c.buf, uint64(ro.variants[i]))
	}
	if p, ok := c.rollouts[string(c.buf)]; ok {
		return p
	}
	p := &rollout{by: ro.by, bounds: slices.Clone(ro.bounds), variants: slices.Clone(ro.variants)}
	c.rollouts[string(c.buf)] = p
	return p
}

// variantList interns a flag's variants when their values are scalars (a boolean
// flag's on/off, the colours of a string flag); others get their own.
func (c *compiler) variantList(vs []domain.Variant) []variant {
	c.buf = c.buf[:0]
	scalar := true
	for _, v := range vs {
		c.appendKey(v.Key)
		switch x := v.Value.(type) {
		case nil:
			c.buf = append(c.buf, 'n')
		case bool:
			c.buf = append(c.buf, 'b')
			if x {
				c.buf = append(c.buf, 1)
			} else {
				c.buf = append(c.buf, 0)
			}
		case string:
			c.buf = append(c.buf, 's')
			c.appendKey(x)
		case float64:
			c.buf = append(c.buf, 'f')
			c.buf = binary.LittleEndian.AppendUint64(c.buf, math.Float64bits(x))
		default:
			scalar = false
		}
		if !scalar {
			break
		}
	}
	if scalar {
		if t, ok := c.variantL[string(c.buf)]; ok {
			return t
		}
	}
	// Most flags share their variants: the block grows as lists are not shared.
	if len(vs) > cap(c.variants)-len(c.variants) {
		c.variants = make([]variant, 0, max(len(vs), 64))
	}
	start := len(c.variants)
	for _, v := range vs {
		value := v.Value
		if s, ok := value.(string); ok {
			value = c.str(s)
		}
		c.variants = append(c.variants, variant{key: c.str(v.Key), value: value})
	}
	t := c.variants[start:len(c.variants):len(c.variants)]
	if scalar {
		c.variantL[string(c.buf)] = t
	}
	return t
}

// compileFlag compiles fc, whose key and bucketing salt (domain.Flag.BucketSalt) are
// given as copies the snapshot keeps.
func (c *compiler) compileFlag(fc *domain.FlagConfig, key, salt string) (flag, error) {
	fl, cfg := &fc.Flag, &fc.Config
	f := flag{key: key, salt: salt, off: fl.Killed || !cfg.Enabled, offIdx: -1}
	if len(fl.Variants) > 0 {
		f.variants = c.variantList(fl.Variants)
	}
	for i, v := range f.variants {
		if v.key == cfg.OffVariant {
			f.offIdx = i
			break
		}
	}
	var errs []error
	if f.offIdx < 0 {
		errs = append(errs, fmt.Errorf("off variant %q is not defined", cfg.OffVariant))
	}
	clear(c.local)
	var err error
	if f.def, err = f.compileServe(c, cfg.Default); err != nil {
		errs = append(errs, fmt.Errorf("default: %w", err))
	}
	c.rules = reserve(c.rules, len(cfg.Rules))
	start := len(c.rules)
	for i, r := range cfg.Rules {
		cr := rule{id: c.str(r.ID)}
		c.conds = reserve(c.conds, len(r.Conditions))
		first := len(c.conds)
		for j, cond := range r.Conditions {
			cc, err := compileCondition(c, cond)
			if err != nil {
				errs = append(errs, fmt.Errorf("rules[%d].conditions[%d]: %w", i, j, err))
			}
			c.conds = append(c.conds, cc)
		}
		cr.conds = c.conds[first:len(c.conds):len(c.conds)]
		if cr.serve, err = f.compileServe(c, r.Serve); err != nil {
			errs = append(errs, fmt.Errorf("rules[%d].serve: %w", i, err))
		}
		c.rules = append(c.rules, cr)
	}
	if len(cfg.Rules) > 0 {
		f.rules = c.rules[start:len(c.rules):len(c.rules)]
	}
	f.nlocal = len(c.local)
	return f, errors.Join(errs...)
}

// reserve returns arena with room for n more elements: a new block when it has not,
// since the flags compiled before keep slices of the old one.
func reserve[T any](arena []T, n int) []T {
	if n <= cap(arena)-len(arena) {
		return arena
	}
	return make([]T, 0, max(n, arenaBlock))
}

// arenaBlock is the size of an arena's next block when the sizes given ran out.
const arenaBlock = 1024

func (f *flag) variantIndex(key string) int {
	for i, v := range f.variants {
		if v.key == key {
			return i
		}
	}
	return -1
}

func (f *flag) compileServe(c *compiler, s domain.Serve) (serve, error) {
	if s.Rollout == nil {
		i := f.variantIndex(s.Variant)
		if i < 0 {
			return serve{variant: -1}, fmt.Errorf("variant %q is not defined", s.Variant)
		}
		return serve{variant: i}, nil
	}
	by := s.Rollout.BucketBy
	if by == "" {
		by = "key"
	}
	// Built in the compiler's scratch rollout, and copied only when it is new.
	ro := &c.ro
	*ro = rollout{by: c.attrRef(by), bounds: ro.bounds[:0], variants: ro.variants[:0]}
	var total int64
	for k := range s.Rollout.Weights {
		if f.variantIndex(k) < 0 {
			return serve{variant: -1}, fmt.Errorf("rollout weight for undefined variant %q", k)
		}
	}
	// Ranges follow the flag's variant order, so the bucket layout is independent of
	// how the weights were written.
	for i, v := range f.variants {
		w, ok := s.Rollout.Weights[v.key]
		if !ok {
			continue
		}
		units, exact := domain.WeightUnits(w)
		if !exact || units < 0 {
			return serve{variant: -1}, fmt.Errorf("weight %v for %q is not a percentage with three decimals", w, v.key)
		}
		if units == 0 {
			continue
		}
		total += units
		ro.bounds = append(ro.bounds, uint32(min(total, domain.WeightScale)))
		ro.variants = append(ro.variants, i)
	}
	if total != domain.WeightScale {
		return serve{variant: -1}, fmt.Errorf("weights sum to %.3f, not 100", float64(total)/1000)
	}
	return serve{variant: -1, rollout: c.rollout(ro)}, nil
}
