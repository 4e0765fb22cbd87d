package validate

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
)

// MinVariants is the least number of variants a non-boolean flag has: one to serve when
// the flag is off and at least one other.
const MinVariants = 2

// Flag validates a flag definition. A boolean flag has exactly the variants on (true)
// and off (false); call domain.Flag.Normalize first to fill them in.
func Flag(f domain.Flag) error {
	var ps problems
	ps.structural("", f)
	ps.variants(f)
	seen := map[string]bool{}
	for i, t := range f.Tags {
		if seen[t] {
			ps.add(at("tags", i, ""), "duplicate tag %q", t)
		}
		seen[t] = true
	}
	return ps.err("flag")
}

func (ps *problems) variants(f domain.Flag) {
	if f.Kind == domain.KindBoolean {
		if !booleanVariants(f.Variants) {
			ps.add("variants", `a boolean flag has exactly the variants "on" (true) and "off" (false)`)
		}
		return
	}
	if !slices.Contains(domain.Kinds, f.Kind) {
		return // reported by the struct rules; value types cannot be checked
	}
	if len(f.Variants) < MinVariants {
		ps.add("variants", "a %s flag needs at least %d variants", f.Kind, MinVariants)
	}
	if n := len(f.Variants); n > domain.MaxVariants {
		ps.overLimit("variants", n, domain.MaxVariants, "variants per flag", "MaxVariants")
	}
	seen := map[string]bool{}
	for i, v := range f.Variants {
		if v.Key != "" && seen[v.Key] {
			ps.add(at("variants", i, "key"), "duplicate variant %q", v.Key)
		}
		seen[v.Key] = true
		if msg := valueProblem(f.Kind, v.Value); msg != "" {
			ps.add(at("variants", i, "value"), "%s", msg)
		} else if n := encodedSize(v.Value); n > domain.MaxVariantValueBytes {
			ps.overLimit(at("variants", i, "value"), n, domain.MaxVariantValueBytes, "bytes per variant value encoded as JSON", "MaxVariantValueBytes")
		}
	}
}

func booleanVariants(vs []domain.Variant) bool {
	if len(vs) != 2 {
		return false
	}
	var on, off bool
	for _, v := range vs {
		switch {
		case v.Key == domain.VariantOn && v.Value == true:
			on = true
		case v.Key == domain.VariantOff && v.Value == false:
			off = true
		}
	}
	return on && off
}

// valueProblem says what is wrong with a variant value for the flag kind, or "".
func valueProblem(k domain.Kind, v any) string {
	if v == nil {
		return "is required"
	}
	switch k {
	case domain.KindString:
		if _, ok := v.(string); !ok {
			return "must be a string (the flag's kind is string)"
		}
	case domain.KindNumber:
		f, ok := domain.Number(v)
		if !ok {
			return "must be a number (the flag's kind is number)"
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "must be a finite number"
		}
	case domain.KindJSON:
		if _, err := json.Marshal(v); err != nil {
			return "must be a JSON value"
		}
	}
	return ""
}

// Config validates a flag's configuration in one environment, limits of package domain
// included. env holds flags of that environment with their current configurations (it
// may include f itself, whose entry is ignored); it resolves prerequisites, finds
// cycles through them and measures the longest prerequisite chain through f. For that
// env must hold every flag f's new prerequisites reach and every flag that reaches f
// (its dependents), at any depth: a flag missing from env counts as having neither
// prerequisites nor dependents.
func Config(f domain.Flag, c domain.Config, env map[string]domain.FlagConfig) error {
	var ps problems
	ps.structural("", c)
	ps.counts(c)
	variants := variantKeys(f)
	var regexes domain.RegexTally

	if c.OffVariant != "" && !slices.Contains(variants, c.OffVariant) {
		ps.add("off_variant", "unknown variant %q (the flag has %s)", c.OffVariant, strings.Join(variants, ", "))
	}
	ps.serve("default", c.Default, variants)

	ids := map[string]int{}
	for i, r := range c.Rules {
		if j, dup := ids[r.ID]; dup && r.ID != "" {
			ps.add(at("rules", i, "id"), "duplicate rule id %q (also rules[%d])", r.ID, j)
		} else {
			ids[r.ID] = i
		}
		for j, cond := range r.Conditions {
			ps.condition(at(at("rules", i, "conditions"), j, ""), cond, &regexes)
		}
		ps.serve(at("rules", i, "serve"), r.Serve, variants)
	}
	if !ps.prerequisites(f, c, env) {
		ps.depth(f, c, env) // a cycle has no depth; it is reported as a cycle
	}
	return ps.err("configuration")
}

func variantKeys(f domain.Flag) []string {
	keys := make([]string, len(f.Variants))
	for i, v := range f.Variants {
		keys[i] = v.Key
	}
	return keys
}

