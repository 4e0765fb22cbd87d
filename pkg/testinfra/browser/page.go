package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Keys for Page.Press.
const (
	Tab   = kb.Tab
	Enter = kb.Enter
)

// The viewport of a new page, in CSS pixels (see SetViewport).
const (
	ViewportWidth  = 1280
	ViewportHeight = 800
)

// DefaultTimeout is how long a Page helper waits before it fails the test.
const DefaultTimeout = 10 * time.Second

// Page is a browser tab of one test, in a browser context of its own (cookies and
// storage are the page's alone). Its helpers fail the test (t.Fatalf) when they cannot
// do what they say within Timeout, so call them from the test's goroutine. A problem
// the page collected (see Problem) and no test took or allowed fails the test when it
// ends.
type Page struct {
	// Timeout bounds each helper's wait; DefaultTimeout unless changed.
	Timeout time.Duration

	t      testing.TB
	ctx    context.Context
	cancel context.CancelFunc
	base   *url.URL
	extra  []string // origins the page may load from besides base's (AllowOrigins)

	mu        sync.Mutex
	problems  []Problem
	allow     []allowRule
	offOrigin map[network.RequestID]bool
	dialogs   []string
	dismiss   bool
}

// PageOption changes how Browser.Page opens a page.
type PageOption func(*pageOptions)

type pageOptions struct {
	origins []string
}

// AllowOrigins lets the page load from these origins too ("http://127.0.0.1:8081"),
// besides the test server's: a service of the test that the page calls across
// origins, say. Requests to them are neither blocked nor reported; every other
// origin still is.
func AllowOrigins(origins ...string) PageOption {
	return func(o *pageOptions) { o.origins = append(o.origins, origins...) }
}

// Page opens a tab for pages of baseURL (the test server, whose origin is the only
// one the page may load from, with those of AllowOrigins); it is closed when the test
// ends, after a check that it has no problems left.
func (b *Browser) Page(t testing.TB, baseURL string, opts ...PageOption) *Page {
	t.Helper()
	base, err := url.Parse(baseURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		t.Fatalf("browser: base URL %q is not absolute", baseURL)
	}
	var o pageOptions
	for _, opt := range opts {
		opt(&o)
	}
	p := &Page{Timeout: DefaultTimeout, t: t, base: base, offOrigin: map[network.RequestID]bool{}}
	for _, s := range o.origins {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("browser: allowed origin %q is not an origin (scheme://host:port)", s)
		}
		p.extra = append(p.extra, u.Scheme+"://"+u.Host)
	}
	p.ctx, p.cancel = chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(p.onEvent))
	// Everything but the test server's origin (and the allowed ones) is blocked; the
	// requests are still seen (and reported) first.
	patterns := []*network.BlockPattern{{URLPattern: base.Scheme + "://" + base.Host + "/*", Block: false}}
	for _, origin := range p.extra {
		patterns = append(patterns, &network.BlockPattern{URLPattern: origin + "/*", Block: false})
	}
	patterns = append(patterns, &network.BlockPattern{URLPattern: "*://*:*/*", Block: true})
	err = firstRun(p.ctx, startTimeout, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := chromedp.EmulateViewport(ViewportWidth, ViewportHeight)(ctx, tg); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: patterns}); err != nil {
			return fmt.Errorf("block other origins: %w", err)
		}
		if _, err := cdp.Call(ctx, tg, runtime.AddBinding, runtime.AddBindingParams{Name: bindingName, ExecutionContextName: world}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspListener, WorldName: world})
		return err
	}))
	if err != nil {
		p.cancel()
		t.Fatalf("browser: open a page: %v", err)
	}
	t.Cleanup(func() {
		defer p.cancel()
		if left := p.Problems(); len(left) > 0 {
			lines := make([]string, len(left))
			for i, pr := range left {
				lines[i] = "\n\t" + pr.String()
			}
			t.Errorf("browser: the page had %d problem(s) the test neither took nor allowed:%s", len(left), strings.Join(lines, ""))
		}
	})
	return p
}

// Context is the tab's chromedp context, for what the helpers do not cover:
// chromedp.Run(p.Context(), ...).
func (p *Page) Context() context.Context { return p.ctx }

