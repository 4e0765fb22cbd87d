package validate

import (
	"encoding/json"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
)

// overLimit reports a count or size over one of the limits of package domain, naming
// the limit so that a person can look it up in the README.
func (ps *problems) overLimit(field string, got, limit int, what, name string) {
	ps.add(field, "at most %d %s (it has %d; the limit is %s)", limit, what, got, name)
}

// counts checks a configuration's sizes against the limits of package domain.
func (ps *problems) counts(c domain.Config) {
	if n := len(c.Rules); n > domain.MaxRules {
		ps.overLimit("rules", n, domain.MaxRules, "rules per configuration", "MaxRules")
	}
	values := 0
	for i, r := range c.Rules {
		if n := len(r.Conditions); n > domain.MaxConditions {
			ps.overLimit(at("rules", i, "conditions"), n, domain.MaxConditions, "conditions per rule", "MaxConditions")
		}
		for _, cond := range r.Conditions {
			values += len(cond.Values)
		}
	}
	if values > domain.MaxConfigValues {
		ps.overLimit("rules", values, domain.MaxConfigValues, "condition values per configuration, all rules together", "MaxConfigValues")
	}
	if n := len(c.Prerequisites); n > domain.MaxPrerequisites {
		ps.overLimit("prerequisites", n, domain.MaxPrerequisites, "prerequisites per configuration", "MaxPrerequisites")
	}
	// Rules hold everything in a configuration that can grow large (values,
	// descriptions), so the size is reported there.
	if n := encodedSize(c); n > domain.MaxConfigBytes {
		ps.overLimit("rules", n, domain.MaxConfigBytes, "bytes per configuration encoded as JSON", "MaxConfigBytes")
	}
}

// regex checks one matches pattern, whose text is already known to be within
// MaxRegexBytes, with the tally of the configuration's distinct patterns.
func (ps *problems) regex(field, pattern string, t *domain.RegexTally) {
	size, first := t.Measure(pattern)
	switch {
	case !first:
		return
	case size.Err != nil:
		ps.add(field, "does not compile: %s", strings.TrimPrefix(size.Err.Error(), "error parsing regexp: "))
	case size.Over:
		ps.regexTotals("rules", t)
	case size.Instructions > domain.MaxRegexInstructions:
		about := ""
		if !size.Exact {
			about = "about "
		}
		ps.add(field, "compiles to %s%d RE2 instructions, more than %d (the limit is MaxRegexInstructions); "+
			"a counted repetition such as {100} multiplies the size of what it repeats", about, size.Instructions, domain.MaxRegexInstructions)
	}
}

// regexTotals reports the totals of a tally that are over their limits.
func (ps *problems) regexTotals(field string, t *domain.RegexTally) {
	if t.Bytes > domain.MaxSnapshotRegexBytes {
		ps.add(field, "at most %d bytes of matches patterns per environment, all distinct patterns together "+
			"(the limit is MaxSnapshotRegexBytes); the patterns after that were not checked", domain.MaxSnapshotRegexBytes)
	}
	if t.Instructions > domain.MaxSnapshotRegexInstructions {
		ps.add(field, "at most %d RE2 instructions per environment, all distinct matches patterns together "+
			"(the limit is MaxSnapshotRegexInstructions); the patterns after that were not checked", domain.MaxSnapshotRegexInstructions)
	}
}

// Snapshot checks what no single configuration shows: the flags of one environment
// together, as an evaluator compiles them (archived flags are not part of a
// snapshot and are skipped). The admin service calls it with the snapshot a write would
// produce. It costs about what encoding the snapshot and compiling its distinct
// patterns cost: a few hundred milliseconds at the limits.
func Snapshot(s domain.Snapshot) error {
	var ps problems
	live, variantBytes := 0, 0
	var t domain.RegexTally
	for _, fc := range s.Flags {
		if fc.Flag.Archived {
			continue
		}
		live++
		for _, v := range fc.Flag.Variants {
			variantBytes += encodedSize(v.Value)
		}
		for _, r := range fc.Config.Rules {
			for _, c := range r.Conditions {
				if c.Operator == domain.OpMatches && len(c.Values) == 1 {
					if p, ok := c.Values[0].(string); ok && len(p) <= domain.MaxRegexBytes {
						t.Measure(p)
					}
				}
			}
		}
	}
	if live > domain.MaxFlagsPerProject {
		ps.overLimit("flags", live, domain.MaxFlagsPerProject, "flags per environment", "MaxFlagsPerProject")
	}
	if variantBytes > domain.MaxSnapshotVariantBytes {
		ps.overLimit("flags", variantBytes, domain.MaxSnapshotVariantBytes,
			"bytes of variant values per environment, every flag's values encoded as JSON", "MaxSnapshotVariantBytes")
	}
	ps.regexTotals("flags", &t)
	if n := encodedSize(s); n > domain.MaxSnapshotBytes {
		ps.overLimit("flags", n, domain.MaxSnapshotBytes, "bytes per environment, every flag and configuration encoded as JSON", "MaxSnapshotBytes")
	}
	return ps.err("environment")
}

// encodedSize is the length of v encoded as JSON, without holding the encoding.
func encodedSize(v any) int {
	var c counter
	if err := json.NewEncoder(&c).Encode(v); err != nil {
		return 0 // a value JSON cannot hold is reported where it is checked
	}
	return c.n - 1 // Encode ends with a newline
}

type counter struct{ n int }

func (c *counter) Write(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}
