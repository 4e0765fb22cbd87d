package eval

// The walk behind Explain: the engine's own steps (gate, prerequisites, rules, serve),
// each noting what it saw in the trace.

import (
	"fmt"

	"github.com/switchyard/switchyard/pkg/domain"
)

// walk is one explaining call: the context, a cache over every attribute with a budget
// of its own for what the trace adds, and the room left for traces.
type walk struct {
	x    *Explainer
	ctx  *Context
	side attrCache
	room int
}

func (x *Explainer) newWalk(ctx *Context) *walk {
	vals := make([]value, x.snap.nattrs+1)
	return &walk{x: x, ctx: ctx, room: MaxTraceBytes,
		side: attrCache{seed: x.snap.seed, mode: bulk, vals: vals[:x.snap.nattrs], scratch: vals[x.snap.nattrs:], left: budget(x.snap.budget)}}
}

// single is Snapshot.single, tracing the flag it is asked for (not its prerequisites,
// which it evaluates with Snapshot.single itself).
func (w *walk) single(i int, m *memo, cache *[localCache]value, left *budget) (Result, Trace) {
	s, ctx := w.x.snap, w.ctx
	f := &s.flags[i]
	var tr Trace
	if r, done := f.gate(left); done {
		tr.Why = w.gateWhy(i, &r)
		return r, tr
	}
	for j := range f.prereqs {
		p := &f.prereqs[j]
		if !left.spend(costPrerequisite) {
			return w.outOfBudget(f, &tr)
		}
		if p.flag < 0 {
			return w.unknownPrerequisite(i, j, &tr)
		}
		v, ok := m.get(p.flag)
		var pr Result
		if !ok {
			pr = s.single(p.flag, ctx, m, cache, left)
			v = served(&pr)
			m.put(p.flag, v, len(s.flags))
		} else {
			// Evaluated already, as another prerequisite's: its reason again, on the
			// trace's budget.
			pr = w.sideResult(p.flag)
		}
		if left.spent() {
			return w.outOfBudget(f, &tr)
		}
		if met := p.accepts(v); !w.prerequisite(&tr, p, &pr, met) {
			return f.result(f.offIdx, ReasonPrerequisiteFailed, ""), tr
		}
	}
	var scratch [1]value
	ac := attrCache{seed: s.seed, mode: single, vals: localVals(cache[:], f.nlocal), scratch: scratch[:], left: *left}
	r := w.body(i, &ac, &tr)
	*left = ac.left
	return r, tr
}

// sideResult evaluates flag i alone on the trace's budget.
func (w *walk) sideResult(i int) Result {
	var cache [localCache]value
	var m memo
	left := w.side.left
	r := w.x.snap.single(i, w.ctx, &m, &cache, &left)
	w.side.left = left
	return r
}

// bulk is flag.bulk, tracing.
func (w *walk) bulk(i int, ac *attrCache, results []Result) (Result, Trace) {
	f := &w.x.snap.flags[i]
	var tr Trace
	if r, done := f.gate(&ac.left); done {
		tr.Why = w.gateWhy(i, &r)
		return r, tr
	}
	for j := range f.prereqs {
		p := &f.prereqs[j]
		if !ac.spend(costPrerequisite) {
			return w.outOfBudget(f, &tr)
		}
		if p.flag < 0 {
			return w.unknownPrerequisite(i, j, &tr)
		}
		if !w.prerequisite(&tr, p, &results[p.flag], p.met(&results[p.flag])) {
			return f.result(f.offIdx, ReasonPrerequisiteFailed, ""), tr
		}
	}
	r := w.body(i, ac, &tr)
	return r, tr
}

func (w *walk) outOfBudget(f *flag, tr *Trace) (Result, Trace) {
	tr.Why = MessageBudget
	return f.failed(MessageBudget), *tr
}

// unknownPrerequisite answers for flag i whose prerequisite j does not exist.
func (w *walk) unknownPrerequisite(i, j int, tr *Trace) (Result, Trace) {
	f := &w.x.snap.flags[i]
	p := w.x.src[i].Config.Prerequisites[j]
	if w.fits(tr, 40+len(p.Flag)+len(p.Variant)) {
		tr.Prerequisites = append(tr.Prerequisites, PrerequisiteTrace{Flag: p.Flag, Variant: p.Variant})
	}
	what := "does not exist"
	if w.x.archived[p.Flag] {
		what = "is archived"
	}
	tr.Why = fmt.Sprintf("prerequisite %s %s", quote(p.Flag), what)
	return f.result(f.offIdx, ReasonPrerequisiteFailed, ""), *tr
}

// prerequisite records a prerequisite whose flag answered r, and reports met.
func (w *walk) prerequisite(tr *Trace, p *prereq, r *Result, met bool) bool {
	key := w.x.snap.flags[p.flag].key
	v := served(r)
	if w.fits(tr, 60+len(key)+len(p.variant)+len(v)) {
		tr.Prerequisites = append(tr.Prerequisites, PrerequisiteTrace{Flag: key, Variant: p.variant, Served: v, Reason: r.Reason, Met: met})
	}
	if !met {
		if v == "" {
			tr.Why = fmt.Sprintf("prerequisite %s served no variant (%s), not %s", quote(key), r.Reason, quote(p.variant))
		} else {
			tr.Why = fmt.Sprintf("prerequisite %s served %s, not %s", quote(key), quote(v), quote(p.variant))
		}
	}
	return met
}

