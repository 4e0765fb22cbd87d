package validate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
)

// chains measures prerequisite chains through one flag whose configuration is being
// replaced. Each walk is memoised, so a measure costs time linear in the flags and
// prerequisites of env however they share prerequisites (diamonds included).
type chains struct {
	self  string
	new   []domain.Prerequisite // self's prerequisites once replaced
	env   map[string]domain.FlagConfig
	users map[string][]string // flag → the flags in env that require it
	down  walk                // longest chain below a flag
	up    walk                // longest chain of flags above it
}

// walk memoises the longest chain from each flag in one direction: its length in
// prerequisites and the next flag on it.
type walk struct {
	length map[string]int
	next   map[string]string
	busy   map[string]bool // on the current path: a cycle, reported elsewhere, ends it
}

func newWalk() walk {
	return walk{length: map[string]int{}, next: map[string]string{}, busy: map[string]bool{}}
}

// counts reports whether the engine follows a prerequisite on key: unknown and archived
// flags are not in a snapshot, so a chain ends there.
func (c *chains) counts(key string) bool {
	if key == c.self {
		return true
	}
	fc, ok := c.env[key]
	return ok && !fc.Flag.Archived
}

func (c *chains) prerequisites(key string) []domain.Prerequisite {
	if key == c.self {
		return c.new
	}
	return c.env[key].Config.Prerequisites
}

// longest returns the longest chain from key in w's direction, the flags next to a flag
// given by step.
func (w *walk) longest(key string, step func(string) []string) int {
	if n, ok := w.length[key]; ok {
		return n
	}
	if w.busy[key] {
		return 0
	}
	w.busy[key] = true
	best, next := 0, ""
	for _, k := range step(key) {
		if n := 1 + w.longest(k, step); n > best {
			best, next = n, k
		}
	}
	delete(w.busy, key)
	w.length[key], w.next[key] = best, next
	return best
}

func (c *chains) below(key string) []string {
	var out []string
	for _, p := range c.prerequisites(key) {
		if p.Flag != key && c.counts(p.Flag) {
			out = append(out, p.Flag)
		}
	}
	return out
}

func (c *chains) above(key string) []string { return c.users[key] }

// depth reports a prerequisite chain through f deeper than the engine evaluates once c
// replaces f's configuration: the longest chain of dependents that reach f plus the
// longest chain down from f. A new prerequisite can deepen the chains of flags that
// require f, which is why both directions count.
func (ps *problems) depth(f domain.Flag, c domain.Config, env map[string]domain.FlagConfig) {
	ch := &chains{self: f.Key, new: c.Prerequisites, env: env, users: map[string][]string{},
		down: newWalk(), up: newWalk()}
	for key, fc := range env {
		if key == f.Key || fc.Flag.Archived {
			continue // f's stored prerequisites are being replaced
		}
		for _, p := range fc.Config.Prerequisites {
			if p.Flag != key {
				ch.users[p.Flag] = append(ch.users[p.Flag], key)
			}
		}
	}
	for _, users := range ch.users {
		slices.Sort(users) // the chain reported does not depend on map order
	}
	down := ch.down.longest(f.Key, ch.below)
	up := ch.up.longest(f.Key, ch.above)
	if up+down <= domain.MaxPrerequisiteDepth {
		return
	}
	// The chain, from the flag at its top down to the one at its bottom.
	// A cycle elsewhere in env (stored before validation caught it) must not loop here.
	var chain []string
	seen := map[string]bool{}
	for k := f.Key; k != "" && !seen[k]; k = ch.up.next[k] {
		chain, seen[k] = append(chain, k), true
	}
	slices.Reverse(chain)
	for k := ch.down.next[f.Key]; k != "" && !seen[k]; k = ch.down.next[k] {
		chain, seen[k] = append(chain, k), true
	}
	ps.add("prerequisites", "make a prerequisite chain of depth %d, deeper than %d (the limit is MaxPrerequisiteDepth): %s",
		up+down, domain.MaxPrerequisiteDepth, showChain(chain))
}

// showChain writes a chain of flag keys, eliding the middle of a long one.
func showChain(keys []string) string {
	const ends = 4
	if len(keys) > 2*ends+1 {
		return fmt.Sprintf("%s → … (%d more) … → %s", strings.Join(keys[:ends], " → "),
			len(keys)-2*ends, strings.Join(keys[len(keys)-ends:], " → "))
	}
	return strings.Join(keys, " → ")
}
