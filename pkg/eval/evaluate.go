package eval

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
