package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
)

// ExplainStore is what the playground needs from storage: an environment's snapshot,
// as the evaluator loads it.
type ExplainStore interface {
	EnvironmentSnapshot(ctx context.Context, projectKey, envKey string) (domain.Snapshot, error)
}

// explainSlots is how many explanations may run at once; the others wait their turn.
// One: an environment at every limit takes about 260 MiB decoded and compiled
// (BenchmarkLimits), which the admin's 512 Mi (deployments/k8s) holds once.
const explainSlots = 1

// ExplainInput asks how an environment's flags evaluate for a context: the named
// flags, or all of them. The context is the evaluator's: "key" (or "targetingKey") is
// the targeting key, every other member an attribute.
type ExplainInput struct {
	Context map[string]any `json:"context"`
	Flags   []string       `json:"flags"`
}

// Explanation is how the stored configuration of one environment evaluates for a
// context, flag by flag.
type Explanation struct {
	Environment string
	// Version is the environment's version the explanation evaluated.
	Version int64
	// Flags are in the order asked, or every flag of the environment by key.
	Flags []FlagExplanation
}

// FlagExplanation is one flag's result, exactly as an evaluator would answer it, and
// how it came about. As JSON: value, variant, reason, rule_id, error_code (and
// error_message), then the trace (trace: the rules; why, prerequisites, rollout,
// trace_truncated).
type FlagExplanation struct {
	eval.Result
	eval.Trace
}

// MarshalJSON writes the playground's wire shape: {"environment", "version",
// "flags": {"<flag>": {...}}}.
func (e Explanation) MarshalJSON() ([]byte, error) {
	flags := make(map[string]FlagExplanation, len(e.Flags))
	for _, f := range e.Flags {
		flags[f.Key] = f
	}
	return json.Marshal(struct {
		Environment string                     `json:"environment"`
		Version     int64                      `json:"version"`
		Flags       map[string]FlagExplanation `json:"flags"`
	}{e.Environment, e.Version, flags})
}

// Explain evaluates the stored configuration of an environment for a context, as the
// evaluator would at the same version, with the same engine, and says how each flag
// reached its value (eval.Explainer). Anyone who may read the environment may ask; it
// writes nothing. The work is the evaluator's: the context is bounded as an
// evaluator's request (domain.MaxContextBytes), the evaluation by the engine's budget,
// the traces by eval.MaxTraceBytes.
func (s *Service) Explain(ctx context.Context, o domain.Origin, projectKey, envKey string, in ExplainInput) (Explanation, error) {
	if err := o.Need(projectKey, envKey, domain.RoleViewer); err != nil {
		return Explanation{}, err
	}
	ectx, err := explainContext(in.Context)
	if err != nil {
		return Explanation{}, err
	}
	if len(in.Flags) > domain.MaxFlagsPerProject {
		return Explanation{}, domain.InvalidField("request body", "flags",
			fmt.Sprintf("names %d flags; at most %d (MaxFlagsPerProject)", len(in.Flags), domain.MaxFlagsPerProject))
	}
	// Each explanation holds an environment's snapshot, decoded and compiled: for the
	// largest environments a good part of the admin's memory. A few at a time.
	select {
	case s.explaining <- struct{}{}:
		defer func() { <-s.explaining }()
	case <-ctx.Done():
		return Explanation{}, ctx.Err()
	}
	snap, err := s.explain.EnvironmentSnapshot(ctx, projectKey, envKey)
	if err != nil {
		return Explanation{}, err
	}
	x := eval.NewExplainer(snap)
	results, traces := x.ExplainKeys(&ectx, in.Flags)
	out := Explanation{Environment: snap.EnvironmentKey, Version: snap.Version, Flags: make([]FlagExplanation, len(results))}
	for i := range results {
		out.Flags[i] = FlagExplanation{Result: results[i], Trace: traces[i]}
	}
	return out, nil
}

// explainContext builds an evaluation context as the evaluator does: the targeting key
// from "key" or "targetingKey", every other member an attribute.
func explainContext(raw map[string]any) (eval.Context, error) {
	if b, err := json.Marshal(raw); err != nil {
		return eval.Context{}, domain.InvalidField("request body", "context", "must be a JSON object")
	} else if len(b) > domain.MaxContextBytes {
		return eval.Context{}, &domain.Error{Code: domain.CodeTooLarge,
			Message: fmt.Sprintf("the context is larger than %d bytes, more than an evaluator accepts", domain.MaxContextBytes),
			Fields:  []domain.FieldError{{Field: "context", Message: fmt.Sprintf("is %d bytes; at most %d (MaxContextBytes)", len(b), domain.MaxContextBytes)}}}
	}
	return eval.ContextOf(raw, "key", "targetingKey")
}
