package ui

import (
	"net/http"
	"strings"
)

// part is a piece of a sentence; Strong pieces are the names that matter ("Turn
// new-checkout off in production").
type part struct {
	Text   string
	Strong bool
}

// b marks a piece strong.
func b(s string) part { return part{Text: s, Strong: true} }

// sentence joins strings and strong pieces.
func sentence(pieces ...any) []part {
	out := make([]part, 0, len(pieces))
	for _, p := range pieces {
		switch x := p.(type) {
		case part:
			out = append(out, x)
		case string:
			out = append(out, part{Text: x})
		}
	}
	return out
}

// plain is a sentence as text, for a dialog's data-confirm.
func plain(ps []part) string {
	var sb strings.Builder
	for _, p := range ps {
		sb.WriteString(p.Text)
	}
	return sb.String()
}

type confirmPage struct {
	*layout
	Question []part
	Detail   string
	Action   string
	Fields   [][2]string
	Button   string
	Danger   bool
	Back     string
}

// confirmed reports whether a destructive or protected change was confirmed: by the
// dialog (with JavaScript) or the confirmation page (without), both of which post
// confirm=yes.
func (r *request) confirmed() bool { return r.form().Get("confirm") == "yes" }

// confirm answers a change that needs a deliberate click with a page that says
// exactly what will happen and posts the same form again, confirmed. keep names the
// posted fields it carries over.
func (r *request) confirm(title string, q []part, button string, danger bool, back string, keep ...string) error {
	p := &confirmPage{layout: r.bare(title), Question: q, Action: r.Request().URL.EscapedPath(), Button: button, Danger: danger,
		Back: localPath(back)}
	for _, k := range keep {
		for _, v := range r.form()[k] {
			p.Fields = append(p.Fields, [2]string{k, v})
		}
	}
	return r.h.render(r, http.StatusOK, "confirm", p)
}
