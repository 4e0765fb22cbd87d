package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/switchyard/switchyard/pkg/testinfra/browser"
)

// The people of the tests, by email: the dashboard and the audit trail name users so.
const (
	ada   = "ada@example.com"   // Ada Lovelace, admin of the project
	grace = "grace@example.com" // Grace Hopper, developer
	vic   = "vic@example.com"   // Victor Viewer, viewer
)

const xss = `<img src=x onerror=alert(1)>`

// js evaluates an expression in the page and returns its value.
func js[T any](p *browser.Page, expr string) T {
	var v T
	p.Eval(expr, &v)
	return v
}

// demoFlags fills the project with flags of every kind, for the list.
func (s *stack) demoFlags() {
	s.t.Helper()
	s.flag(map[string]any{"key": "new-checkout", "kind": "boolean", "name": "New checkout",
		"description": "The one-page checkout", "tags": []string{"checkout", "web"}})
	s.flag(map[string]any{"key": "dark-mode", "kind": "boolean", "name": "Dark mode", "tags": []string{"ui"}})
	s.flag(map[string]any{"key": "search-ranking", "kind": "string", "name": "Search ranking", "tags": []string{"search"},
		"variants": []map[string]any{{"key": "classic", "value": "classic"}, {"key": "semantic", "value": "semantic"}}})
	s.flag(map[string]any{"key": "upload-limit-mb", "kind": "number", "name": "Upload limit (MB)", "tags": []string{"uploads"},
		"variants": []map[string]any{{"key": "small", "value": 10}, {"key": "large", "value": 100}}})
	s.flag(map[string]any{"key": "legacy-banner", "kind": "boolean", "name": "Legacy banner", "tags": []string{"ui"}})
	s.configure(nil, "new-checkout", "development", map[string]any{"enabled": true, "off_variant": "off",
		"rules": []map[string]any{{"id": "staff", "conditions": []map[string]any{
			{"attribute": "email", "operator": "ends_with", "values": []string{"@example.com"}}}, "serve": map[string]any{"variant": "on"}}},
		"default": map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 20, "off": 80}}}})
	for _, env := range []string{"development", "staging", "production"} {
		s.api.Must(http.StatusOK, "POST", flagPath("dark-mode", env)+"/toggle", map[string]any{"enabled": true})
	}
	s.api.Must(http.StatusOK, "POST", flagPath("new-checkout", "staging")+"/toggle", map[string]any{"enabled": true})
	s.api.Must(http.StatusOK, "POST", flagPath("search-ranking", "development")+"/toggle", map[string]any{"enabled": true})
	s.api.Must(http.StatusOK, "POST", "/api/v1/projects/"+project+"/flags/legacy-banner/kill", nil)
}

// 1. Signing in with email and password opens the flag list.
func TestSignIn(t *testing.T) {
	t.Parallel()
	s := newStack(t, false)
	s.member(ada, "Ada Lovelace", "admin")
	s.demoFlags()
	p := s.page()

	// A page that needs a session sends to the sign-in form, remembering where to go.
	p.Go("/projects/" + project + "/flags")
	p.WaitVisible("#email")
	if u := p.URL(); !strings.Contains(u, "/login?next=%2Fprojects%2Fshop%2Fflags") {
		t.Errorf("without a session, the flag list sent to %s, want the sign-in page with next=", u)
	}
	p.Fill("#email", ada)
	screenshot(t, p, "login", "")

	// A wrong password: the form says so, keeps the email and signs no one in.
	p.Allow(browser.Log, "status of 401")
	p.Fill("#password", "not the password")
	p.Click(`form[action="/login"] button[type=submit]`)
	p.WaitText("p.error", "Wrong email or password")
	if got := js[string](p, `document.getElementById("email").value`); got != ada {
		t.Errorf("after a failed sign-in the email field holds %q, want %q", got, ada)
	}
	if got := js[bool](p, `!!document.querySelector("nav.rail")`); got {
		t.Error("a wrong password shows the signed-in layout")
	}

	p.Fill("#password", password)
	p.Click(`form[action="/login"] button[type=submit]`)
	p.WaitVisible("table.flags")
	if u := p.URL(); u != s.URL+"/projects/shop/flags" {
		t.Errorf("after signing in: %s, want the page asked for first", u)
	}
	if got := p.Text("main h1"); got != "Flags" {
		t.Errorf("heading %q, want Flags", got)
	}
	if got := p.Text("nav.rail .who"); got != ada {
		t.Errorf("signed in as %q, want %q", got, ada)
	}
	if got := p.Text("nav.rail .role"); got != "Role: admin" {
		t.Errorf("role %q, want admin", got)
	}
	keys := js[[]string](p, `[...document.querySelectorAll("table.flags a.key")].map((a) => a.textContent)`)
	slices.Sort(keys)
	if want := []string{"dark-mode", "legacy-banner", "new-checkout", "search-ranking", "upload-limit-mb"}; !slices.Equal(keys, want) {
		t.Errorf("the list shows %q, want %q", keys, want)
	}
	if got := js[string](p, `[...document.querySelectorAll("table.flags tr")].find((r) => r.querySelector("a.key")?.textContent === "legacy-banner")?.querySelector(".killed")?.textContent ?? ""`); got != "KILLED" {
		t.Errorf("the killed flag's row says %q, want KILLED in words", got)
	}
	if got := js[string](p, `document.querySelector('button.sw[value$=" dark-mode"][value^="production "]').getAttribute("aria-pressed")`); got != "true" {
		t.Errorf("dark-mode's production switch: aria-pressed %q, want true", got)
	}
	if got := p.Text("table.flags thead"); !strings.Contains(got, "protected") {
		t.Errorf("the columns %q do not mark production protected", got)
	}

	// The session: an HttpOnly, SameSite=Lax cookie no script can read, which the
	// server knows as Ada's.
	ck := s.sessionCookie(p)
	if !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteLax {
		t.Errorf("session cookie: HttpOnly %v, SameSite %q; want HttpOnly and Lax", ck.HTTPOnly, ck.SameSite)
	}
	if got := js[string](p, `document.cookie`); strings.Contains(got, "sy_session") {
		t.Errorf("a script reads the session cookie: %q", got)
	}
	var me struct {
		User struct{ Email string }
	}
	decode(t, s.api.Must(http.StatusOK, "GET", "/api/v1/auth/me", nil, "Authorization", "Bearer "+ck.Value), &me)
	if me.User.Email != ada {
		t.Errorf("the server knows the session as %q, want %q", me.User.Email, ada)
	}
	screenshot(t, p, "flags", "")

	// Settings, from the rail: the environments, production protected.
	p.Click(`nav.rail a[data-key="s"]`)
	p.WaitText("main h1", "Settings")
	rows := js[[]string](p, `[...document.querySelectorAll("main table tbody tr")].map((r) => r.innerText.replace(/\s+/g, " ").trim())`)
	slices.Sort(rows)
	if len(rows) != 3 || !strings.HasPrefix(rows[0], "development Development unprotected") ||
		!strings.HasPrefix(rows[1], "production Production protected: changes need admin") || !strings.HasPrefix(rows[2], "staging Staging unprotected") {
		t.Errorf("settings list the environments %q, want three, production protected", rows)
	}
	screenshot(t, p, "settings", "")
}

