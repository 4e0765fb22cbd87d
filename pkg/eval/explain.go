package eval

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Explaining walks a flag the way Evaluate, EvaluateAll and EvaluateKeys do, through the
// same gate, prerequisite, match and serve functions on the same budget, so that its
// results are theirs, and records on the side what it saw. It is a separate walk: the
// evaluation path carries no tracing and stays as fast and allocation-free as it was.
//
// What the trace adds costs work of its own (resolving attributes for display, testing
// the conditions the evaluation skipped after a rule's first failure, finding which
// value matched), charged to a second budget of the same size, so an explanation does
// at most twice the work of the evaluation it explains; and its size is bounded by
// MaxTraceBytes per call, past which traces are cut short (Trace.Truncated) while the
// results stay complete.

// MaxTraceBytes bounds the traces of one explaining call, estimated as encoded JSON;
// flags past it get a result and a Why, and Trace.Truncated.
const MaxTraceBytes = 1 << 20

// Bounds on what a trace shows of one value: the context's or a condition's.
const (
	maxShownValues = 20  // values of one condition; MoreValues counts the rest
	maxShownBytes  = 256 // of one string
	maxShownNodes  = 50  // elements and members of one list or object, at every depth
	maxQuoted      = 100 // bytes of a value quoted in a Why
)

// Trace says how an explained evaluation reached its result.
type Trace struct {
	// Why says in a sentence what decided the result.
	Why string `json:"why"`
	// Prerequisites lists the prerequisites looked at, in order, up to the first that
	// was not met.
	Prerequisites []PrerequisiteTrace `json:"prerequisites,omitempty"`
	// Rules lists the rules looked at, in order: up to the one that matched, or all of
	// them when none did. Every condition of each is shown, those the evaluation did
	// not need to test (after a rule's first failing one) included.
	Rules []RuleTrace `json:"trace"`
	// Rollout says how the rollout that served the result bucketed the context.
	Rollout *RolloutTrace `json:"rollout,omitempty"`
	// Truncated is set when the call's traces reached MaxTraceBytes before this one was
	// complete: Rules and Prerequisites may then be partial or empty.
	Truncated bool `json:"trace_truncated,omitempty"`
}

// RuleTrace is one rule as an explanation saw it.
type RuleTrace struct {
	RuleID     string           `json:"rule_id"`
	Matched    bool             `json:"matched"`
	Conditions []ConditionTrace `json:"conditions"`
}

// ConditionTrace is one condition as an explanation saw it.
type ConditionTrace struct {
	Attribute string          `json:"attribute"`
	Operator  domain.Operator `json:"operator"`
	// Values are the condition's values, the first maxShownValues of them; MoreValues
	// counts the others.
	Values     []any `json:"values"`
	MoreValues int   `json:"more_values,omitempty"`
	// Actual is the context's value of the attribute, shortened when long; nil when the
	// context lacks it (or holds null, which counts as absent).
	Actual any `json:"actual"`
	// Held says whether the condition held: what the evaluation found, or, for a
	// condition it did not need to test, what testing it finds.
	Held bool `json:"held"`
	// Why says why, in a few words: "email ends with \"@acme.com\"", "attribute absent".
	Why string `json:"why"`
}

// PrerequisiteTrace is one prerequisite as an explanation saw it.
type PrerequisiteTrace struct {
	Flag    string `json:"flag"`
	Variant string `json:"variant"` // the variant required
	// Served is what the prerequisite flag served to this context: "" when it served
	// none (off, failed, or unknown).
	Served string `json:"served"`
	// Reason is the prerequisite's own reason, "" when it does not exist.
	Reason Reason `json:"reason,omitempty"`
	Met    bool   `json:"met"`
}

// RolloutTrace says how a rollout bucketed the context.
type RolloutTrace struct {
	// BucketBy is the attribute the rollout buckets by ("key": the targeting key).
	BucketBy string `json:"bucket_by"`
	// Bucket is the context's bucket of Buckets, nil when it lacks the attribute.
	Bucket  *uint32 `json:"bucket"`
	Variant string  `json:"variant,omitempty"`
}

