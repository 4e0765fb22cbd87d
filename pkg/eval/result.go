package eval

import "github.com/switchyard/switchyard/pkg/domain"

// Reason explains why a flag evaluated to its value (the OpenFeature reasons, plus
// PREREQUISITE_FAILED).
type Reason string

// Reasons.
const (
	ReasonTargetingMatch     Reason = "TARGETING_MATCH"
	ReasonSplit              Reason = "SPLIT"
	ReasonDefault            Reason = "DEFAULT"
	ReasonDisabled           Reason = "DISABLED"
	ReasonPrerequisiteFailed Reason = "PREREQUISITE_FAILED"
	ReasonError              Reason = "ERROR"
)

// Reasons are every reason, in a fixed order.
var Reasons = [...]Reason{ReasonTargetingMatch, ReasonSplit, ReasonDefault, ReasonDisabled, ReasonPrerequisiteFailed, ReasonError}

// ErrorCode says what went wrong when Reason is ERROR (OpenFeature error codes).
type ErrorCode string

// Error codes.
const (
	ErrFlagNotFound        ErrorCode = "FLAG_NOT_FOUND"
	ErrTargetingKeyMissing ErrorCode = "TARGETING_KEY_MISSING"
	ErrGeneral             ErrorCode = "GENERAL"
)

// Result is the outcome of evaluating one flag for one context.
type Result struct {
	Key       string    `json:"key"`
	Value     any       `json:"value"`
	Variant   string    `json:"variant,omitempty"`
	Reason    Reason    `json:"reason"`
	RuleID    string    `json:"rule_id,omitempty"`
	ErrorCode ErrorCode `json:"error_code,omitempty"`
	// ErrorMessage says why, for error code GENERAL: one of the constant messages below,
	// safe to show a client (it never quotes the configuration).
	ErrorMessage string `json:"error_message,omitempty"`
}

// Messages of ErrorMessage.
const (
	// MessageBroken: the flag's configuration could not be compiled (Problems says why).
	MessageBroken = "the flag's configuration cannot be evaluated"
	// MessageBudget: the evaluation's budget ran out before this flag was done.
	MessageBudget = "the evaluation ran out of budget before this flag"
)

// Context is what a flag is evaluated for: a targeting key and attributes (strings,
// numbers, booleans, lists and nested objects, as decoded from JSON).
//
// The attributes are held in Attributes, or in List when it is not nil (as
// ContextFromJSON decodes a small context: no map, no boxed strings); a name appears
// at most once in List.
type Context struct {
	Key        string
	Attributes map[string]any
	List       []Attribute
}

// ContextOf builds a context from a JSON object: the targeting key comes from the first
// of keyFields the object holds ("key" or "targetingKey", as the API in use names it),
// and every other member is an attribute. A key that is not a string is invalid.
func ContextOf(raw map[string]any, keyFields ...string) (Context, error) {
	ctx := Context{Attributes: make(map[string]any, len(raw))}
	for k, v := range raw {
		ctx.Attributes[k] = v
	}
	for _, f := range keyFields {
		v, ok := raw[f]
		if !ok || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return ctx, domain.InvalidField("context", "context."+f, "must be a string")
		}
		ctx.Key = s
		delete(ctx.Attributes, f)
		break
	}
	return ctx, nil
}
