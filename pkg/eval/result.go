package eval

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
type Context struct {
	Key        string
	Attributes map[string]any
}