// Explainer explains evaluations of one environment: it holds the compiled snapshot,
// which evaluates exactly as Compile's does, and the configuration it was compiled from,
// which traces quote. It is immutable and safe for concurrent use.
type Explainer struct {
	snap *Snapshot
	// src holds each compiled flag's definition and configuration, by flag index.
	src []domain.FlagConfig
	// archived lists the archived flags, which the snapshot leaves out.
	archived map[string]bool
}

// NewExplainer compiles s as Compile does, keeping its configuration for the traces.
func NewExplainer(s domain.Snapshot) *Explainer {
	snap := Compile(s)
	x := &Explainer{snap: snap, src: make([]domain.FlagConfig, len(snap.flags)), archived: map[string]bool{}}
	fcs := slices.Clone(s.Flags)
	slices.SortStableFunc(fcs, func(a, b domain.FlagConfig) int { return strings.Compare(a.Flag.Key, b.Flag.Key) })
	seen := make([]bool, len(snap.flags))
	for _, fc := range fcs {
		if fc.Flag.Archived {
			x.archived[fc.Flag.Key] = true
			continue
		}
		// Compile keeps the first of a key listed twice, in the order given.
		if i, ok := snap.index[fc.Flag.Key]; ok && !seen[i] {
			x.src[i], seen[i] = fc, true
		}
	}
	return x
}

// Snapshot returns the compiled snapshot the explainer evaluates.
func (x *Explainer) Snapshot() *Snapshot { return x.snap }

// WithBudget returns a copy of x whose calls may each do units of evaluation work, as
// Snapshot.WithBudget (and as many again for the traces).
func (x *Explainer) WithBudget(units int64) *Explainer {
	c := *x
	c.snap = x.snap.WithBudget(units)
	return &c
}

// Explain evaluates one flag for ctx, as Evaluate does, and says how. The result is
// Evaluate's.
func (x *Explainer) Explain(key string, ctx *Context) (Result, Trace) {
	s := x.snap
	i, ok := s.index[key]
	if !ok {
		return Result{Key: key, Reason: ReasonError, ErrorCode: ErrFlagNotFound}, Trace{Why: x.notFound(key)}.complete()
	}
	w := x.newWalk(ctx)
	var cache [localCache]value
	left := budget(s.budget)
	var m memo
	r, tr := w.single(i, &m, &cache, &left)
	return r, tr.complete()
}

