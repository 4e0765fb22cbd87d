package domain

// Limits on what one project may hold. Each is checked when a change is written, with a
// 400 or 422 that names it, so that no configuration the admin service accepts can make
// an evaluator run out of memory or monopolise a core. The engine enforces the ones that
// bound its own work again at compile and evaluation time, whatever the store holds.
// The README's "Limits" table lists them; keep the two in step.
const (
	// MaxEnvironmentsPerProject bounds a project's environments.
	MaxEnvironmentsPerProject = 100
	// MaxFlagsPerProject bounds a project's flags, archived ones included. A flag exists
	// in every environment, so this also bounds the flags of one environment's snapshot.
	MaxFlagsPerProject = 10000

	// MaxVariants bounds a flag's variants.
	MaxVariants = 100
	// MaxVariantValueBytes bounds one variant's value, encoded as JSON.
	MaxVariantValueBytes = 32 << 10
	// MaxSnapshotVariantBytes bounds the variant values of one environment's flags
	// together, encoded as JSON. Decoded, a JSON value takes up to 22 times its encoded
	// size ([{},{},…]): at MaxSnapshotBytes of them an evaluator would hold 700 MiB.
	MaxSnapshotVariantBytes = 4 << 20

	// MaxRules bounds the rules of one configuration.
	MaxRules = 200
	// MaxConditions bounds the conditions of one rule.
	MaxConditions = 50
	// MaxSetValues bounds the values of one in or not_in condition: the largest
	// targeting list.
	MaxSetValues = 10000
	// MaxStringValues bounds the values of one starts_with, ends_with, contains or
	// not_contains condition.
	MaxStringValues = 100
	// MaxConfigValues bounds the condition values of one configuration, all rules
	// together.
	MaxConfigValues = 20000
	// MaxRegexBytes bounds the text of a matches pattern.
	MaxRegexBytes = 1024
	// MaxRegexInstructions bounds the compiled RE2 program of a matches pattern, which
	// is what matching time and memory grow with (a short pattern such as (a?){1000}
	// compiles to thousands of instructions). Matching MaxInputBytes costs up to 7 ns
	// per instruction and byte: 25 ms at this limit, about half the evaluation budget.
	// A 1 KiB alternation of literals fits.
	MaxRegexInstructions = 1000
	// MaxSnapshotRegexInstructions bounds the compiled programs of the distinct matches
	// patterns of one environment together. Each instruction costs an evaluator about
	// 100 bytes and a microsecond to compile and 45 bytes to keep, and a pattern as short
	// as x{999} compiles to a thousand, so MaxSnapshotBytes alone would allow gigabytes.
	MaxSnapshotRegexInstructions = 200_000
	// MaxSnapshotRegexBytes bounds the text of the distinct matches patterns of one
	// environment together: parsing a pattern costs up to 100 ns a byte.
	MaxSnapshotRegexBytes = 256 << 10
	// MaxPrerequisites bounds the prerequisites of one configuration.
	MaxPrerequisites = 50
	// MaxPrerequisiteDepth bounds the longest chain of prerequisites through any flag:
	// a flag that requires a flag that requires a flag is a chain of depth 2. Evaluating
	// one flag recurses this deep; the engine breaks flags deeper than it.
	MaxPrerequisiteDepth = 10
	// MaxConfigBytes bounds one configuration, encoded as JSON.
	MaxConfigBytes = 512 << 10
	// MaxSnapshotBytes bounds one environment's snapshot (every flag with its
	// configuration), encoded as JSON: what Redis holds and every evaluator compiles.
	// At every limit at once (eval's BenchmarkLimits) an evaluator holds 230 MiB while
	// compiling it, in a quarter of a second; 10,000 flags of 1.5 KiB fit.
	MaxSnapshotBytes = 32 << 20

	// MaxInputBytes is the longest context string the engine's operators look at; a
	// longer one matches none of them but exists and not_exists, as a value of the wrong
	// type does (negated operators included).
	MaxInputBytes = 4096
	// MaxInputListLen is the most elements of a list attribute an operator looks at; a
	// longer list matches no operator but exists and not_exists.
	MaxInputListLen = 100

	// MaxContextBytes bounds an evaluation context the admin's playground explains,
	// encoded as JSON: what the evaluator's default MAX_BODY_BYTES lets a client send.
	MaxContextBytes = 256 << 10
	// MaxEvaluationBuckets bounds the buckets of one evaluation series: a month by
	// the hour, two years by the day.
	MaxEvaluationBuckets = 744
)
