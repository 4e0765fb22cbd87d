package eval

import (
	"errors"
	"fmt"
	"hash/maphash"
	"regexp"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
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

// Compile compiles an environment snapshot. It never fails: a flag whose configuration
// cannot be compiled (which validation prevents) answers ERROR with error code GENERAL,
// and Problems says why.
func Compile(s domain.Snapshot) *Snapshot {
	snap := &Snapshot{
		ProjectKey:     s.ProjectKey,
		EnvironmentID:  s.EnvironmentID,
		EnvironmentKey: s.EnvironmentKey,
		Version:        s.Version,
		index:          make(map[string]int, len(s.Flags)),
		seed:           maphash.MakeSeed(),
		budget:         DefaultBudget,
	}
	in := &interner{global: map[string]*attr{}, slots: map[string]int{}, regexes: map[string]*regexp.Regexp{}}
	fcs := make([]domain.FlagConfig, 0, len(s.Flags))
	for _, fc := range s.Flags {
		if !fc.Flag.Archived {
			fcs = append(fcs, fc)
		}
	}
	slices.SortStableFunc(fcs, func(a, b domain.FlagConfig) int { return strings.Compare(a.Flag.Key, b.Flag.Key) })
	// All conditions of the snapshot share one backing array, in evaluation order, so
	// that bulk evaluation reads memory sequentially.
	nconds := 0
	for _, fc := range fcs {
		for _, r := range fc.Config.Rules {
			nconds += len(r.Conditions)
		}
	}
	in.conds = make([]condition, 0, nconds)
	kept := fcs[:0]
	for _, fc := range fcs {
		if _, dup := snap.index[fc.Flag.Key]; dup {
			snap.problems = append(snap.problems, fmt.Errorf("flag %q: listed twice; the first is used", fc.Flag.Key))
			continue
		}
		in.local = map[string]int{}
		f, err := compileFlag(in, snap.seed, fc)
		if err != nil {
			f.broken = err.Error()
			snap.problems = append(snap.problems, fmt.Errorf("flag %q: %w", fc.Flag.Key, err))
		}
		snap.index[f.key] = len(snap.flags)
		snap.flags = append(snap.flags, f)
		kept = append(kept, fc)
	}
	for i, fc := range kept {
		f := &snap.flags[i]
		for _, p := range fc.Config.Prerequisites {
			idx, ok := snap.index[p.Flag]
			if !ok {
				idx = -1
			}
			f.prereqs = append(f.prereqs, prereq{flag: idx, variant: p.Variant})
		}
	}
	snap.nattrs = len(in.slots)
	snap.link()
	return snap
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

func compileFlag(in *interner, seed maphash.Seed, fc domain.FlagConfig) (flag, error) {
	fl, cfg := fc.Flag, fc.Config
	f := flag{
		key:    fl.Key,
		salt:   fl.BucketSalt(),
		off:    fl.Killed || !cfg.Enabled,
		offIdx: -1,
	}
	for i, v := range fl.Variants {
		f.variants = append(f.variants, variant{key: v.Key, value: v.Value})
		if v.Key == cfg.OffVariant {
			f.offIdx = i
		}
	}
	var errs []error
	if f.offIdx < 0 {
		errs = append(errs, fmt.Errorf("off variant %q is not defined", cfg.OffVariant))
	}
	var err error
	if f.def, err = f.compileServe(in, cfg.Default); err != nil {
		errs = append(errs, fmt.Errorf("default: %w", err))
	}
	for i, r := range cfg.Rules {
		cr := rule{id: r.ID}
		start := len(in.conds)
		for j, c := range r.Conditions {
			cc, err := compileCondition(in, seed, c)
			if err != nil {
				errs = append(errs, fmt.Errorf("rules[%d].conditions[%d]: %w", i, j, err))
			}
			in.conds = append(in.conds, cc)
		}
		cr.conds = in.conds[start:len(in.conds):len(in.conds)]
		if cr.serve, err = f.compileServe(in, r.Serve); err != nil {
			errs = append(errs, fmt.Errorf("rules[%d].serve: %w", i, err))
		}
		f.rules = append(f.rules, cr)
	}
	f.nlocal = len(in.local)
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

func (f *flag) compileServe(in *interner, s domain.Serve) (serve, error) {
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
	ro := &rollout{by: in.attr(by)}
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
	return serve{variant: -1, rollout: ro}, nil
}

// localCache is the number of attributes a single evaluation caches on the stack; a
// flag testing more of them looks the rest up each time.
const localCache = 16

// Evaluate evaluates one flag for ctx, and the prerequisites it needs, each once. It
// does not allocate unless the flag has more than localMemo transitive prerequisites.
func (s *Snapshot) Evaluate(key string, ctx *Context) Result {
	i, ok := s.index[key]
	if !ok {
		return Result{Key: key, Reason: ReasonError, ErrorCode: ErrFlagNotFound}
	}
	var cache [localCache]value
	left := budget(s.budget)
	if len(s.flags[i].prereqs) == 0 {
		return s.single(i, ctx, nil, &cache, &left) // without clearing a memo it will not use
	}
	var m memo
	return s.single(i, ctx, &m, &cache, &left)
}

// single evaluates flag i, evaluating its prerequisites on demand and remembering their
// results in m. It recurses at most MaxPrerequisiteDepth deep: link breaks deeper flags.
//
// Each call builds its own attrCache over the caller's cache: storing cache into an
// attrCache it was passed would move cache to the heap.
func (s *Snapshot) single(i int, ctx *Context, m *memo, cache *[localCache]value, left *budget) Result {
	f := &s.flags[i]
	if r, done := f.gate(left); done {
		return r
	}
	for j := range f.prereqs {
		p := &f.prereqs[j]
		if !left.spend(costPrerequisite) {
			return f.failed(MessageBudget)
		}
		if p.flag < 0 {
			return f.result(f.offIdx, ReasonPrerequisiteFailed, "")
		}
		v, ok := m.get(p.flag)
		if !ok {
			r := s.single(p.flag, ctx, m, cache, left)
			v = served(&r)
			m.put(p.flag, v, len(s.flags))
		}
		if left.spent() {
			return f.failed(MessageBudget)
		}
		if !p.accepts(v) {
			return f.result(f.offIdx, ReasonPrerequisiteFailed, "")
		}
	}
	// The prerequisites are done with cache: this flag's attributes can reuse it.
	var scratch [1]value
	ac := attrCache{seed: s.seed, mode: single, vals: localVals(cache[:], f.nlocal), scratch: scratch[:], left: *left}
	r := f.body(ctx, &ac)
	*left = ac.left
	return r
}

// localMemo is the number of prerequisite results a single evaluation keeps on the
// stack before it allocates.
const localMemo = 16

// memo holds what the prerequisites of a single evaluation served (see served), by
// flag index: up to localMemo in place, then in a table over every flag of the
// snapshot, allocated once (a flag may reach thousands of prerequisites).
type memo struct {
	n    int
	idx  [localMemo]int
	vars [localMemo]string
	// at holds where each flag's variant is in more, plus one.
	at   []int32
	more []string
}

func (m *memo) get(i int) (string, bool) {
	if m.at != nil {
		if k := m.at[i]; k > 0 {
			return m.more[k-1], true
		}
		return "", false
	}
	for k := range m.n {
		if m.idx[k] == i {
			return m.vars[k], true
		}
	}
	return "", false
}

// put remembers what flag i served; flags is the number of flags of the snapshot.
func (m *memo) put(i int, variant string, flags int) {
	if m.at == nil && m.n < localMemo {
		m.idx[m.n], m.vars[m.n] = i, variant
		m.n++
		return
	}
	if m.at == nil {
		m.at = make([]int32, flags)
		m.more = make([]string, 0, 4*localMemo)
		for k := range m.n {
			m.more = append(m.more, m.vars[k])
			m.at[m.idx[k]] = int32(len(m.more))
		}
	}
	m.more = append(m.more, variant)
	m.at[i] = int32(len(m.more))
}

// bulkCache returns a cache with a slot for every attribute of the snapshot.
func (s *Snapshot) bulkCache() attrCache {
	vals := make([]value, s.nattrs+1)
	return attrCache{seed: s.seed, mode: bulk, vals: vals[:s.nattrs], scratch: vals[s.nattrs:], left: budget(s.budget)}
}

// EvaluateAll evaluates every flag for ctx, each prerequisite once, in the order of
// Keys.
func (s *Snapshot) EvaluateAll(ctx *Context) []Result {
	out := make([]Result, len(s.flags))
	ac := s.bulkCache()
	for _, i := range s.order {
		out[i] = s.flags[i].bulk(ctx, &ac, out)
	}
	return out
}

// EvaluateKeys evaluates the named flags for ctx, in the order given; unknown keys
// answer FLAG_NOT_FOUND. Each prerequisite is evaluated once.
func (s *Snapshot) EvaluateKeys(ctx *Context, keys []string) []Result {
	need := make([]bool, len(s.flags))
	var stack []int
	for _, k := range keys {
		i, ok := s.index[k]
		if !ok || need[i] {
			continue
		}
		need[i] = true
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			f := &s.flags[stack[len(stack)-1]]
			stack = stack[:len(stack)-1]
			if f.off {
				continue // answers DISABLED without looking at its prerequisites
			}
			for _, p := range f.prereqs {
				if p.flag >= 0 && !need[p.flag] {
					need[p.flag] = true
					stack = append(stack, p.flag)
				}
			}
		}
	}
	all := make([]Result, len(s.flags))
	ac := s.bulkCache()
	for _, i := range s.order {
		if need[i] {
			all[i] = s.flags[i].bulk(ctx, &ac, all)
		}
	}
	out := make([]Result, len(keys))
	for j, k := range keys {
		if i, ok := s.index[k]; ok {
			out[j] = all[i]
		} else {
			out[j] = Result{Key: k, Reason: ReasonError, ErrorCode: ErrFlagNotFound}
		}
	}
	return out
}

// bulk evaluates f given the results of every flag before it in the snapshot's order.
func (f *flag) bulk(ctx *Context, ac *attrCache, results []Result) Result {
	if r, done := f.gate(&ac.left); done {
		return r
	}
	for j := range f.prereqs {
		p := &f.prereqs[j]
		if !ac.spend(costPrerequisite) {
			return f.failed(MessageBudget)
		}
		if p.flag < 0 || !p.met(&results[p.flag]) {
			return f.result(f.offIdx, ReasonPrerequisiteFailed, "")
		}
	}
	return f.body(ctx, ac)
}

// gate answers for a flag that is broken or off, or whose evaluation the budget does
// not cover; done is false when the flag's prerequisites and rules decide.
func (f *flag) gate(left *budget) (r Result, done bool) {
	switch {
	case !left.spend(costFlag):
		return f.failed(MessageBudget), true
	case f.broken != "":
		return f.failed(MessageBroken), true
	case f.off:
		return f.result(f.offIdx, ReasonDisabled, ""), true
	}
	return Result{}, false
}

// served returns the variant a result serves to the flags that require it: none ("")
// when the flag is off, failed its own prerequisites, or could not be evaluated.
func served(r *Result) string {
	if r.Reason == ReasonDisabled || r.Reason == ReasonError || r.Reason == ReasonPrerequisiteFailed {
		return ""
	}
	return r.Variant
}

// accepts reports whether a prerequisite flag that served v satisfies p.
func (p *prereq) accepts(v string) bool { return v != "" && v == p.variant }

// met reports whether a prerequisite's result satisfies it.
func (p *prereq) met(r *Result) bool { return p.accepts(served(r)) }

// body evaluates f's rules and default, once its prerequisites hold.
func (f *flag) body(ctx *Context, ac *attrCache) Result {
	for i := range f.rules {
		r := &f.rules[i]
		matched := r.matches(ctx, ac)
		if ac.left.spent() {
			return f.failed(MessageBudget)
		}
		if matched {
			return f.serve(ctx, ac, &r.serve, ReasonTargetingMatch, r.id)
		}
	}
	if f.def.rollout != nil {
		return f.serve(ctx, ac, &f.def, ReasonSplit, "")
	}
	return f.serve(ctx, ac, &f.def, ReasonDefault, "")
}

func (f *flag) failed(message string) Result {
	return Result{Key: f.key, Reason: ReasonError, ErrorCode: ErrGeneral, ErrorMessage: message}
}

func (r *rule) matches(ctx *Context, ac *attrCache) bool {
	for i := range r.conds {
		if !r.conds[i].match(ctx, ac) {
			return false
		}
	}
	return true
}

func (f *flag) serve(ctx *Context, ac *attrCache, s *serve, reason Reason, ruleID string) Result {
	if s.rollout == nil {
		return f.result(s.variant, reason, ruleID)
	}
	v := ac.get(ctx, &s.rollout.by)
	if !ac.spend(costRollout + int64(len(v.s))/8) {
		return f.failed(MessageBudget)
	}
	b, ok := f.bucket(v)
	if !ok {
		res := f.result(f.offIdx, ReasonError, ruleID)
		res.ErrorCode = ErrTargetingKeyMissing
		return res
	}
	for i, bound := range s.rollout.bounds {
		if b < bound {
			return f.result(s.rollout.variants[i], reason, ruleID)
		}
	}
	// Unreachable: the bounds end at Buckets.
	return f.result(s.rollout.variants[len(s.rollout.variants)-1], reason, ruleID)
}

// bucket finds the context's bucket from the rollout's bucketing attribute, reporting
// false when the context has no usable value for it.
func (f *flag) bucket(v *value) (uint32, bool) {
	switch {
	case v.flags&present == 0:
		return 0, false
	case v.flags&isString != 0:
		if v.s == "" {
			return 0, false
		}
		return Bucket(f.salt, v.s), true
	}
	switch x := v.v.(type) {
	case bool:
		if x {
			return Bucket(f.salt, "true"), true
		}
		return Bucket(f.salt, "false"), true
	}
	if n, ok := domain.Number(v.v); ok {
		var buf [32]byte
		return bucketBytes(f.salt, appendNumber(buf[:0], n)), true
	}
	return 0, false
}

func (f *flag) result(variantIdx int, reason Reason, ruleID string) Result {
	r := Result{Key: f.key, Reason: reason, RuleID: ruleID}
	if variantIdx >= 0 {
		r.Variant = f.variants[variantIdx].key
		r.Value = f.variants[variantIdx].value
	}
	return r
}
