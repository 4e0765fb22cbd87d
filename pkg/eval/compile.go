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
// one backing array each. A snapshot of ten thousand flags is then a few allocations
// and the flags' own structures, rather than tens of small objects per flag.
func Compile(s domain.Snapshot) *Snapshot {
	snap := &Snapshot{
		ProjectKey:     strings.Clone(s.ProjectKey),
		EnvironmentID:  strings.Clone(s.EnvironmentID),
		EnvironmentKey: strings.Clone(s.EnvironmentKey),
		Version:        s.Version,
		seed:           maphash.MakeSeed(),
		budget:         DefaultBudget,
	}
	// Flags are visited through their indexes, sorted by key: a FlagConfig is too large
	// to move around. The sort is stable, so that of a key listed twice the first is
	// used.
	order := make([]int32, 0, len(s.Flags))
	var nconds, nrules, nprereqs, nkeys int
	for i := range s.Flags {
		fc := &s.Flags[i]
		if fc.Flag.Archived {
			continue
		}
		order = append(order, int32(i))
		for _, r := range fc.Config.Rules {
			nconds += len(r.Conditions)
		}
		nrules += len(fc.Config.Rules)
		nprereqs += len(fc.Config.Prerequisites)
		nkeys += len(fc.Flag.Key)
		if fc.Flag.Salt != fc.Flag.Key {
			nkeys += len(fc.Flag.Salt) // BucketSalt: the key when empty
		}
	}
	// One block holds every key and salt, so that the snapshot keeps none of the
	// decoded input's strings alive.
	var b strings.Builder
	b.Grow(nkeys)
	bounds := make([]int32, 3*len(s.Flags)) // start, end of the key, end of the salt
	for _, i := range order {
		fl := &s.Flags[i].Flag
		bounds[3*i] = int32(b.Len())
		b.WriteString(fl.Key)
		bounds[3*i+1] = int32(b.Len())
		if fl.Salt != "" && fl.Salt != fl.Key {
			b.WriteString(fl.Salt)
		}
		bounds[3*i+2] = int32(b.Len())
	}
	keys := b.String()
	keyOf := func(i int32) (key, salt string) {
		key = keys[bounds[3*i]:bounds[3*i+1]]
		if salt = keys[bounds[3*i+1]:bounds[3*i+2]]; salt == "" {
			salt = key
		}
		return key, salt
	}
	byKey := func(a, b int32) int { return strings.Compare(s.Flags[a].Flag.Key, s.Flags[b].Flag.Key) }
	if !slices.IsSortedFunc(order, byKey) {
		slices.SortStableFunc(order, byKey)
	}
	c := newCompiler(snap.seed, nconds, nrules, nprereqs)
	snap.index = make(map[string]int, len(order))
	snap.flags = make([]flag, 0, len(order))
	kept := order[:0]
	for _, i := range order {
		fc := &s.Flags[i]
		if _, dup := snap.index[fc.Flag.Key]; dup {
			snap.problems = append(snap.problems, fmt.Errorf("flag %q: listed twice; the first is used", fc.Flag.Key))
			continue
		}
		key, salt := keyOf(i)
		f, err := c.compileFlag(fc, key, salt)
		if err != nil {
			f.broken = err.Error()
			snap.problems = append(snap.problems, fmt.Errorf("flag %q: %w", fc.Flag.Key, err))
		}
		snap.index[f.key] = len(snap.flags)
		snap.flags = append(snap.flags, f)
		kept = append(kept, i)
	}
	for j, i := range kept {
		f := &snap.flags[j]
		pre := s.Flags[i].Config.Prerequisites
		if len(pre) == 0 {
			continue
		}
		start := len(c.prereqs)
		for _, p := range pre {
			idx, ok := snap.index[p.Flag]
			if !ok {
				idx = -1
			}
			c.prereqs = append(c.prereqs, prereq{flag: idx, variant: c.str(p.Variant)})
		}
		f.prereqs = c.prereqs[start:len(c.prereqs):len(c.prereqs)]
	}
	snap.nattrs = len(c.slots)
	snap.link()
	return snap
}

// compiler holds what compiling one snapshot shares between its flags: the attribute
// interner, the arenas the flags' slices are cut from (sized beforehand, but for the
// variants, which flags mostly share), and the interned values.
type compiler struct {
	*interner
	seed     maphash.Seed
	rules    []rule
	variants []variant
	prereqs  []prereq
	strs     map[string]string
	lists    map[string][]string
	sets     map[string]textSet
	operands map[string]*operand
	rollouts map[string]*rollout
	variantL map[string][]variant
	scratch  []string
	ro       rollout
	buf      []byte
}

func newCompiler(seed maphash.Seed, nconds, nrules, nprereqs int) *compiler {
	in := &interner{global: map[string]*attr{}, slots: map[string]int{}, local: map[string]int{}, regexes: map[string]*regexp.Regexp{}}
	in.conds = make([]condition, 0, nconds)
	return &compiler{interner: in, seed: seed,
		rules: make([]rule, 0, nrules), prereqs: make([]prereq, 0, nprereqs),
		strs: map[string]string{}, lists: map[string][]string{}, sets: map[string]textSet{},
		operands: map[string]*operand{}, rollouts: map[string]*rollout{}, variantL: map[string][]variant{}}
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
	start := len(c.rules)
	for i, r := range cfg.Rules {
		cr := rule{id: c.str(r.ID)}
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
	*ro = rollout{by: c.attr(c.str(by)), bounds: ro.bounds[:0], variants: ro.variants[:0]}
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
