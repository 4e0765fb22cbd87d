package switchyard

import (
	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
)

// Context is what a flag is evaluated for: a targeting key and attributes (strings,
// numbers, booleans, lists and nested objects). It is the engine's type. Evaluation
// only reads it: a context built once and reused across calls costs no allocation.
type Context = eval.Context

// Result is the outcome of evaluating one flag, as the evaluator answers it: value,
// variant, reason, rule and error code.
type Result = eval.Result

// Reason explains why a flag evaluated to its value.
type Reason = eval.Reason

// ErrorCode says what went wrong when a result's Reason is ERROR.
type ErrorCode = eval.ErrorCode

// Reasons (the engine's, which are OpenFeature's plus PREREQUISITE_FAILED).
const (
	ReasonTargetingMatch     = eval.ReasonTargetingMatch
	ReasonSplit              = eval.ReasonSplit
	ReasonDefault            = eval.ReasonDefault
	ReasonDisabled           = eval.ReasonDisabled
	ReasonPrerequisiteFailed = eval.ReasonPrerequisiteFailed
	ReasonError              = eval.ReasonError
)

// Error codes: the engine's, and those the SDK adds (OpenFeature's names).
const (
	CodeFlagNotFound        = eval.ErrFlagNotFound
	CodeTargetingKeyMissing = eval.ErrTargetingKeyMissing
	CodeGeneral             = eval.ErrGeneral
	// CodeTypeMismatch: a typed method was asked for a flag of another kind.
	CodeTypeMismatch ErrorCode = "TYPE_MISMATCH"
	// CodeNotReady: the client holds no definitions yet.
	CodeNotReady ErrorCode = "PROVIDER_NOT_READY"
)

// Messages of Result.ErrorMessage for the SDK's error codes.
const (
	MessageNotReady   = "flag definitions are not loaded yet"
	MessageNotBoolean = "the flag is not a boolean flag"
	MessageNotString  = "the flag is not a string flag"
	MessageNotNumber  = "the flag is not a number flag"
	MessageNotJSON    = "the flag is not a json flag"
)

// evaluate evaluates a flag against the definitions held and counts the result. f is
// the flag's information, nil when the flag or the definitions are missing.
func (c *Client) evaluate(key string, ctx *Context) (r Result, f *flagInfo) {
	d := c.defs.Load()
	if d == nil {
		return Result{Key: key, Reason: ReasonError, ErrorCode: CodeNotReady, ErrorMessage: MessageNotReady}, nil
	}
	if ctx == nil {
		ctx = &Context{}
	}
	r = d.snap.Evaluate(key, ctx)
	if f = d.flag(key); f != nil && c.counting {
		f.count(&r)
	}
	return r, f
}

// Evaluate evaluates a flag for ctx (nil: an empty context) and returns the engine's
// result, the evaluator's answer for the same definitions. Before definitions are
// loaded it answers ERROR with CodeNotReady.
func (c *Client) Evaluate(key string, ctx *Context) Result {
	r, _ := c.evaluate(key, ctx)
	return r
}

// mismatch marks a result whose flag is of another kind than asked for; the value,
// variant and rule stay those the flag served.
func mismatch(r Result, message string) Result {
	r.Reason, r.ErrorCode, r.ErrorMessage = ReasonError, CodeTypeMismatch, message
	return r
}

// typed answers a flag of the given kind: its value, or def with a result that says
// why (the flag is missing, of another kind, or its evaluation failed).
func typed[T any](c *Client, key string, ctx *Context, kind domain.Kind, message string, def T) (T, Result) {
	r, f := c.evaluate(key, ctx)
	if r.ErrorCode != "" || f == nil {
		return def, r
	}
	if f.kind != kind {
		return def, mismatch(r, message)
	}
	v, ok := r.Value.(T)
	if !ok && (kind != domain.KindJSON || r.Value != nil) { // JSON null is a json value
		return def, mismatch(r, message)
	}
	return v, r
}

// Bool answers a boolean flag for ctx, or def when the flag is missing, not boolean,
// or cannot be evaluated.
func (c *Client) Bool(key string, ctx *Context, def bool) bool {
	v, _ := typed(c, key, ctx, domain.KindBoolean, MessageNotBoolean, def)
	return v
}

// BoolDetail is Bool with the result that explains the answer.
func (c *Client) BoolDetail(key string, ctx *Context, def bool) (bool, Result) {
	return typed(c, key, ctx, domain.KindBoolean, MessageNotBoolean, def)
}

// String answers a string flag for ctx, or def when the flag is missing, not a string
// flag, or cannot be evaluated.
func (c *Client) String(key string, ctx *Context, def string) string {
	v, _ := typed(c, key, ctx, domain.KindString, MessageNotString, def)
	return v
}

// StringDetail is String with the result that explains the answer.
func (c *Client) StringDetail(key string, ctx *Context, def string) (string, Result) {
	return typed(c, key, ctx, domain.KindString, MessageNotString, def)
}

// Number answers a number flag for ctx, or def when the flag is missing, not a number
// flag, or cannot be evaluated.
func (c *Client) Number(key string, ctx *Context, def float64) float64 {
	v, _ := typed(c, key, ctx, domain.KindNumber, MessageNotNumber, def)
	return v
}

// NumberDetail is Number with the result that explains the answer.
func (c *Client) NumberDetail(key string, ctx *Context, def float64) (float64, Result) {
	return typed(c, key, ctx, domain.KindNumber, MessageNotNumber, def)
}

// JSON answers a json flag for ctx (any JSON value, as encoding/json decodes it:
// map[string]any, []any, string, float64, bool), or def when the flag is missing, not
// a json flag, or cannot be evaluated. The value is shared by every caller and with
// the engine: do not modify it.
func (c *Client) JSON(key string, ctx *Context, def any) any {
	v, _ := typed(c, key, ctx, domain.KindJSON, MessageNotJSON, def)
	return v
}

// JSONDetail is JSON with the result that explains the answer.
func (c *Client) JSONDetail(key string, ctx *Context, def any) (any, Result) {
	return typed(c, key, ctx, domain.KindJSON, MessageNotJSON, def)
}