// 2. A flag created through the form exists, off everywhere, created by the user.
func TestCreateFlag(t *testing.T) {
	t.Parallel()
	s := newStack(t, false)
	s.member(ada, "Ada Lovelace", "admin")
	p := s.page()
	s.signIn(p, ada)

	p.WaitText("main .empty", "No flags yet")
	p.Click(`main a.button[href$="/new-flag"]`)
	p.WaitText("main h1", "New flag")
	p.Fill("#key", "one-click-buy")
	p.Click(`label[for="kind-boolean"]`)
	p.Fill("#name", "One-click buy")
	p.Fill("#description", "Buy with one click from the product page")
	p.Fill("#tags", "checkout, mobile")
	p.Click(`button[name="op"][value="save"]`)

	flash(p, "one-click-buy created")
	if got := p.Text("main h1.key"); got != "one-click-buy" {
		t.Errorf("the flag page's heading is %q", got)
	}
	if got := p.Text(".flag-head .name"); got != "One-click buy" {
		t.Errorf("the flag page shows the name %q", got)
	}

	var fl struct {
		Key, Kind, Name, Description string
		Tags                         []string
		Environments                 map[string]config
	}
	decode(t, s.api.Must(http.StatusOK, "GET", "/api/v1/projects/shop/flags/one-click-buy", nil), &fl)
	if fl.Kind != "boolean" || fl.Name != "One-click buy" || fl.Description != "Buy with one click from the product page" ||
		!slices.Equal(fl.Tags, []string{"checkout", "mobile"}) {
		t.Errorf("the API reads the flag as %+v", fl)
	}
	if len(fl.Environments) != 3 {
		t.Errorf("the flag has configurations in %d environments, want 3", len(fl.Environments))
	}
	for env, c := range fl.Environments {
		if c.Enabled {
			t.Errorf("the new flag is on in %s", env)
		}
	}
	created := s.audit("flag=one-click-buy&action=flag.create")
	if len(created) != 1 || created[0].Actor.Name != ada {
		t.Errorf("flag.create audit entries: %+v, want one by %s", created, ada)
	}

	// The list shows it.
	p.Click(`nav.rail a[data-key="f"]`)
	p.WaitText("table.flags", "one-click-buy")
	if got := p.Text("table.flags tbody tr"); !strings.Contains(got, "boolean") || !strings.Contains(got, "checkout") {
		t.Errorf("the list's row: %q", got)
	}
}