// ExplainKeys evaluates the named flags for ctx, as EvaluateKeys does, in the order
// given, and says how; keys nil explains every flag, in the order of Keys. The results
// are EvaluateKeys' (EvaluateAll's for nil): one budget covers the call.
func (x *Explainer) ExplainKeys(ctx *Context, keys []string) ([]Result, []Trace) {
	s := x.snap
	if keys == nil {
		keys = s.Keys()
	}
	// The flags to evaluate: those asked for and, as EvaluateKeys finds them, the
	// prerequisites they need.
	need := make([]bool, len(s.flags))
	asked := make([]bool, len(s.flags))
	var stack []int
	for _, k := range keys {
		i, ok := s.index[k]
		if !ok {
			continue
		}
		asked[i] = true
		if need[i] {
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
	all := make([]Result, len(s.flags))
	traces := make([]Trace, len(s.flags))
	ac := s.bulkCache()
	w := x.newWalk(ctx)
	for _, i := range s.order {
		switch {
		case !need[i]:
		case asked[i] && w.room > 0:
			all[i], traces[i] = w.bulk(i, &ac, all)
		default:
			all[i] = s.flags[i].bulk(ctx, &ac, all)
			if asked[i] {
				traces[i] = Trace{Why: whyOf(&all[i]), Truncated: true}
			}
		}
	}
	out := make([]Result, len(keys))
	outTraces := make([]Trace, len(keys))
	for j, k := range keys {
		if i, ok := s.index[k]; ok {
			out[j], outTraces[j] = all[i], traces[i].complete()
		} else {
			out[j] = Result{Key: k, Reason: ReasonError, ErrorCode: ErrFlagNotFound}
			outTraces[j] = Trace{Why: x.notFound(k)}.complete()
		}
	}
	return out, outTraces
}

// complete gives a trace its empty lists, which JSON shows as [] rather than null.
func (tr Trace) complete() Trace {
	if tr.Rules == nil {
		tr.Rules = []RuleTrace{}
	}
	return tr
}

func (x *Explainer) notFound(key string) string {
	if x.archived[key] {
		return "the flag is archived"
	}
	return "no flag has this key in the environment"
}

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

// actual is what the context holds for a resolved, present attribute.
func actual(v *value) any {
	if v.v == nil {
		return v.s // the targeting key
	}
	return v.v
}

// why says why c holds or not for v, and whether it holds by this reckoning, which
// the tests hold to match's.
func (w *walk) why(c *condition, src *domain.Condition, v *value) (bool, string) {
	name := src.Attribute
	switch c.op {
	case opExists, opNotExists:
		if v.flags&present == 0 {
			return c.op == opNotExists, "attribute absent"
		}
		return c.op == opExists, "attribute present"
	}
	if v.flags&present == 0 {
		return false, "attribute absent"
	}
	x := actual(v)
	if s, ok := x.(string); ok && len(s) > domain.MaxInputBytes {
		return false, fmt.Sprintf("a string over the input limit (%d bytes)", domain.MaxInputBytes)
	}
	la, isAny := x.([]any)
	ls, isStrings := x.([]string)
	if !isAny && !isStrings {
		m, ok := c.matchValue(x, &w.side)
		if !ok {
			return false, name + " " + typeProblem(c.op)
		}
		return m != c.negate, name + " " + phrase(c, src, x, m)
	}
	n := max(len(la), len(ls))
	if n > domain.MaxInputListLen {
		return false, fmt.Sprintf("a list over the input limit (%d elements)", domain.MaxInputListLen)
	}
	for k := range n {
		var el any
		var m bool
		if isAny {
			el = la[k]
			m, _ = c.matchValue(el, &w.side)
		} else {
			el = ls[k]
			m, _ = c.matchText(ls[k], &w.side)
		}
		if m {
			return !c.negate, fmt.Sprintf("%s[%d] %s", name, k, phrase(c, src, el, true))
		}
	}
	return c.negate, "no element of " + name + " " + phrase(c, src, nil, true)
}

// typeProblem says what a value an operator cannot compare is not.
func typeProblem(op opcode) string {
	switch op {
	case opStartsWith, opEndsWith, opContains, opMatches:
		return "is not a string"
	case opGt, opGte, opLt, opLte:
		return "is not a number"
	case opSemverEq, opSemverGt, opSemverLt:
		return "is not a semantic version"
	case opBefore, opAfter:
		return "is not an RFC 3339 time or Unix milliseconds"
	}
	return "is not a string, number or boolean"
}

// phrase says what the positive operator of c found of x: that it matched, or not. x
// is nil when no value is at hand (a list none of whose elements matched).
func phrase(c *condition, src *domain.Condition, x any, matched bool) string {
	operand := ""
	if len(src.Values) > 0 {
		operand = show(src.Values[0])
	}
	either := func(yes, no string) string {
		if matched {
			return yes + " " + operand
		}
		return no + " " + operand
	}
	switch c.op {
	case opEq:
		return either("equals", "does not equal")
	case opIn:
		if matched {
			return "is in the list"
		}
		return "is not in the list"
	case opStartsWith, opEndsWith, opContains:
		verb := map[opcode]string{opStartsWith: "starts with", opEndsWith: "ends with", opContains: "contains"}[c.op]
		if !matched {
			return verb + " none of the values"
		}
		if s, ok := x.(string); ok {
			if t, ok := c.firstText(s); ok {
				return verb + " " + quote(t)
			}
		}
		return verb + " one of the values"
	case opMatches:
		return either("matches", "does not match")
	case opGt:
		return either("is greater than", "is not greater than")
	case opGte:
		return either("is at least", "is less than")
	case opLt:
		return either("is less than", "is not less than")
	case opLte:
		return either("is at most", "is greater than")
	case opSemverEq:
		return either("is version", "is not version")
	case opSemverGt:
		return either("is a later version than", "is not a later version than")
	case opSemverLt:
		return either("is an earlier version than", "is not an earlier version than")
	case opBefore:
		return either("is before", "is not before")
	case opAfter:
		return either("is after", "is not after")
	}
	return ""
}

// firstText returns the first value of a starts_with, ends_with or contains condition
// that s satisfies.
func (c *condition) firstText(s string) (string, bool) {
	for _, t := range c.texts {
		if c.op == opStartsWith && strings.HasPrefix(s, t) || c.op == opEndsWith && strings.HasSuffix(s, t) ||
			c.op == opContains && strings.Contains(s, t) {
			return t, true
		}
	}
	return "", false
}

// whyOf says what decided a result, from the result alone: for flags whose trace did
// not fit.
func whyOf(r *Result) string {
	switch r.Reason {
	case ReasonTargetingMatch:
		return fmt.Sprintf("rule %s matched: serving %s", quote(r.RuleID), quote(r.Variant))
	case ReasonDefault:
		return fmt.Sprintf("no rule matched: serving %s", quote(r.Variant))
	case ReasonSplit:
		return fmt.Sprintf("no rule matched: the rollout serves %s", quote(r.Variant))
	case ReasonDisabled:
		return "the flag is off (disabled in this environment, or killed)"
	case ReasonPrerequisiteFailed:
		return "a prerequisite was not met"
	}
	switch {
	case r.ErrorCode == ErrTargetingKeyMissing:
		return "the rollout buckets by an attribute the context lacks: serving the off variant"
	case r.ErrorMessage != "":
		return r.ErrorMessage
	}
	return string(r.ErrorCode)
}

// quote quotes s for a Why, shortened when long.
func quote(s string) string {
	if len(s) > maxQuoted {
		s = cut(s, maxQuoted) + "…"
	}
	return strconv.Quote(s)
}

// show renders a scalar for a Why: strings quoted, numbers as eq compares them.
func show(v any) string {
	if s, ok := v.(string); ok {
		return quote(s)
	}
	if t, ok := canonical(v); ok {
		return t
	}
	return fmt.Sprintf("%v", shown(v))
}

// cut shortens s to at most n bytes, at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// shown returns v bounded for a trace: strings of at most maxShownBytes, at most
// maxShownNodes elements and members in all, numbers that JSON can encode.
func shown(v any) any {
	left := maxShownNodes
	return bounded(v, &left)
}

func bounded(v any, left *int) any {
	switch x := v.(type) {
	case string:
		if len(x) > maxShownBytes {
			return cut(x, maxShownBytes) + "…"
		}
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		return x
	case []string:
		out := make([]any, 0, min(len(x), *left))
		for _, e := range x {
			if *left <= 0 {
				return append(out, "…")
			}
			*left--
			out = append(out, bounded(e, left))
		}
		return out
	case []any:
		out := make([]any, 0, min(len(x), *left))
		for _, e := range x {
			if *left <= 0 {
				return append(out, "…")
			}
			*left--
			out = append(out, bounded(e, left))
		}
		return out
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make(map[string]any, min(len(x), *left))
		for _, k := range keys {
			if *left <= 0 {
				out["…"] = "…"
				break
			}
			*left--
			out[cut(k, maxShownBytes)] = bounded(x[k], left)
		}
		return out
	}
	return v
}

// size estimates a condition trace's size, encoded.
func (ct *ConditionTrace) size() int {
	n := 80 + len(ct.Attribute) + len(ct.Operator) + len(ct.Why) + sizeOf(ct.Actual)
	for _, v := range ct.Values {
		n += sizeOf(v) + 1
	}
	return n
}

func sizeOf(v any) int {
	switch x := v.(type) {
	case string:
		return len(x) + 2
	case []any:
		n := 2
		for _, e := range x {
			n += sizeOf(e) + 1
		}
		return n
	case map[string]any:
		n := 2
		for k, e := range x {
			n += len(k) + 4 + sizeOf(e)
		}
		return n
	}
	return 8
}