func (ps *problems) serve(path string, s domain.Serve, variants []string) {
	switch {
	case s.Variant != "" && s.Rollout != nil:
		ps.add(path, "set either variant or rollout, not both")
		return
	case s.Variant == "" && s.Rollout == nil:
		ps.add(path, "set variant or rollout")
		return
	case s.Variant != "":
		if !slices.Contains(variants, s.Variant) {
			ps.add(path+".variant", "unknown variant %q (the flag has %s)", s.Variant, strings.Join(variants, ", "))
		}
		return
	}
	path += ".rollout"
	if len(s.Rollout.Weights) == 0 {
		ps.add(path+".weights", "is required: a weight per variant, summing to 100")
	}
	keys := make([]string, 0, len(s.Rollout.Weights))
	for k := range s.Rollout.Weights {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sum int64
	valid := true
	for _, k := range keys {
		w := s.Rollout.Weights[k]
		field := path + ".weights." + k
		if !slices.Contains(variants, k) {
			ps.add(field, "unknown variant %q (the flag has %s)", k, strings.Join(variants, ", "))
			valid = false
			continue
		}
		if math.IsNaN(w) || w < 0 || w > 100 {
			ps.add(field, "must be between 0 and 100")
			valid = false
			continue
		}
		t, ok := domain.WeightUnits(w)
		if !ok {
			ps.add(field, "must have at most three decimals")
			valid = false
			continue
		}
		sum += t
	}
	if valid && len(keys) > 0 && sum != domain.WeightScale {
		ps.add(path+".weights", "must sum to 100 (they sum to %s)", formatThousandths(sum))
	}
	if s.Rollout.BucketBy != "" {
		if msg := attributeProblem(s.Rollout.BucketBy); msg != "" {
			ps.add(path+".bucket_by", "%s", msg)
		}
	}
}

func formatThousandths(t int64) string {
	s := fmt.Sprintf("%d.%03d", t/1000, t%1000)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// MaxAttributeLen bounds attribute names and paths.
const MaxAttributeLen = 256

// attributeProblem checks an attribute name or dotted path.
func attributeProblem(a string) string {
	if a == "" {
		return "is required"
	}
	if len(a) > MaxAttributeLen {
		return fmt.Sprintf("must be at most %d characters", MaxAttributeLen)
	}
	for _, seg := range strings.Split(a, ".") {
		if seg == "" {
			return "must be a name or a dotted path without empty segments (company.plan)"
		}
	}
	for _, r := range a {
		if r <= ' ' || r == 0x7f {
			return "must not contain spaces or control characters"
		}
	}
	return ""
}

// prerequisites checks c's prerequisites, reporting whether one closes a cycle.
func (ps *problems) prerequisites(f domain.Flag, c domain.Config, env map[string]domain.FlagConfig) (cyclic bool) {
	seen := map[string]bool{}
	for i, p := range c.Prerequisites {
		field := at("prerequisites", i, "flag")
		if p.Flag == "" {
			continue // reported by the struct rules
		}
		if p.Flag == f.Key {
			ps.add(field, "a flag cannot be its own prerequisite")
			continue
		}
		if seen[p.Flag] {
			ps.add(field, "duplicate prerequisite %q", p.Flag)
			continue
		}
		seen[p.Flag] = true
		other, ok := env[p.Flag]
		switch {
		case !ok:
			ps.add(field, "unknown flag %q", p.Flag)
			continue
		case other.Flag.Archived:
			ps.add(field, "flag %q is archived", p.Flag)
			continue
		}
		if p.Variant != "" {
			if _, ok := other.Flag.Variant(p.Variant); !ok {
				ps.add(at("prerequisites", i, "variant"), "unknown variant %q of flag %q (it has %s)",
					p.Variant, p.Flag, strings.Join(variantKeys(other.Flag), ", "))
			}
		}
		if path := cyclePath(f.Key, p.Flag, env); path != nil {
			ps.add(field, "creates a prerequisite cycle: %s", strings.Join(append([]string{f.Key}, path...), " → "))
			cyclic = true
		}
	}
	return cyclic
}

// cyclePath returns the prerequisite chain from start back to target (start first,
// target last), or nil when target is not reachable from start. It visits each flag
// once, and builds the chain once found: a stored chain may be thousands of flags long.
func cyclePath(target, start string, env map[string]domain.FlagConfig) []string {
	visited := map[string]bool{}
	var path []string // from target back to start, once found
	var walk func(key string) bool
	walk = func(key string) bool {
		if key == target {
			path = append(path, key)
			return true
		}
		if visited[key] {
			return false
		}
		visited[key] = true
		fc, ok := env[key]
		if !ok {
			return false
		}
		for _, p := range fc.Config.Prerequisites {
			if walk(p.Flag) {
				path = append(path, key)
				return true
			}
		}
		return false
	}
	if !walk(start) {
		return nil
	}
	slices.Reverse(path)
	return path
}