// Go loads path (relative to the base URL, or absolute) and waits for its load event.
func (p *Page) Go(path string) {
	p.t.Helper()
	ref, err := url.Parse(path)
	if err != nil {
		p.t.Fatalf("browser: go to %q: %v", path, err)
	}
	u := p.base.ResolveReference(ref).String()
	p.do("load "+u, chromedp.Navigate(u))
}

// Click clicks the first element matching the CSS selector, once it is visible. A
// click that navigates does not wait for the new page: wait for something on it.
func (p *Page) Click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// Fill replaces the text of the field matching the CSS selector, once it is visible,
// as a person would: it selects what the field holds, deletes it and types text key by
// key (so key and input events fire).
func (p *Page) Fill(sel, text string) {
	p.t.Helper()
	selectAll := fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.focus(); if (e.select) e.select(); })()`, jsString(sel))
	p.do(fmt.Sprintf("fill %s with %q", sel, text),
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](selectAll),
		chromedp.KeyEvent(kb.Backspace),
		chromedp.SendKeys(chromedp.CSS(sel), text))
}

// Select chooses the option whose value is value in the <select> matching the CSS
// selector, once it is visible, and fires its input and change events.
func (p *Page) Select(sel, value string) {
	p.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%s);
		if (![...e.options].some((o) => o.value === %s)) throw new Error("no option with that value");
		e.value = %[2]s; e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); })()`,
		jsString(sel), jsString(value))
	p.do(fmt.Sprintf("select %q in %s", value, sel), chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Evaluate[chromedp.Void](js))
}

// Press types keys (text, or keys such as Tab and Enter) into the focused element.
func (p *Page) Press(keys string) {
	p.t.Helper()
	p.do(fmt.Sprintf("press %q", keys), chromedp.KeyEvent(keys))
}

// WaitVisible waits until an element matching the CSS selector is visible.
func (p *Page) WaitVisible(sel string) {
	p.t.Helper()
	p.do("wait for "+sel+" to be visible", chromedp.WaitVisible(chromedp.CSS(sel)))
}

// WaitGone waits until no element matches the CSS selector.
func (p *Page) WaitGone(sel string) {
	p.t.Helper()
	p.do("wait for "+sel+" to be gone", chromedp.WaitNotPresent(chromedp.CSS(sel)))
}

// Text returns the visible text of the first element matching the CSS selector,
// waiting for the element to exist.
func (p *Page) Text(sel string) string {
	p.t.Helper()
	var s string
	p.do("read the text of "+sel, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var err error
		s, err = chromedp.Text(chromedp.CSS(sel))(ctx, t)
		return err
	}))
	return s
}

// WaitText waits until the visible text of an element matching the CSS selector
// contains want, and returns that text.
func (p *Page) WaitText(sel, want string) string {
	p.t.Helper()
	js := fmt.Sprintf(`(() => { for (const e of document.querySelectorAll(%s)) { if (e.innerText.includes(%s)) return e.innerText; } return null; })()`, jsString(sel), jsString(want))
	var s string
	// A loop of evaluations rather than one polling script, which a navigation
	// (a form's submission, say) would end.
	p.do(fmt.Sprintf("wait for %s to contain %q", sel, want), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			v, err := chromedp.Evaluate[*string](js)(ctx, t)
			if err == nil && v != nil {
				s = *v
				return nil
			}
			select {
			case <-ctx.Done():
				if err == nil {
					err = fmt.Errorf("no match")
				}
				return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}))
	return s
}

// Eval evaluates a JavaScript expression in the page, awaiting it when it is a
// promise, and decodes its JSON value into out (unless out is nil).
func (p *Page) Eval(js string, out any) {
	p.t.Helper()
	var raw []byte
	p.do("evaluate "+js, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if out == nil {
			_, err := chromedp.Evaluate[chromedp.Void](js, chromedp.EvalAwaitPromise)(ctx, t)
			return err
		}
		var err error
		raw, err = chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise)(ctx, t)
		return err
	}))
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			p.t.Fatalf("browser: evaluate %s: decode %s: %v", js, raw, err)
		}
	}
}

