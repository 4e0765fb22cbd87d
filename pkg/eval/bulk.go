package eval

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
	need := s.needed(keys)
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

// needed marks the flags an evaluation of keys needs: those named, and the
// prerequisites they reach. A flag that is off answers DISABLED without looking at its
// prerequisites, so the walk stops there. Unknown keys mark nothing.
func (s *Snapshot) needed(keys []string) []bool {
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
				continue
			}
			for _, p := range f.prereqs {
				if p.flag >= 0 && !need[p.flag] {
					need[p.flag] = true
					stack = append(stack, p.flag)
				}
			}
		}
	}
	return need
}
