package eval

import (
	"fmt"

	"github.com/switchyard/switchyard/pkg/domain"
)

// link orders the flags so that each comes after its prerequisites, marks broken every
// flag on a prerequisite cycle and every flag whose chain of prerequisites is deeper
// than domain.MaxPrerequisiteDepth, and drops the prerequisites of broken flags. What
// remains is acyclic and shallow, so that evaluating a flag alone recurses a bounded
// depth. Validation rejects cycles and deep chains; this keeps evaluation finite and
// cheap whatever the store holds.
//
// One depth-first walk does it all, without recursion (a stored chain may be thousands
// of flags long), in time linear in flags and prerequisites: compiling used to plan
// each flag's transitive prerequisites, quadratic in a chain's length.
func (s *Snapshot) link() {
	const (
		white = iota // not reached yet
		grey         // on the walk's path
		black        // done
	)
	n := len(s.flags)
	color := make([]uint8, n)
	cyclic := make([]bool, n)
	depth := make([]int, n) // the longest chain of prerequisites below each flag
	at := make([]int, n)    // a grey flag's position in path
	type frame struct{ flag, next int }
	var path []frame
	s.order = make([]int, 0, n)
	for root := range s.flags {
		if color[root] != white {
			continue
		}
		color[root], at[root] = grey, 0
		path = append(path[:0], frame{flag: root})
		for len(path) > 0 {
			top := &path[len(path)-1]
			f := &s.flags[top.flag]
			if top.next < len(f.prereqs) {
				p := f.prereqs[top.next].flag
				top.next++
				switch {
				case p < 0:
				case color[p] == white:
					color[p], at[p] = grey, len(path)
					path = append(path, frame{flag: p})
				case color[p] == grey:
					// Every flag on the path from p to here is on the cycle.
					for _, fr := range path[at[p]:] {
						cyclic[fr.flag] = true
					}
				}
				continue
			}
			d := 0
			if !cyclic[top.flag] {
				for _, p := range f.prereqs {
					if p.flag >= 0 {
						d = max(d, depth[p.flag]+1) // a cyclic flag ends a chain: its depth is 0
					}
				}
			}
			depth[top.flag], color[top.flag] = d, black
			s.order = append(s.order, top.flag)
			path = path[:len(path)-1]
		}
	}
	for i := range s.flags {
		f := &s.flags[i]
		switch {
		case f.broken != "":
		case cyclic[i]:
			f.broken = "prerequisite cycle"
			s.problems = append(s.problems, fmt.Errorf("flag %q: on a prerequisite cycle", f.key))
		case depth[i] > domain.MaxPrerequisiteDepth:
			f.broken = fmt.Sprintf("prerequisite chain of depth %d", depth[i])
			s.problems = append(s.problems, fmt.Errorf("flag %q: a chain of prerequisites of depth %d, deeper than %d (MaxPrerequisiteDepth)",
				f.key, depth[i], domain.MaxPrerequisiteDepth))
		}
		if f.broken != "" {
			f.prereqs = nil
		}
	}
}
