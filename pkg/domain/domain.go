// Package domain holds the types both services share: projects, environments, flags,
// their per-environment configuration, the environment snapshot that the cache stores,
// and the one error type every layer returns.
//
// The JSON shapes are the wire contract of the admin API (snake_case). Struct tags named
// `validate` carry the structural rules that package validate checks with
// go-playground/validator; the semantic rules (variants referenced, weights, operators,
// prerequisites) and the size limits of limits.go live in package validate itself, so
// that each limit has one definition and its message can name it.
package domain

import "time"

// Kind is the type of the values a flag serves.
type Kind string

// Flag kinds.
const (
	KindBoolean Kind = "boolean"
	KindString  Kind = "string"
	KindNumber  Kind = "number"
	KindJSON    Kind = "json"
)

// Kinds lists every valid kind, in documentation order.
var Kinds = []Kind{KindBoolean, KindString, KindNumber, KindJSON}

// Variant keys of every boolean flag.
const (
	VariantOn  = "on"
	VariantOff = "off"
)

// Project groups flags and environments.
type Project struct {
	ID          string `json:"id,omitempty"`
	Key         string `json:"key" validate:"required,slug"`
	Name        string `json:"name" validate:"required,max=200"`
	Description string `json:"description,omitempty" validate:"max=2000"`
	// StaleAfterDays is how long a flag may go unevaluated before listings call it
	// stale (see Stale).
	StaleAfterDays int       `json:"stale_after_days"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at,omitzero"`
}

// Bounds of Project.StaleAfterDays.
const (
	DefaultStaleAfterDays = 30
	MaxStaleAfterDays     = 3650
)

// StaleCutoff is the moment before which a flag of the project counts as stale at now:
// stale_after_days before it.
func (p Project) StaleCutoff(now time.Time) time.Time {
	return now.AddDate(0, 0, -p.StaleAfterDays)
}

// Stale reports whether a flag created at created and last evaluated at last (nil:
// never, in any environment) is stale at the cutoff (Project.StaleCutoff): neither
// evaluated nor created since. A flag younger than the project's stale_after_days is
// never stale, evaluated or not: it has not had the time to be used yet.
func Stale(created time.Time, last *time.Time, cutoff time.Time) bool {
	return created.Before(cutoff) && (last == nil || last.Before(cutoff))
}

// DefaultEnvironments are created with every project; production is protected.
var DefaultEnvironments = []Environment{
	{Key: "development", Name: "Development"},
	{Key: "staging", Name: "Staging"},
	{Key: "production", Name: "Production", Protected: true},
}

