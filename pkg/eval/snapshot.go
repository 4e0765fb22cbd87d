package eval

import (
	"errors"
	"fmt"
	"hash/maphash"
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

	// For evaluating this flag alone: its transitive prerequisites, each after its own,
	// and where each direct prerequisite's result sits in that list.
	plan      []step
	prereqPos []int
	// For evaluating every flag: the index of each direct prerequisite.
	prereqIdx []int
}

type variant struct {
	key   string
	value any
}

type prereq struct {
	flag    int // -1 when the flag is unknown or archived
	variant string
}

type step struct {
	flag      int
	prereqPos []int
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
	}
	in := &interner{global: map[string]*attr{}, slots: map[string]int{}}
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
	snap.breakCycles()
	snap.plan()
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

// breakCycles marks every flag on a prerequisite cycle broken and drops the prerequisites
// of broken flags, leaving an acyclic graph. Validation rejects cycles; this keeps
// evaluation finite whatever the store holds.
func (s *Snapshot) breakCycles() {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(s.flags))
	var stack []int
	var visit func(i int)
	visit = func(i int) {
		color[i] = grey
		stack = append(stack, i)
		for _, p := range s.flags[i].prereqs {
			switch {
			case p.flag < 0:
			case color[p.flag] == white:
				visit(p.flag)
			case color[p.flag] == grey:
				start := slices.Index(stack, p.flag)
				for _, j := range stack[start:] {
					if s.flags[j].broken == "" {
						s.flags[j].broken = "prerequisite cycle"
						s.problems = append(s.problems, fmt.Errorf("flag %q: on a prerequisite cycle", s.flags[j].key))
					}
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
	}
	for i := range s.flags {
		if color[i] == white {
			visit(i)
		}
	}
	for i := range s.flags {
		if s.flags[i].broken != "" {
			s.flags[i].prereqs = nil
		}
	}
}

// plan computes the global evaluation order and each flag's own prerequisite plan.
func (s *Snapshot) plan() {
	done := make([]bool, len(s.flags))
	var post func(i int, seen []bool, out *[]int)
	post = func(i int, seen []bool, out *[]int) {
		if seen[i] {
			return
		}
		seen[i] = true
		for _, p := range s.flags[i].prereqs {
			if p.flag >= 0 {
				post(p.flag, seen, out)
			}
		}
		*out = append(*out, i)
	}
	for i := range s.flags {
		post(i, done, &s.order)
	}
	seen := make([]bool, len(s.flags))
	for i := range s.flags {
		f := &s.flags[i]
		f.prereqIdx = make([]int, len(f.prereqs))
		for j, p := range f.prereqs {
			f.prereqIdx[j] = p.flag
		}
		if len(f.prereqs) == 0 {
			continue
		}
		clear(seen)
		seen[i] = true
		var members []int
		for _, p := range f.prereqs {
			if p.flag >= 0 {
				post(p.flag, seen, &members)
			}
		}
		pos := make(map[int]int, len(members))
		for k, m := range members {
			pos[m] = k
		}
		positions := func(ps []prereq) []int {
			out := make([]int, len(ps))
			for j, p := range ps {
				out[j] = -1
				if p.flag >= 0 {
					out[j] = pos[p.flag]
				}
			}
			return out
		}
		for _, m := range members {
			f.plan = append(f.plan, step{flag: m, prereqPos: positions(s.flags[m].prereqs)})
		}
		f.prereqPos = positions(f.prereqs)
	}
}

// localCache is the number of attributes a single evaluation caches on the stack; a
// flag testing more of them looks the rest up each time.
const localCache = 16

// Evaluate evaluates one flag for ctx. It does not allocate unless the flag has more
// than 16 transitive prerequisites.
func (s *Snapshot) Evaluate(key string, ctx *Context) Result {
	i, ok := s.index[key]
	if !ok {
		return Result{Key: key, Reason: ReasonError, ErrorCode: ErrFlagNotFound}
	}
	f := &s.flags[i]
	var cache [localCache]value
	var scratch [1]value
	ac := attrCache{seed: s.seed, mode: single, scratch: scratch[:]}
	if len(f.plan) == 0 || f.off || f.broken != "" {
		ac.vals = localVals(cache[:], f.nlocal)
		return f.eval(ctx, &ac, nil, nil)
	}
	var buf [16]Result
	res := buf[:0]
	if len(f.plan) > len(buf) {
		res = make([]Result, 0, len(f.plan))
	}
	for _, st := range f.plan {
		pf := &s.flags[st.flag]
		ac.vals = localVals(cache[:], pf.nlocal)
		res = append(res, pf.eval(ctx, &ac, res, st.prereqPos))
	}
	ac.vals = localVals(cache[:], f.nlocal)
	return f.eval(ctx, &ac, res, f.prereqPos)
}

// bulkCache returns a cache with a slot for every attribute of the snapshot.
func (s *Snapshot) bulkCache() attrCache {
	vals := make([]value, s.nattrs+1)
	return attrCache{seed: s.seed, mode: bulk, vals: vals[:s.nattrs], scratch: vals[s.nattrs:]}
}

// EvaluateAll evaluates every flag for ctx, each prerequisite once, in the order of
// Keys.
func (s *Snapshot) EvaluateAll(ctx *Context) []Result {
	out := make([]Result, len(s.flags))
	ac := s.bulkCache()
	for _, i := range s.order {
		f := &s.flags[i]
		out[i] = f.eval(ctx, &ac, out, f.prereqIdx)
	}
	return out
}

// EvaluateKeys evaluates the named flags for ctx, in the order given; unknown keys
// answer FLAG_NOT_FOUND. Each prerequisite is evaluated once.
func (s *Snapshot) EvaluateKeys(ctx *Context, keys []string) []Result {
	need := make([]bool, len(s.flags))
	for _, k := range keys {
		if i, ok := s.index[k]; ok {
			need[i] = true
			for _, st := range s.flags[i].plan {
				need[st.flag] = true
			}
		}
	}
	all := make([]Result, len(s.flags))
	ac := s.bulkCache()
	for _, i := range s.order {
		if need[i] {
			f := &s.flags[i]
			all[i] = f.eval(ctx, &ac, all, f.prereqIdx)
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

// eval evaluates f given the results of its prerequisites: the result of prerequisite j
// is results[pos[j]].
func (f *flag) eval(ctx *Context, ac *attrCache, results []Result, pos []int) Result {
	if f.broken != "" {
		return Result{Key: f.key, Reason: ReasonError, ErrorCode: ErrGeneral}
	}
	if f.off {
		return f.result(f.offIdx, ReasonDisabled, "")
	}
	for j, p := range f.prereqs {
		if p.flag < 0 || pos[j] < 0 {
			return f.result(f.offIdx, ReasonPrerequisiteFailed, "")
		}
		r := &results[pos[j]]
		if r.Reason == ReasonDisabled || r.Reason == ReasonError || r.Reason == ReasonPrerequisiteFailed || r.Variant != p.variant {
			return f.result(f.offIdx, ReasonPrerequisiteFailed, "")
		}
	}
	for i := range f.rules {
		r := &f.rules[i]
		if r.matches(ctx, ac) {
			return f.serve(ctx, ac, &r.serve, ReasonTargetingMatch, r.id)
		}
	}
	if f.def.rollout != nil {
		return f.serve(ctx, ac, &f.def, ReasonSplit, "")
	}
	return f.serve(ctx, ac, &f.def, ReasonDefault, "")
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
	b, ok := f.bucket(ac.get(ctx, &s.rollout.by))
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