// 3. A rule with a condition that serves a rollout, edited in place: the sum shows as
// you type, a wrong sum says so (in the browser, and from the server next to the
// weights, keeping the edit), and the corrected edit saves.
func TestRulesAndRollout(t *testing.T) {
	t.Parallel()
	s := newStack(t, false)
	s.member(ada, "Ada Lovelace", "admin")
	s.flag(map[string]any{"key": "new-checkout", "kind": "boolean", "name": "New checkout", "tags": []string{"checkout"}})
	p := s.page()
	s.signIn(p, ada)
	p.Go("/projects/shop/flags/new-checkout?env=development")
	p.WaitVisible("form[data-editor]")
	if js[int](p, `document.querySelectorAll("details.rule").length`) != 0 {
		t.Fatal("the new flag already has rules")
	}

	p.Click(`button[name="op"][value="add:rules"]`)
	const cond = `[name="rules[0].conditions[0].`
	p.WaitVisible(cond + `attribute"]`)
	if !js[bool](p, `document.querySelector("details.rule").open`) {
		t.Error("the added rule's card is not open")
	}
	p.Fill(`[name="rules[0].id"]`, "staff")
	p.Fill(cond+`attribute"]`, "email")
	p.Fill(cond+`values"]`, "@example.com")
	p.Select(cond+`operator"]`, "ends_with")

	// The rule serves a rollout: 30 + 60 first.
	p.Click(`label[for="rules-0-serve-mode-rollout"]`)
	const sum = `details.rule output[data-sum]`
	p.WaitVisible(sum)
	p.Fill(`[name="rules[0].serve.rollout.weights.on"]`, "30")
	p.Fill(`[name="rules[0].serve.rollout.weights.off"]`, "60")
	got := p.WaitText(sum, "90%")
	if !strings.Contains(got, "must add up to 100%") || !strings.Contains(got, "10% missing") {
		t.Errorf("the live sum of 30 + 60 says %q", got)
	}
	if !js[bool](p, `document.querySelector(`+jsQuote(sum)+`).classList.contains("bad")`) {
		t.Error("a wrong sum is not marked bad")
	}

	// Saved anyway, the server refuses it and says why next to the weights; the edit
	// is kept.
	p.Allow(browser.Log, "status of 400")
	p.Click(`button[name="op"][value="save"]`)
	p.WaitVisible(".error-summary")
	if got := p.Text(".error-summary"); !strings.Contains(got, "rules[0].serve.rollout.weights") {
		t.Errorf("the problems %q do not name rules[0].serve.rollout.weights", got)
	}
	if got := p.Text(`details.rule div[data-serve] .field-error`); !strings.Contains(got, "sum to 100") {
		t.Errorf("next to the weights: %q, want that they must sum to 100", got)
	}
	kept := js[[]string](p, `["rules[0].id", "rules[0].conditions[0].attribute", "rules[0].conditions[0].operator",
		"rules[0].conditions[0].values", "rules[0].serve.rollout.weights.on", "rules[0].serve.rollout.weights.off"].map((n) => document.querySelector('[name="' + n + '"]').value)`)
	if want := []string{"staff", "email", "ends_with", "@example.com", "30", "60"}; !slices.Equal(kept, want) {
		t.Errorf("after the refusal the form holds %q, want the edit %q", kept, want)
	}
	if !js[bool](p, `document.querySelector("details.rule").open && document.getElementById("rules-0-serve-mode-rollout").checked`) {
		t.Error("after the refusal the rule is closed or no longer serves a rollout")
	}
	if c := s.config("new-checkout", "development"); c.Version != 1 || len(c.Rules) != 0 {
		t.Errorf("a refused save changed the configuration: %+v", c)
	}

	p.Fill(`[name="rules[0].serve.rollout.weights.off"]`, "70")
	if got := p.WaitText(sum, "100%"); !strings.Contains(got, "✓") || strings.Contains(got, "must") {
		t.Errorf("the live sum of 30 + 70 says %q", got)
	}
	if js[bool](p, `document.querySelector(`+jsQuote(sum)+`).classList.contains("bad")`) {
		t.Error("a right sum is still marked bad")
	}
	p.Click(`button[name="op"][value="save"]`)
	flash(p, "Saved: new-checkout in development is now at version 2.")

	c := s.config("new-checkout", "development")
	want := config{Enabled: false, Off: "off", Version: 2,
		Rules: []rule{{ID: "staff", Conditions: []condition{{Attribute: "email", Operator: "ends_with", Values: []any{"@example.com"}}},
			Serve: serve{Rollout: &rollout{Weights: map[string]float64{"on": 30, "off": 70}}}}},
		Default: serve{Variant: "off"}}
	if a, b := jsonOf(c), jsonOf(want); a != b {
		t.Errorf("saved configuration\n%s\nwant\n%s", a, b)
	}
	if e := s.audit("flag=new-checkout&action=config.update"); len(e) != 1 || e[0].Actor.Name != ada {
		t.Errorf("config.update entries %+v, want one by %s", e, ada)
	}
	// The saved page reads the rule as a sentence, on a card that opens in place, and
	// shows the rollout as it is stored.
	if got := p.Text(`details.rule summary .sentence`); got != "If email ends with @example.com → serve a rollout: off 70%, on 30%" {
		t.Errorf("the saved rule reads %q", got)
	}
	if js[bool](p, `document.querySelector("details.rule").open`) {
		t.Error("the saved rule's card is open before it is clicked")
	}
	p.Click(`details.rule > summary`)
	p.WaitVisible(cond + `attribute"]`)
	if got := p.WaitText(sum, "Sum: 100%"); !strings.Contains(got, "✓") {
		t.Errorf("the saved rollout's sum says %q", got)
	}
	screenshot(t, p, "flag", `document.getElementById("rules-title").scrollIntoView({block: "start"}); window.scrollBy(0, -16);`)
}