// Environment is one deployment stage of a project. Version increases with every change
// that touches the environment and identifies a snapshot of it.
type Environment struct {
	ID          string    `json:"id,omitempty"`
	Key         string    `json:"key" validate:"required,slug"`
	Name        string    `json:"name" validate:"required,max=200"`
	Description string    `json:"description,omitempty" validate:"max=2000"`
	Protected   bool      `json:"protected"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
}

// Variant is one named value a flag can serve. Value holds the decoded JSON value:
// bool, string, float64, or any JSON value for a json flag.
type Variant struct {
	Key         string `json:"key" validate:"required,variantkey"`
	Name        string `json:"name,omitempty" validate:"max=200"`
	Description string `json:"description,omitempty" validate:"max=2000"`
	Value       any    `json:"value"`
}

// Flag is a feature flag of a project. It exists in every environment of the project;
// Killed turns it off in all of them at once.
type Flag struct {
	ID          string    `json:"id,omitempty"`
	Key         string    `json:"key" validate:"required,flagkey"`
	Name        string    `json:"name" validate:"max=200"`
	Description string    `json:"description,omitempty" validate:"max=4000"`
	Kind        Kind      `json:"kind" validate:"required,oneof=boolean string number json"`
	Variants    []Variant `json:"variants" validate:"dive"`
	Tags        []string  `json:"tags,omitempty" validate:"max=50,dive,tag"`
	// Salt feeds the bucketing hash; flags with different salts bucket independently.
	Salt      string    `json:"salt,omitempty" validate:"omitempty,salt"`
	Killed    bool      `json:"killed"`
	Archived  bool      `json:"archived"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// BooleanVariants returns the variants every boolean flag has.
func BooleanVariants() []Variant {
	return []Variant{{Key: VariantOn, Value: true}, {Key: VariantOff, Value: false}}
}

// Variant returns the variant with the given key.
func (f *Flag) Variant(key string) (Variant, bool) {
	for _, v := range f.Variants {
		if v.Key == key {
			return v, true
		}
	}
	return Variant{}, false
}

// BucketSalt is the salt bucketing uses: Salt, or the flag key when none is set.
func (f *Flag) BucketSalt() string {
	if f.Salt != "" {
		return f.Salt
	}
	return f.Key
}

// Config is a flag's configuration in one environment.
type Config struct {
	Enabled       bool           `json:"enabled"`
	Rules         []Rule         `json:"rules" validate:"dive"`
	Default       Serve          `json:"default"`
	OffVariant    string         `json:"off_variant" validate:"required"`
	Prerequisites []Prerequisite `json:"prerequisites" validate:"dive"`
	Version       int64          `json:"version"`
	UpdatedAt     time.Time      `json:"updated_at,omitzero"`
}

// Rule serves a variant or a rollout when all of its conditions hold. A rule without
// conditions matches every context.
type Rule struct {
	ID          string      `json:"id" validate:"required,variantkey"`
	Description string      `json:"description,omitempty" validate:"max=2000"`
	Conditions  []Condition `json:"conditions" validate:"dive"`
	Serve       Serve       `json:"serve"`
}

// Condition tests one context attribute. Attribute is a context key or a dotted path
// into nested objects (company.plan).
type Condition struct {
	Attribute string   `json:"attribute" validate:"required,max=256"`
	Operator  Operator `json:"operator" validate:"required"`
	Values    []any    `json:"values"`
}

// Serve names what a rule or the default serves: exactly one of a fixed variant or a
// percentage rollout.
type Serve struct {
	Variant string   `json:"variant,omitempty"`
	Rollout *Rollout `json:"rollout,omitempty"`
}

// Rollout splits contexts between variants by percentage. Weights are percentages with
// at most three decimals summing to 100. BucketBy names the attribute to bucket by; the
// targeting key when empty.
type Rollout struct {
	Weights  map[string]float64 `json:"weights"`
	BucketBy string             `json:"bucket_by,omitempty"`
}

// Prerequisite requires another flag of the same environment to be on and to serve
// Variant before this flag's rules are considered.
type Prerequisite struct {
	Flag    string `json:"flag" validate:"required"`
	Variant string `json:"variant" validate:"required"`
}

// FlagConfig is a flag together with its configuration in one environment.
type FlagConfig struct {
	Flag   Flag   `json:"flag"`
	Config Config `json:"config"`
}

// Snapshot is every flag of one environment at one version: the unit the evaluator
// caches. Archived flags are not part of a snapshot.
type Snapshot struct {
	ProjectKey     string       `json:"project_key"`
	EnvironmentID  string       `json:"environment_id"`
	EnvironmentKey string       `json:"environment_key"`
	Version        int64        `json:"version"`
	Flags          []FlagConfig `json:"flags"`
}

// Normalize fills in what a flag definition may leave out: the on/off variants of a
// boolean flag.
func (f *Flag) Normalize() {
	if f.Kind == KindBoolean && len(f.Variants) == 0 {
		f.Variants = BooleanVariants()
	}
}

// InitialConfig is a flag's configuration in an environment it has just been added to:
// off, serving its off variant ("off" for a boolean flag, else its first variant).
func (f *Flag) InitialConfig() Config {
	off := ""
	if _, ok := f.Variant(VariantOff); ok {
		off = VariantOff
	} else if len(f.Variants) > 0 {
		off = f.Variants[0].Key
	}
	return Config{Rules: []Rule{}, Default: Serve{Variant: off}, OffVariant: off, Prerequisites: []Prerequisite{}, Version: 1}
}

// FlagDetail is a flag with its configuration in every environment, by environment key.
type FlagDetail struct {
	Flag
	Environments map[string]Config `json:"environments"`
}

// EnvironmentState is a flag's state in one environment, as flag listings show it.
type EnvironmentState struct {
	Enabled bool  `json:"enabled"`
	Version int64 `json:"version"`
	// LastEvaluated is when an evaluator last answered for the flag in the
	// environment; nil when none ever did.
	LastEvaluated *time.Time `json:"last_evaluated"`
	// Rollout is the weights of the percentage rollout the environment serves when no
	// rule matches (its default), when it serves one: {"on": 25, "off": 75}.
	Rollout map[string]float64 `json:"rollout,omitempty"`
}

// FlagSummary is a flag with its on/off state in every environment, and whether it is
// still used.
type FlagSummary struct {
	Flag
	Environments map[string]EnvironmentState `json:"environments"`
	// LastEvaluated is the latest of the environments' LastEvaluated.
	LastEvaluated *time.Time `json:"last_evaluated"`
	// Stale says the flag was not evaluated for its project's stale_after_days (see
	// Stale).
	Stale bool `json:"stale"`
}

// FlagFilter selects flags of a project; zero fields do not filter.
type FlagFilter struct {
	Tag      string
	Query    string // a case-insensitive substring of key, name or description
	Archived bool   // archived flags instead of active ones
	Stale    *bool  // stale flags only (true), or fresh ones only (false)
}

// Dependent is a prerequisite another flag holds on a flag, in one environment.
type Dependent struct {
	Flag        string `json:"flag"`
	Environment string `json:"environment"`
	Variant     string `json:"variant"`
}

// Origin says who makes a change and in which request, for the audit trail, and what
// the caller may do (nil: anything).
type Origin struct {
	Actor     Actor
	RequestID string
	// Address is the client's address, as the HTTP layer trusts it: what limits on
	// guessing count by.
	Address string
	Access  Access
}

// Need checks a role through o.Access; a nil Access allows everything.
func (o Origin) Need(project, env string, need Role) error {
	if o.Access == nil {
		return nil
	}
	return o.Access.Need(project, env, need)
}

// Superuser reports whether the caller may do anything.
func (o Origin) Superuser() bool { return o.Access == nil || o.Access.Superuser() }

// EvaluationCount is how often a flag served a variant for a reason in an environment.
type EvaluationCount struct {
	Environment string `json:"environment"`
	Variant     string `json:"variant"`
	Reason      string `json:"reason"`
	Count       int64  `json:"count"`
}

// FlagEvaluations summarises a flag's evaluations over a time range, and when it was
// last evaluated in each environment (a flag nobody evaluates is a candidate to remove).
// With a bucket size, Series has the same counts over time.
type FlagEvaluations struct {
	Flag          string               `json:"flag"`
	Since         time.Time            `json:"since"`
	Until         time.Time            `json:"until"`
	Counts        []EvaluationCount    `json:"counts"`
	LastEvaluated map[string]time.Time `json:"last_evaluated"`
	Bucket        BucketSize           `json:"bucket,omitempty"`
	Series        []EvaluationBucket   `json:"series,omitempty"`
}

// BucketSize is the width of the buckets of an evaluation series.
type BucketSize string

// Bucket sizes.
const (
	BucketHour BucketSize = "hour"
	BucketDay  BucketSize = "day"
)

// Duration is the width of a bucket.
func (b BucketSize) Duration() time.Duration {
	if b == BucketDay {
		return 24 * time.Hour
	}
	return time.Hour
}

// Start is the start of the bucket holding t: the hour or the UTC day.
func (b BucketSize) Start(t time.Time) time.Time {
	return t.UTC().Truncate(b.Duration())
}

// EvaluationBucket is one bucket of an evaluation series: the evaluations from Start
// (within the series' range) to the next bucket, by variant and reason. Every bucket
// of the range is listed, those without evaluations too.
type EvaluationBucket struct {
	Start  time.Time            `json:"start"`
	Counts []VariantReasonCount `json:"counts"`
	Total  int64                `json:"total"`
}

// VariantReasonCount is how often a variant was served for a reason.
type VariantReasonCount struct {
	Variant string `json:"variant"`
	Reason  string `json:"reason"`
	Count   int64  `json:"count"`
}
