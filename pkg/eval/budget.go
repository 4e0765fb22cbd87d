package eval

// DefaultBudget is the work one call of Evaluate, EvaluateAll or EvaluateKeys may do,
// in budget units. A unit is about a nanosecond of the slowest work each operator can
// be given, measured on a 2-core Xeon VM (BenchmarkBudget: 0.2 to 1.1 ns a unit across
// long patterns, contains, number lists, deep paths and prerequisites); for a regular
// expression that is far more than typical input takes. So a hostile snapshot and
// context cost at most about 50 ms of CPU per call, while bulk evaluation of
// domain.MaxFlagsPerProject ordinary flags (three rules of three conditions and a
// rollout) uses 3 million units, and of as many benchFlags (ten rules, one pattern
// each) 18 million.
const DefaultBudget int64 = 50_000_000

// Costs in budget units.
const (
	costFlag         = 20 // looking at a flag at all: its state, its result
	costPrerequisite = 30 // finding and checking one prerequisite's result
	costCondition    = 10 // dispatching the operator on a resolved attribute
	costResolve      = 40 // one map lookup finding an attribute, per segment of its path
	costElement      = 15 // one element of a list attribute
	costNumberText   = 80 // rendering a number as text, for eq and in
	costRollout      = 50 // the bucketing hash, plus a unit per 8 bytes of key
	// costRegexInstByte is matching a regular expression, per instruction of its program
	// and byte of input: the slowest patterns keep every instruction live at every byte
	// (measured at 5.5 to 6.9 ns).
	costRegexInstByte = 7
	// costRegexCall is setting up a match, whatever the input.
	costRegexCall = 80
)

// WithBudget returns a copy of s whose evaluation calls may each do units of work
// (DefaultBudget when units is not positive). A call that runs out answers ERROR with
// error code GENERAL and MessageBudget for every flag it had not finished, and does no
// more work. The copy shares everything else with s.
func (s *Snapshot) WithBudget(units int64) *Snapshot {
	c := *s
	c.budget = units
	if units <= 0 {
		c.budget = DefaultBudget
	}
	return &c
}

// Budget returns the work one evaluation call may do, in units.
func (s *Snapshot) Budget() int64 { return s.budget }

// budget is what remains of an evaluation's budget; below zero the evaluation is over.
type budget int64

// spend takes n units from the budget, reporting whether they were there. Once it has
// reported false it always does.
func (b *budget) spend(n int64) bool {
	*b -= budget(n)
	return *b >= 0
}

func (b budget) spent() bool { return b < 0 }

func (ac *attrCache) spend(n int64) bool { return ac.left.spend(n) }