func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func jsonOf(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// ofrepAnswer is the evaluator's OFREP answer for one flag.
type ofrepAnswer struct {
	Value   any    `json:"value"`
	Variant string `json:"variant"`
	Reason  string `json:"reason"`
	Error   string `json:"errorCode"`
}

// ofrep asks the evaluator for a flag with an SDK key.
func ofrep(client *http.Client, evalURL, sdkKey, flag string) (int, ofrepAnswer, error) {
	var a ofrepAnswer
	req, _ := http.NewRequest("POST", evalURL+"/ofrep/v1/evaluate/flags/"+flag,
		bytes.NewReader([]byte(`{"context":{"targetingKey":"user-1"}}`)))
	req.Header.Set("Authorization", "Bearer "+sdkKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return 0, a, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, a, json.Unmarshal(raw, &a)
}

// 4. Turning a flag on in protected production asks first, in a dialog; confirmed,
// the change reaches the evaluator.
func TestToggleProtectedReachesEvaluator(t *testing.T) {
	t.Parallel()
	s := newStack(t, true)
	s.member(ada, "Ada Lovelace", "admin")
	s.flag(map[string]any{"key": "new-checkout", "kind": "boolean", "name": "New checkout"})
	// Production serves on once enabled; off (its off variant) until then.
	s.configure(nil, "new-checkout", "production", map[string]any{"enabled": false, "off_variant": "off",
		"default": map[string]any{"variant": "on"}})
	var key struct{ Key string }
	decode(t, s.api.Must(http.StatusCreated, "POST", "/api/v1/projects/shop/environments/production/sdk-keys",
		map[string]any{"name": "e2e"}), &key)
	client := &http.Client{Timeout: 2 * time.Second}
	var last ofrepAnswer
	var lastErr error
	deadline := time.Now().Add(10 * time.Second)
	for {
		var status int
		status, last, lastErr = ofrep(client, s.EvalURL, key.Key, "new-checkout")
		if lastErr == nil && status == http.StatusOK && last.Value == false && last.Reason == "DISABLED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("before the toggle the evaluator answers %d %+v (%v), want false, DISABLED", status, last, lastErr)
		}
		time.Sleep(20 * time.Millisecond)
	}

	p := s.page()
	s.signIn(p, ada)
	on := `button.sw[value="production 1 new-checkout"]`
	p.Click(on)
	p.WaitVisible("#confirm[open]")
	if got := p.Text("#confirm-text"); got != "Turn new-checkout on in production? Its rules will serve users again." {
		t.Errorf("the confirmation asks %q", got)
	}
	// Cancelled, nothing changes.
	p.Click("#confirm [data-cancel]")
	p.WaitGone("#confirm[open]")
	if c := s.config("new-checkout", "production"); c.Enabled || c.Version != 2 {
		t.Errorf("after Cancel the production configuration is %+v", c)
	}

	p.Click(on)
	p.WaitVisible("#confirm[open]")
	began := time.Now()
	p.Click("#confirm [data-ok]")
	deadline = began.Add(10 * time.Second)
	for {
		var status int
		status, last, lastErr = ofrep(client, s.EvalURL, key.Key, "new-checkout")
		if lastErr == nil && status == http.StatusOK && last.Value == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the confirmation the evaluator still answers %d %+v (%v), want true", status, last, lastErr)
		}
		time.Sleep(2 * time.Millisecond)
	}
	seen := time.Now()
	if last.Variant != "on" {
		t.Errorf("the evaluator serves %+v, want variant on", last)
	}

	flash(p, "new-checkout is on in production.")
	if got := js[string](p, `document.querySelector('button.sw[value="production 0 new-checkout"]')?.getAttribute("aria-pressed") ?? "no switch"`); got != "true" {
		t.Errorf("after the toggle the production switch is %q, want pressed", got)
	}
	if len(p.Dialogs()) != 0 {
		t.Errorf("the page used JavaScript dialogs: %q", p.Dialogs())
	}
	if c := s.config("new-checkout", "production"); !c.Enabled || c.Version != 3 {
		t.Errorf("after the toggle the production configuration is %+v, want enabled at version 3", c)
	}
	toggles := s.audit("flag=new-checkout&action=config.toggle")
	if len(toggles) != 1 || toggles[0].Actor.Name != ada || toggles[0].Environment != "production" {
		t.Fatalf("config.toggle entries %+v, want one by %s in production", toggles, ada)
	}
	t.Logf("propagation: the evaluator served the new value %v after the click on Confirm, %v after the commit (audit time)",
		seen.Sub(began).Round(time.Millisecond), seen.Sub(toggles[0].At).Round(time.Millisecond))
}

