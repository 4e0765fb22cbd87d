package eval

import (
	"github.com/switchyard/switchyard/pkg/domain"
)

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
