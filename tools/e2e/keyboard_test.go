package e2e

import (
	"fmt"
	"testing"

	"github.com/switchyard/switchyard/pkg/testinfra/browser"
)

// focusIs reports whether the focused element matches the CSS selector.
func focusIs(p *browser.Page, sel string) bool {
	return js[bool](p, fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%s)`, jsQuote(sel)))
}

// tabTo presses Tab until the element matching sel has the focus, at most max times.
func tabTo(t *testing.T, p *browser.Page, sel string, max int) {
	t.Helper()
	var seen []string
	for range max {
		if focusIs(p, sel) {
			return
		}
		p.Press(browser.Tab)
		seen = append(seen, p.Focused())
	}
	t.Logf("focus went through %v", seen)
	if !focusIs(p, sel) {
		t.Fatalf("%d presses of Tab never reached %s; the focus is on %s", max, sel, p.Focused())
	}
}

// TestKeyboardOnly: the on-call engineer's flow with the keyboard alone: sign in, find
// the flag with "/", turn it on in protected production through the confirmation
// (whose focus starts on Cancel), and see the change saved. Focus is visible on every
// control reached (an outline or a box shadow).
func TestKeyboardOnly(t *testing.T) {
	t.Parallel()
	s := newStack(t, false)
	s.member(ada, "Ada Lovelace", "admin")
	s.flag(map[string]any{"key": "new-checkout", "kind": "boolean", "name": "New checkout"})
	s.flag(map[string]any{"key": "dark-mode", "kind": "boolean", "name": "Dark mode"})
	p := s.page()

	p.Go("/login")
	tabTo(t, p, "#email", 10)
	p.Press(ada)
	p.Press(browser.Tab)
	if !focusIs(p, "#password") {
		t.Fatalf("Tab from the email went to %s, want the password", p.Focused())
	}
	p.Press(password)
	p.Press(browser.Enter)
	p.WaitText("main h1", "Flags")
	p.WaitVisible("[data-shortcuts]") // shown by the script once its keys listen

	// "/" focuses the search; typing filters the list (server-side, as you type).
	p.Press("/")
	if !focusIs(p, "#q") {
		t.Fatalf(`"/" focused %s, want the search box`, p.Focused())
	}
	// (DevTools delivers a key's character apart from its keydown, so the "/" the
	// page's keydown handler declined still lands in the box here, as it would not
	// in a browser; Fill replaces the box's text by keystrokes.)
	p.Fill("#q", "dark")
	p.WaitGone(`button.sw[value="production 1 new-checkout"]`)

	sw := `button.sw[value="production 1 dark-mode"]`
	tabTo(t, p, sw, 60)
	visible := js[bool](p, `(() => { const s = getComputedStyle(document.activeElement);
		return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none"; })()`)
	if !visible {
		t.Error("the focused switch shows no focus ring")
	}
	p.Press(browser.Enter)
	p.WaitVisible("#confirm[open]")
	if !focusIs(p, "#confirm [data-cancel]") {
		t.Errorf("the confirmation opened with the focus on %s, want Cancel (the safe choice)", p.Focused())
	}
	tabTo(t, p, "#confirm [data-ok]", 5)
	p.Press(browser.Enter)
	flash(p, "dark-mode is on in production.")
	if c := s.config("dark-mode", "production"); !c.Enabled {
		t.Errorf("after the keyboard toggle production is %+v, want enabled", c)
	}
	if c := s.config("new-checkout", "production"); c.Enabled {
		t.Error("the other flag was turned on too")
	}
}