// 5. The playground explains a context: value, variant, reason, and the trace.
func TestPlayground(t *testing.T) {
	t.Parallel()
	s := newStack(t, false)
	s.member(ada, "Ada Lovelace", "admin")
	s.flag(map[string]any{"key": "new-checkout", "kind": "boolean", "name": "New checkout"})
	s.flag(map[string]any{"key": "dark-mode", "kind": "boolean", "name": "Dark mode"})
	s.configure(nil, "new-checkout", "development", map[string]any{"enabled": true, "off_variant": "off",
		"rules": []map[string]any{{"id": "staff", "conditions": []map[string]any{
			{"attribute": "email", "operator": "ends_with", "values": []string{"@example.com"}},
			{"attribute": "plan", "operator": "in", "values": []string{"pro", "enterprise"}}}, "serve": map[string]any{"variant": "on"}}},
		"default": map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 50, "off": 50}}}})
	before := s.config("new-checkout", "development")
	p := s.page()
	s.signIn(p, ada)

	p.Click(`nav.rail a[data-key="p"]`)
	p.WaitText("main h1", "Playground")
	p.Select("#pg-env", "development")
	p.Fill("#pg-flags", "new-checkout")
	p.Fill(`[name="ctx[0].key"]`, "key")
	p.Fill(`[name="ctx[0].value"]`, "user-42")
	p.Click(`button[name="op"][value="add:ctx"]`)
	p.Fill(`[name="ctx[1].key"]`, "email")
	p.Fill(`[name="ctx[1].value"]`, "ada@example.com")
	p.Click(`button[name="op"][value="add:ctx"]`)
	p.Fill(`[name="ctx[2].key"]`, "plan")
	p.Fill(`[name="ctx[2].value"]`, "pro")
	p.Click(`button[name="op"][value="run"]`)

	p.WaitVisible(`section[aria-labelledby="results-title"] table`)
	cells := js[[]string](p, `[...document.querySelectorAll('section[aria-labelledby="results-title"] tbody tr:first-child td')].map((td) => td.innerText.trim())`)
	if len(cells) != 4 || cells[0] != "new-checkout" || cells[1] != "true" || cells[2] != "on" || cells[3] != "TARGETING_MATCH a rule matched (rule staff)" {
		t.Errorf("the result row reads %q, want new-checkout, true, on, TARGETING_MATCH a rule matched (rule staff)", cells)
	}
	// The trace opens on demand.
	trace := `section[aria-labelledby="results-title"] details:not(.raw)`
	if js[bool](p, `document.querySelector(`+jsQuote(trace)+`).open`) {
		t.Error("the trace is open before it is asked for")
	}
	p.Click(trace + " > summary")
	p.WaitVisible(trace + " h3")
	if got := p.Text(trace + " h3"); got != "Rule 1 staff: ✓ matched" {
		t.Errorf("the trace's rule: %q", got)
	}
	conds := js[[]string](p, `[...document.querySelectorAll(`+jsQuote(trace+" li")+`)].map((li) => li.innerText)`)
	if len(conds) != 2 || !strings.HasPrefix(conds[0], "✓ held email ends_with") || !strings.Contains(conds[0], `seen: "ada@example.com"`) ||
		!strings.HasPrefix(conds[1], "✓ held plan in") || !strings.Contains(conds[1], `seen: "pro"`) {
		t.Errorf("the trace's conditions: %q", conds)
	}
	screenshot(t, p, "playground", "")

	// The context rows stay inside their box (at 1280 px, the playground's two
	// columns leave the rows' fields little room).
	over := js[[]string](p, `(() => {
		const box = document.querySelector('fieldset:has([data-list="ctx"])').getBoundingClientRect();
		return [...document.querySelectorAll('[data-list="ctx"] .kv')].flatMap((row) => [...row.querySelectorAll("input, button")]
			.filter((e) => e.getBoundingClientRect().right > box.right + 0.5)
			.map((e) => (e.tagName === "BUTTON" ? "the " + e.textContent.trim() + " button of " + row.dataset.path : e.name) + " ends at " + Math.round(e.getBoundingClientRect().right) + "px, the box at " + Math.round(box.right) + "px"));
	})()`)
	t.Run("context rows fit their box", func(t *testing.T) {
		if len(over) > 0 {
			t.Errorf("the playground's context rows overflow their fieldset: %q", over)
		}
	})

	// JSON this time, and a context the rule does not match: the rollout decides, as
	// the API's evaluate route says.
	p.Click(`label[for="mode-json"]`)
	p.Fill("#pg-json", `{"key": "user-42", "email": "bob@other.example", "plan": "pro"}`)
	p.Click(`button[name="op"][value="run"]`)
	p.WaitText(`section[aria-labelledby="results-title"] tbody tr:first-child`, "SPLIT")
	var api struct {
		Flags map[string]struct{ Value any }
	}
	decode(t, s.api.Must(http.StatusOK, "POST", "/api/v1/projects/shop/environments/development/evaluate", map[string]any{
		"context": map[string]any{"key": "user-42", "email": "bob@other.example", "plan": "pro"}, "flags": []string{"new-checkout"}}), &api)
	row := js[[]string](p, `[...document.querySelectorAll('section[aria-labelledby="results-title"] tbody tr:first-child td')].map((td) => td.innerText.trim())`)
	if len(row) != 4 || row[1] != fmt.Sprint(api.Flags["new-checkout"].Value) || row[3] != "SPLIT no rule matched: the default rollout" {
		t.Errorf("the split row reads %q; the API's evaluate route serves %v", row, api.Flags["new-checkout"].Value)
	}
	p.Click(trace + " > summary")
	if got := p.WaitText(trace, "Rollout by key: bucket"); !strings.Contains(got, "✗ failed email ends_with") {
		t.Errorf("the trace of the split: %q", got)
	}
	// The playground changes nothing.
	if after := s.config("new-checkout", "development"); after.Version != before.Version {
		t.Errorf("the playground moved the configuration from version %d to %d", before.Version, after.Version)
	}
}