// fits takes n bytes of the call's room for traces, reporting false (and marking tr
// truncated) when they are not there.
func (w *walk) fits(tr *Trace, n int) bool {
	if w.room < n {
		w.room = 0
		tr.Truncated = true
		return false
	}
	w.room -= n
	return true
}

// gateWhy says why flag i's gate answered r.
func (w *walk) gateWhy(i int, r *Result) string {
	f := &w.x.snap.flags[i]
	switch {
	case r.ErrorMessage == MessageBudget:
		return MessageBudget
	case r.ErrorMessage == MessageBroken:
		return "the configuration cannot be evaluated: " + f.broken
	case w.x.src[i].Flag.Killed:
		return "the kill switch is on: the flag is off in every environment"
	}
	return "the flag is disabled in this environment"
}

// body is flag.body, tracing each rule it looks at.
func (w *walk) body(i int, ac *attrCache, tr *Trace) Result {
	f := &w.x.snap.flags[i]
	src := &w.x.src[i].Config
	for k := range f.rules {
		r := &f.rules[k]
		matched := w.rule(r, &src.Rules[k], ac, tr)
		if ac.left.spent() {
			tr.Why = MessageBudget
			return f.failed(MessageBudget)
		}
		if matched {
			res := f.serve(w.ctx, ac, &r.serve, ReasonTargetingMatch, r.id)
			w.served(f, &r.serve, &res, tr, fmt.Sprintf("rule %s matched", quote(r.id)))
			return res
		}
	}
	lead := "no rule matched"
	if len(f.rules) == 0 {
		lead = "there are no rules"
	}
	reason := ReasonDefault
	if f.def.rollout != nil {
		reason = ReasonSplit
	}
	res := f.serve(w.ctx, ac, &f.def, reason, "")
	w.served(f, &f.def, &res, tr, lead)
	return res
}

// rule is rule.matches, tracing every condition: those the evaluation tests, on its
// budget, and the ones after its first failure, which it does not, on the trace's.
func (w *walk) rule(r *rule, src *domain.Rule, ac *attrCache, tr *Trace) bool {
	rt := RuleTrace{RuleID: r.id, Conditions: []ConditionTrace{}}
	keep := w.fits(tr, 40+len(r.id))
	matched := true
	for j := range r.conds {
		c := &r.conds[j]
		var held, spent bool
		if matched {
			held = c.match(w.ctx, ac)
			spent = ac.left.spent()
			matched = held
		} else {
			held = c.match(w.ctx, &w.side)
			spent = w.side.left.spent()
		}
		if !keep {
			continue
		}
		ct := w.condition(c, &src.Conditions[j], held, spent)
		if keep = w.fits(tr, ct.size()); keep {
			rt.Conditions = append(rt.Conditions, ct)
		}
	}
	rt.Matched = matched && !ac.left.spent()
	if keep {
		tr.Rules = append(tr.Rules, rt)
	}
	return matched
}

// served records how s served res, and why.
func (w *walk) served(f *flag, s *serve, res *Result, tr *Trace, lead string) {
	switch {
	case res.ErrorMessage == MessageBudget:
		tr.Why = MessageBudget
		return
	case s.rollout == nil:
		tr.Why = fmt.Sprintf("%s: serving %s", lead, quote(res.Variant))
		return
	}
	by := s.rollout.by.name
	rt := &RolloutTrace{BucketBy: by}
	if b, ok := f.bucket(w.side.get(w.ctx, &s.rollout.by)); ok {
		rt.Bucket = &b
	}
	switch {
	case res.ErrorCode == ErrTargetingKeyMissing:
		tr.Why = fmt.Sprintf("%s, but its rollout buckets by %s, which the context lacks: serving the off variant", lead, quote(by))
	case rt.Bucket == nil: // unreachable: the evaluation found the bucket
		rt.Variant = res.Variant
		tr.Why = fmt.Sprintf("%s: the rollout serves %s", lead, quote(res.Variant))
	default:
		rt.Variant = res.Variant
		tr.Why = fmt.Sprintf("%s: the rollout puts bucket %d (by %s) in %s", lead, *rt.Bucket, by, quote(res.Variant))
	}
	if w.fits(tr, 60+len(by)+len(rt.Variant)) {
		tr.Rollout = rt
	}
}

// condition describes condition c, which held or not (spent: the budget ran out while
// it was tested), as src states it.
func (w *walk) condition(c *condition, src *domain.Condition, held, spent bool) ConditionTrace {
	ct := ConditionTrace{Attribute: src.Attribute, Operator: src.Operator, Held: held, Values: []any{}}
	for k, v := range src.Values {
		if k == maxShownValues {
			ct.MoreValues = len(src.Values) - k
			break
		}
		ct.Values = append(ct.Values, shown(v))
	}
	v := w.side.get(w.ctx, &c.attr)
	if v.flags&present != 0 {
		ct.Actual = shown(actual(v))
	}
	switch {
	case spent:
		ct.Why = MessageBudget
	case w.side.left.spent():
		ct.Why = "not explained: the explanation ran out of budget"
	default:
		_, ct.Why = w.why(c, src, v)
	}
	return ct
}
