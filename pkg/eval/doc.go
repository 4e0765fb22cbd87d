// Package eval is the flag evaluation engine: pure, without I/O, and safe for any number
// of goroutines evaluating against one compiled snapshot at once.
//
// # Compiling
//
// Compile turns an environment snapshot into an evaluation-ready form once: numbers,
// semantic versions and times pre-parsed, regular expressions compiled (once per
// distinct pattern), hash sets built for in and not_in, prerequisites resolved to
// indexes and ordered. Evaluating one flag then allocates nothing. Compiling takes time
// and memory linear in the snapshot: flags, conditions, values and prerequisites.
//
// Compile enforces again the limits of package domain that bound the engine's own work,
// whatever the store holds: a flag whose pattern compiles to more than
// MaxRegexInstructions, whose patterns take the environment's distinct patterns over
// MaxSnapshotRegexBytes or MaxSnapshotRegexInstructions (counted in key order), which
// is on a prerequisite cycle, or whose chain of prerequisites is deeper than
// MaxPrerequisiteDepth is broken: it answers ERROR with error code GENERAL, and
// Problems says why.
//
// # Evaluation order (one flag, one environment)
//
//  1. Unknown or archived flag: error FLAG_NOT_FOUND.
//  2. Kill switch on, or the environment config disabled: off variant, reason DISABLED.
//  3. A prerequisite not met (the prerequisite flag is off, failed, or serves another
//     variant): off variant, reason PREREQUISITE_FAILED.
//  4. First rule whose conditions all hold: its variant or rollout, reason
//     TARGETING_MATCH, with the rule's id.
//  5. Otherwise the default: a fixed variant gives DEFAULT, a rollout SPLIT.
//
// A rollout that needs a bucketing key the context lacks serves the off variant with
// reason ERROR and error code TARGETING_KEY_MISSING. Reasons and error codes are
// OpenFeature's.
//
// # Attributes and operators
//
// A condition's attribute is a context key, or a dotted path into nested objects
// (company.plan); a key that itself contains dots is found first. The attributes "key"
// and "targetingKey" name the targeting key.
//
// Scalars compare as text for eq, neq, in and not_in: strings as they are, numbers in
// their shortest decimal form (30 and "30" are equal, 1.50 is "1.5"), booleans as
// "true" and "false". String operators (starts_with, ends_with, contains, not_contains,
// matches) need a string attribute and are case-sensitive. Numeric operators accept a
// number or a numeric string. semver_* need a semantic version string ("v" prefix and
// missing minor/patch allowed). before and after take an RFC 3339 string or a number of
// Unix milliseconds.
//
// A list-valued attribute matches a positive operator when any element matches; a
// negated operator (neq, not_in, not_contains) matches a list when no element matches
// its positive form. A missing attribute, a null, or a value of the wrong type never
// matches any operator except not_exists; nothing panics.
//
// The engine looks at bounded input. A string longer than domain.MaxInputBytes (4,096
// bytes) is a value of the wrong type: it matches no operator but exists and
// not_exists, negated operators included (not_contains does not match it), whatever the
// operator. In a list such an element matches nothing, so a negated operator decides on
// the other elements. A list longer than domain.MaxInputListLen (100 elements) matches
// no operator but exists and not_exists.
//
// # Bucketing
//
// A rollout places a context in one of 100,000 buckets:
//
//	bucket = XXH64(salt + ":" + key, seed 0) mod 100000
//
// where XXH64 is the 64-bit xxHash of the UTF-8 bytes, salt is the flag's salt (its key
// when it has none) and key is the bucketing key: the targeting key, or the attribute
// named by bucket_by rendered as text (as for eq). Weights are percentages with three
// decimals, so a weight w covers w×1000 buckets. Variants take consecutive ranges of
// buckets starting at 0 in the order the flag defines its variants, skipping zero
// weights; the context gets the variant whose range holds its bucket.
//
// Raising one variant's weight at the expense of the next variant's keeps every context
// that already had it: with variants on, off the on range grows from [0, 10000) to
// [0, 20000). Different salts give independent buckets. testdata/bucketing.json holds
// vectors (salt, key, bucket) for ports to other languages.
//
// # Budget
//
// Each call of Evaluate, EvaluateAll or EvaluateKeys may do a bounded amount of work,
// DefaultBudget units unless Snapshot.WithBudget sets another, so that no request can
// monopolise a core whatever the snapshot and the context hold. A unit is about a
// nanosecond of worst-case work: a flag, a prerequisite, a condition, a list element and
// a rollout cost a few units, and testing a string costs units per byte, a regular
// expression as many per byte as its program has instructions (times seven). Single
// evaluation evaluates the prerequisites a flag needs as it needs them; bulk evaluation
// goes through the flags in key order, each after its prerequisites. When the budget
// runs out, the flag being evaluated and every flag not yet evaluated answer ERROR with
// error code GENERAL and ErrorMessage MessageBudget, and no more work is done. A bulk
// evaluation of domain.MaxFlagsPerProject ordinary flags uses a few percent of the
// default.
package eval