// Focused describes the focused element: "#id" when it has an id, else its tag name
// with a name or type attribute, "body" when nothing has the focus.
func (p *Page) Focused() string {
	p.t.Helper()
	var s string
	p.Eval(`(() => { const e = document.activeElement; if (!e) return ""; if (e.id) return "#" + e.id;
		const t = e.tagName.toLowerCase(), n = e.getAttribute("name") || e.getAttribute("type");
		return n ? t + "[" + n + "]" : t; })()`, &s)
	return s
}

// SetViewport resizes the page's viewport (CSS pixels), to see a narrow layout, say.
func (p *Page) SetViewport(width, height int64) {
	p.t.Helper()
	p.do(fmt.Sprintf("set the viewport to %dx%d", width, height), chromedp.EmulateViewport(width, height))
}

// AcceptDialogs sets how the page answers the alert, confirm and prompt dialogs it
// opens from now on: OK (true, the default) or Cancel. A dialog left open would stall
// the page, so each is answered at once.
func (p *Page) AcceptDialogs(accept bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dismiss = !accept
}

// Dialogs returns the JavaScript dialogs the page opened so far, as "confirm: Delete
// the flag?".
func (p *Page) Dialogs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.dialogs...)
}

// answerDialog records a dialog and answers it, from a goroutine of its own: the
// event loop that reports the dialog may send no command.
func (p *Page) answerDialog(ev *page.EventJavascriptDialogOpening) {
	p.mu.Lock()
	p.dialogs = append(p.dialogs, string(ev.Type)+": "+ev.Message)
	accept := !p.dismiss
	p.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		defer cancel()
		_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept, PromptText: ev.DefaultPrompt})
	}()
}

// URL returns the page's current URL.
func (p *Page) URL() string {
	p.t.Helper()
	var s string
	p.Eval(`document.location.href`, &s)
	return s
}

// Screenshot saves a PNG of the whole page as NAME.png in SWITCHYARD_SCREENSHOTS and
// returns its path; without that variable it does nothing and returns "".
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	dir := os.Getenv(EnvScreenshots)
	if dir == "" {
		return ""
	}
	path, err := p.saveScreenshot(p.ctx, p.Timeout, dir, name)
	if err != nil {
		p.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	return path
}

func (p *Page) saveScreenshot(ctx context.Context, timeout time.Duration, dir, name string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fileName(name)+".png")
	return path, os.WriteFile(path, png, 0o644)
}

// do runs steps within Timeout and fails the test with what it was doing, the
// current URL, the page's text and a screenshot when they fail.
func (p *Page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := runTimeout(p.ctx, p.Timeout, steps...); err != nil {
		p.t.Fatal(p.failure(what, err))
	}
}

// failure describes a failed helper call; it saves a screenshot in
// SWITCHYARD_SCREENSHOTS, else in the temporary directory (kept after the test).
func (p *Page) failure(what string, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "browser: %s: %v", what, err)
	// Its own time, whatever Timeout is: the page may be slow, not stuck.
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		fmt.Fprintf(&b, "\n\tpage: %s", loc)
	}
	if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`)); err == nil {
		text = strings.Join(strings.Fields(text), " ")
		if len(text) > 500 {
			text = text[:500] + "…"
		}
		fmt.Fprintf(&b, "\n\ttext: %q", text)
	}
	dir := os.Getenv(EnvScreenshots)
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "switchyard-browser-failures")
	}
	if path, err := p.saveScreenshot(ctx, 10*time.Second, dir, p.t.Name()+"-failure"); err == nil {
		fmt.Fprintf(&b, "\n\tscreenshot: %s", path)
	} else {
		fmt.Fprintf(&b, "\n\tno screenshot: %v", err)
	}
	p.mu.Lock()
	for _, pr := range p.problems {
		fmt.Fprintf(&b, "\n\tproblem so far: %s", pr)
	}
	p.mu.Unlock()
	return b.String()
}

// settle lets the page deliver what it has queued (a CSP violation event fires in a
// task of its own) before problems are read; it needs nothing to succeed.
func (p *Page) settle() {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	_, _ = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](
		`new Promise((r) => setTimeout(r, 20))`, chromedp.EvalAwaitPromise))
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileName(name string) string { return unsafeName.ReplaceAllString(name, "_") }

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