// 6. History shows a change with its diff and who made it; reverting it through the
// page restores the configuration, as an audited config.revert.
func TestHistoryRevert(t *testing.T) {
	t.Parallel()
	s := newStack(t, false)
	s.member(ada, "Ada Lovelace", "admin")
	s.member(grace, "Grace Hopper", "developer")
	s.flag(map[string]any{"key": "new-checkout", "kind": "boolean", "name": "New checkout"})
	original := s.config("new-checkout", "development")
	s.configure(s.as(grace), "new-checkout", "development", map[string]any{"enabled": true, "off_variant": "off",
		"rules": []map[string]any{{"id": "staff", "conditions": []map[string]any{
			{"attribute": "email", "operator": "ends_with", "values": []string{"@example.com"}}}, "serve": map[string]any{"variant": "on"}}},
		"default": map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 20, "off": 80}}}})
	p := s.page()
	s.signIn(p, ada)

	p.Go("/projects/shop/flags/new-checkout")
	p.Click(`.flag-head a[href$="/history"]`)
	p.WaitText("main h1", "History of new-checkout")
	first := "ol.timeline > li:first-child"
	if got := p.Text(first + " > p:first-child"); got != grace+" changed the configuration of new-checkout in development" {
		t.Errorf("the latest entry says %q", got)
	}
	diff := js[[]string](p, `[...document.querySelectorAll("ol.timeline > li:first-child ol.diff li")].map((li) => li.className + " " + li.innerText.replace(/\s+/g, " ").trim())`)
	for _, want := range []string{"del − removed: Enabled: off", "add + added: Enabled: on",
		"add + added: Rule 1 (staff): If email ends with @example.com → serve on",
		"del − removed: Otherwise serve off", "add + added: Otherwise serve a rollout: off 80%, on 20%"} {
		if !slices.Contains(diff, want) {
			t.Errorf("the diff lacks %q: %q", want, diff)
		}
	}
	screenshot(t, p, "history", "")

	p.Click(first + ` button[data-confirm]`)
	p.WaitVisible("#confirm[open]")
	if got := p.Text("#confirm-text"); !strings.HasPrefix(got, "Restore new-checkout in development to its configuration before this change? Every later change") {
		t.Errorf("the revert asks %q", got)
	}
	p.Click("#confirm [data-ok]")
	flash(p, "Reverted: new-checkout in development is back as it was before change")

	c := s.config("new-checkout", "development")
	if c.Version != 3 || c.Enabled || len(c.Rules) != 0 || c.Default.Variant != original.Default.Variant || c.Default.Rollout != nil {
		t.Errorf("after the revert the configuration is %s, want the original %s at version 3", jsonOf(c), jsonOf(original))
	}
	reverts := s.audit("flag=new-checkout&action=config.revert")
	updates := s.audit("flag=new-checkout&action=config.update")
	if len(reverts) != 1 || len(updates) != 1 || reverts[0].Actor.Name != ada || reverts[0].Reverts != updates[0].ID {
		t.Errorf("config.revert entries %+v, want one by %s reverting %+v", reverts, ada, updates)
	}
	p.Go("/projects/shop/flags/new-checkout/history")
	if got := p.Text(first + " > p:first-child"); got != ada+" reverted the configuration of new-checkout in development" {
		t.Errorf("after the revert the latest entry says %q", got)
	}
}

