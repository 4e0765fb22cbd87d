// Package eval is the flag evaluation engine: pure, without I/O, and safe for any number
// of goroutines evaluating against one compiled snapshot at once.
//
// # Compiling
//
// Compile turns an environment snapshot into an evaluation-ready form once: numbers,
// semantic versions and times pre-parsed, regular expressions compiled, hash sets built
// for in and not_in, prerequisites resolved to indexes and ordered. Evaluating one flag
// then allocates nothing.
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
package eval
