package eval

import (
	"slices"
	"strings"

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
	need := s.needed(keys)
	asked := make([]bool, len(s.flags))
	for _, k := range keys {
		if i, ok := s.index[k]; ok {
			asked[i] = true
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