// 7. A viewer sees every control disabled, with the reason, and the server refuses a
// crafted post that carries a valid CSRF token.
func TestViewer(t *testing.T) {
	t.Parallel()
	s := newStack(t, false)
	s.member(vic, "Victor Viewer", "viewer")
	s.flag(map[string]any{"key": "new-checkout", "kind": "boolean", "name": "New checkout"})
	p := s.page()
	s.signIn(p, vic)

	if got := p.Text("main .page-head"); !strings.Contains(got, "needs developer in this project (you are viewer)") {
		t.Errorf("the list's head %q does not say why New flag is unavailable", got)
	}
	if !js[bool](p, `document.querySelector("main .page-head button.primary").disabled`) {
		t.Error("New flag is not disabled")
	}
	sw := js[[]bool](p, `[...document.querySelectorAll("table.flags button.sw")].map((b) => b.disabled)`)
	if len(sw) != 3 || slices.Contains(sw, false) {
		t.Errorf("the switches' disabled states %v, want 3 disabled", sw)
	}
	if got := p.Text("table.flags thead"); !strings.Contains(got, "needs developer in development (you are viewer)") ||
		!strings.Contains(got, "needs admin in production (you are viewer)") {
		t.Errorf("the columns %q do not say why the switches are disabled", got)
	}

	p.Go("/projects/shop/flags/new-checkout?env=development")
	p.WaitVisible("form[data-editor]")
	if got := p.Text("form[data-editor] p.why"); got != "Not available: needs developer in development (you are viewer)." {
		t.Errorf("the editor says %q", got)
	}
	if !js[bool](p, `document.querySelector("form[data-editor] > fieldset").disabled`) {
		t.Error("the rules editor is not disabled")
	}
	for _, b := range []string{"Kill switch", "Archive", "Edit flag and variants"} {
		if !js[bool](p, fmt.Sprintf(`[...document.querySelectorAll(".flag-head button")].some((b) => b.textContent === %q && b.disabled)`, b)) {
			t.Errorf("%s is not a disabled button", b)
		}
	}

	// Crafted posts from the page, with the session and the page's CSRF token.
	type answer struct {
		Status int
		Text   string
	}
	var got map[string]answer
	p.Eval(`(async () => {
		const csrf = document.querySelector('input[name="csrf"]').value;
		const post = async (path, fields) => {
			const r = await fetch(path, {method: "POST", body: new URLSearchParams(fields), redirect: "manual"});
			return {status: r.status, text: (await r.text()).replace(/<[^>]*>/g, " ").replace(/\s+/g, " ")};
		};
		return {
			toggle: await post("/projects/shop/toggle", {csrf, t: "development 1 new-checkout", back: "/projects/shop/flags", confirm: "yes"}),
			save: await post("/projects/shop/flags/new-checkout/environments/development", {csrf, version: "1", base: "", enabled: "on",
				op: "save", "default.mode": "variant", "default.variant": "on", off_variant: "off"}),
			create: await post("/projects/shop/flags", {csrf, key: "sneaky", kind: "boolean", op: "save"}),
			noToken: await post("/projects/shop/toggle", {t: "development 1 new-checkout", confirm: "yes"}),
		};
	})()`, &got)
	for _, name := range []string{"toggle", "save", "create"} {
		a := got[name]
		if a.Status != http.StatusForbidden || !strings.Contains(a.Text, "the developer role in") || !strings.Contains(a.Text, "is needed; you have viewer") ||
			strings.Contains(a.Text, "could not be verified") {
			t.Errorf("crafted %s: %d %q, want 403 naming the role needed (a refusal by role, not by CSRF)", name, a.Status, a.Text)
		}
	}
	if a := got["noToken"]; a.Status != http.StatusForbidden || !strings.Contains(a.Text, "could not be verified") {
		t.Errorf("a post without the CSRF token: %d %q, want 403", a.Status, a.Text)
	}
	for _, pr := range p.TakeProblems() {
		if pr.Kind != browser.Log || !strings.Contains(pr.Text, "status of 403") {
			t.Errorf("unexpected problem: %v", pr)
		}
	}

	if c := s.config("new-checkout", "development"); c.Enabled || c.Version != 1 {
		t.Errorf("after the refused posts the configuration is %+v", c)
	}
	s.api.Must(http.StatusNotFound, "GET", "/api/v1/projects/shop/flags/sneaky", nil)
	if e := s.audit(""); len(e) != 3 { // project.create, member.set, flag.create
		acts := make([]string, len(e))
		for i, x := range e {
			acts[i] = x.Action
		}
		t.Errorf("the audit trail holds %q: the refused posts left traces", acts)
	}
}

// 8. A flag named and described as an HTML tag with a script stays text: on the list,
// the flag page and in the history's diff.
func TestUntrustedNameIsInert(t *testing.T) {
	t.Parallel()
	s := newStack(t, false)
	s.member(ada, "Ada Lovelace", "admin")
	p := s.page()
	s.signIn(p, ada)

	// Made through the form, then renamed through the API: the history has both.
	p.Go("/projects/shop/new-flag")
	p.Fill("#key", "xss-probe")
	p.Fill("#name", xss)
	p.Fill("#description", xss)
	p.Click(`button[name="op"][value="save"]`)
	flash(p, "xss-probe created")
	s.api.Must(http.StatusOK, "PATCH", "/api/v1/projects/shop/flags/xss-probe", map[string]any{"name": xss + "!", "description": "safe"})

	inert := func(where string) {
		t.Helper()
		if d := p.Dialogs(); len(d) != 0 {
			t.Errorf("%s: dialogs opened: %q", where, d)
		}
		if js[bool](p, `document.querySelector("img[src=x]") !== null || document.querySelector("[onerror]") !== null`) {
			t.Errorf("%s: the name became an element", where)
		}
	}
	p.Go("/projects/shop/flags")
	if got := p.WaitText("table.flags .name", "<img"); got != xss+"!" {
		t.Errorf("the list shows the name as %q, want the literal text", got)
	}
	inert("flag list")

	p.Go("/projects/shop/flags/xss-probe")
	if got := p.Text(".flag-head .name"); got != xss+"!" {
		t.Errorf("the flag page shows the name as %q", got)
	}
	inert("flag page")

	p.Go("/projects/shop/flags/xss-probe/history")
	p.WaitText("main h1", "History of xss-probe")
	diff := js[string](p, `[...document.querySelectorAll("ol.diff")].map((d) => d.innerText).join("\n")`)
	for _, want := range []string{xss + "!", xss} {
		if !strings.Contains(diff, want) {
			t.Errorf("the history's diffs lack the literal %q:\n%s", want, diff)
		}
	}
	raw := js[string](p, `[...document.querySelectorAll("details.raw pre")].map((d) => d.textContent).join("\n")`)
	if !strings.Contains(raw, xss) {
		t.Errorf("the raw JSON lacks the literal %q:\n%s", xss, raw)
	}
	inert("history")
}

