package main

import (
	"fmt"
	"io"
)

// target is one line of the targets: what was measured against what goal.
type target struct {
	what, got, goal string
	ok, measured    bool
}

// targets collects the verdicts of a run, printed together at the end.
type targets struct{ list []target }

func (t *targets) add(what string, ok bool, got, goal string) {
	t.list = append(t.list, target{what: what, got: got, goal: goal, ok: ok, measured: true})
}

// unmeasured records a target this run could not measure, and why.
func (t *targets) unmeasured(what, goal, why string) {
	t.list = append(t.list, target{what: what, got: why, goal: goal})
}

func (t *targets) print(w io.Writer) {
	met := 0
	fmt.Fprintln(w, "## Targets")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | measured | goal | verdict |\n|---|---|---|---|")
	for _, x := range t.list {
		verdict := "**missed**"
		switch {
		case !x.measured:
			verdict = "not measured"
		case x.ok:
			verdict = "met"
			met++
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", x.what, x.got, x.goal, verdict)
	}
	fmt.Fprintf(w, "\n%d of %d targets met.\n\n", met, len(t.list))
}