// 9. A save on a stale page (the configuration changed meanwhile) shows what changed
// and who changed it, keeps the edit, and saves it on the second try.
func TestStaleEditRecovered(t *testing.T) {
	t.Parallel()
	s := newStack(t, false)
	s.member(ada, "Ada Lovelace", "admin")
	s.member(grace, "Grace Hopper", "developer")
	s.flag(map[string]any{"key": "new-checkout", "kind": "boolean", "name": "New checkout"})
	p := s.page()
	s.signIn(p, ada)
	p.Go("/projects/shop/flags/new-checkout?env=development")
	p.WaitVisible("form[data-editor]")

	// Ada's edit: on, serving on.
	p.Click(`label[for="enabled"]`)
	p.Select(`[name="default.variant"]`, "on")
	// Meanwhile Grace adds a rule through the API.
	s.configure(s.as(grace), "new-checkout", "development", map[string]any{"enabled": false, "off_variant": "off",
		"rules": []map[string]any{{"id": "partners", "conditions": []map[string]any{
			{"attribute": "email", "operator": "ends_with", "values": []string{"@partner.example"}}}, "serve": map[string]any{"variant": "on"}}},
		"default": map[string]any{"variant": "off"}})

	p.Allow(browser.Log, "status of 409")
	p.Click(`button[name="op"][value="save"]`)
	p.WaitVisible("section.conflict")
	conflict := p.Text("section.conflict")
	for _, want := range []string{"Someone changed this configuration while you edited it", "It is now at version 2",
		"Rule 1 (partners): If email ends with @partner.example → serve on", grace + " — config.update"} {
		if !strings.Contains(conflict, want) {
			t.Errorf("the conflict lacks %q:\n%s", want, conflict)
		}
	}
	if !js[bool](p, `document.getElementById("enabled").checked`) || js[string](p, `document.querySelector('[name="default.variant"]').value`) != "on" {
		t.Error("the conflict page lost the edit (enabled, serve on)")
	}
	if got := js[string](p, `document.querySelector('input[name="version"]').value`); got != "2" {
		t.Errorf("the kept edit now replaces version %q, want 2", got)
	}
	if c := s.config("new-checkout", "development"); c.Version != 2 || c.Enabled || len(c.Rules) != 1 || c.Rules[0].ID != "partners" {
		t.Errorf("the stale save changed the configuration: %s", jsonOf(c))
	}

	p.Click(`button[name="op"][value="save"]`)
	flash(p, "Saved: new-checkout in development is now at version 3.")
	c := s.config("new-checkout", "development")
	if c.Version != 3 || !c.Enabled || c.Default.Variant != "on" || len(c.Rules) != 0 {
		t.Errorf("after the second save the configuration is %s, want Ada's edit at version 3", jsonOf(c))
	}
	if e := s.audit("flag=new-checkout&action=config.update"); len(e) != 2 || e[0].Actor.Name != ada || e[1].Actor.Name != grace {
		t.Errorf("config.update entries %+v, want Grace's then Ada's", e)
	}
}

// 10. Signing out ends the session on the server: the old cookie opens nothing, in
// the browser or outside it.
func TestSignOut(t *testing.T) {
	t.Parallel()
	s := newStack(t, false)
	s.member(ada, "Ada Lovelace", "admin")
	p := s.page()
	s.signIn(p, ada)
	old := s.sessionCookie(p)
	s.api.Must(http.StatusOK, "GET", "/api/v1/auth/me", nil, "Authorization", "Bearer "+old.Value)

	p.Click(`form[action="/logout"] button[type=submit]`)
	p.WaitVisible("#email")
	if got := p.Text(".login"); !strings.Contains(strings.ToLower(got), "signed out") {
		t.Errorf("the sign-in page after signing out says %q", got)
	}
	if js[bool](p, `!!document.querySelector("nav.rail")`) {
		t.Error("signed out, the page still shows the signed-in layout")
	}
	p.Go("/projects/shop/flags")
	p.WaitVisible("#email")

	// The old cookie, put back into the browser, opens nothing.
	ctx, cancel := context.WithTimeout(p.Context(), 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: old.Name, Value: old.Value,
		URL: s.URL + "/", Path: "/", HTTPOnly: ptr(true), SameSite: network.CookieSameSiteLax}); err != nil {
		t.Fatalf("put the old cookie back: %v", err)
	}
	if c := s.sessionCookie(p); c.Value != old.Value {
		t.Fatal("the old cookie was not put back")
	}
	p.Go("/projects/shop/flags")
	p.WaitVisible("#email")
	if u := p.URL(); !strings.Contains(u, "/login?") || !strings.Contains(u, "reason=expired") {
		t.Errorf("with the old cookie the flag list went to %s, want the sign-in page saying the session ended", u)
	}
	if js[bool](p, `!!document.querySelector("table.flags")`) {
		t.Error("with the old cookie the page shows the flags")
	}

	// Nor outside the browser: the dashboard sends to the sign-in page, the API
	// answers 401.
	req, _ := http.NewRequest("GET", s.URL+"/projects/shop/flags", nil)
	req.AddCookie(&http.Cookie{Name: old.Name, Value: old.Value})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("the old cookie on the flag list: %d to %q, want 303 to /login", res.StatusCode, res.Header.Get("Location"))
	}
	s.api.Must(http.StatusUnauthorized, "GET", "/api/v1/auth/me", nil, "Authorization", "Bearer "+old.Value)
}

func ptr[T any](v T) *T { return &v }
