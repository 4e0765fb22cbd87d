package browser_test

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/testinfra/browser"
)

// One Chromium for the package's tests; each test's page is a tab of its own.
func TestMain(m *testing.M) { os.Exit(browser.Main(m)) }

const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%s</title></head><body>%s</body></html>`

// site is the test server: small pages, each showing one behaviour.
func site(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	serve := func(path, title, body string, headers ...string) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i+1 < len(headers); i += 2 {
				w.Header().Set(headers[i], headers[i+1])
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, page, title, body)
		})
	}
	// A 1x1 transparent GIF, as a data: URL (loads nothing from a network).
	serve("/{$}", "Home", `<h1>Home</h1><img alt="" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7">
		<img alt="" src="/pixel.gif"><script src="/app.js"></script><p id="status">static</p>`)
	mux.HandleFunc("GET /pixel.gif", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x01D\x00;"))
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write([]byte(`document.getElementById("status") || document.addEventListener("DOMContentLoaded", () => {
			document.getElementById("status").textContent = "scripted"; });
			fetch("/api").then((r) => r.text()).then((s) => { window.apiSaid = s; });`))
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })

	// A form that posts and redirects (303) to its result.
	serve("/form", "Form", `<h1>Say hello</h1><form method="post" action="/submit">
		<label>Name <input id="name" name="name" required></label>
		<label>Colour <select id="colour" name="colour"><option>red</option><option>green</option></select></label>
		<button id="send" type="submit">Send</button></form>`)
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/result?name="+r.PostFormValue("name")+"&colour="+r.PostFormValue("colour"), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /result", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, page, "Result", fmt.Sprintf(`<h1>Result</h1><p id="greeting">Hello, %s (%s)</p>`,
			html.EscapeString(r.FormValue("name")), html.EscapeString(r.FormValue("colour"))))
	})

	// Keyboard: Tab moves from field to field, Enter submits (GET, to /result).
	serve("/keys", "Keys", `<form method="get" action="/result">
		<input id="first" name="name" autofocus><input id="second" name="colour"><button id="go">Go</button></form>`)

	// A strict policy, and an inline script it must block.
	serve("/csp", "CSP", `<h1 id="h">untouched</h1><script>document.getElementById("h").textContent = "inline ran";</script>`,
		"Content-Security-Policy", "default-src 'self'; script-src 'self'")
	// Other origins: an image from a name that does not resolve, one from this very
	// server under another name (reachable, so only the page's blocking keeps it from
	// arriving), and a fetch after the load.
	var crossHits atomic.Int32
	mux.HandleFunc("GET /off-origin", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		other := strings.Replace(r.Host, "127.0.0.1", "localhost", 1)
		fmt.Fprintf(w, page, "Off origin", `<img alt="" src="http://example.invalid/x.png">
			<img alt="" src="http://`+other+`/cross.gif"><script src="/late-fetch.js"></script>`)
	})
	mux.HandleFunc("GET /cross.gif", func(w http.ResponseWriter, r *http.Request) { crossHits.Add(1) })
	mux.HandleFunc("GET /cross-hits", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, crossHits.Load()) })
	mux.HandleFunc("GET /late-fetch.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write([]byte(`setTimeout(() => fetch("http://example.invalid/api").catch(() => { window.fetchFailed = true; }), 50);`))
	})
	serve("/csp-report-only", "CSP report only", `<h1 id="h">untouched</h1><script>document.getElementById("h").textContent = "inline ran";</script>`,
		"Content-Security-Policy-Report-Only", "script-src 'self'")
	serve("/dialog", "Dialog", `<button id="delete" onclick="document.getElementById('out').textContent = confirm('Delete it?') ? 'deleted' : 'kept'">Delete</button><p id="out"></p>`)
	serve("/console", "Console", `<script>console.log("fine"); console.warn("also fine"); console.error("boom", 42, {a: 1, b: "two"});</script>`)
	serve("/exception", "Exception", `<script>setTimeout(() => { throw new Error("kaput"); }, 0);
		Promise.reject(new Error("nobody caught me"));</script>`)
	serve("/missing", "Missing", `<script src="/nowhere.js"></script>`)
	return httptest.NewServer(mux)
}

func start(t *testing.T) (*browser.Page, *httptest.Server) {
	t.Helper()
	srv := site(t)
	t.Cleanup(srv.Close)
	b := browser.Start(t)
	return b.Page(t, srv.URL), srv
}

func hasProblem(ps []browser.Problem, kind browser.Kind, sub string) bool {
	for _, p := range ps {
		if p.Kind == kind && strings.Contains(p.Text, sub) {
			return true
		}
	}
	return false
}

// A clean page (data: image, same-origin image, script and fetch) has no problem: the
// checks below do not pass by flagging everything.
func TestCleanPage(t *testing.T) {
	t.Parallel()
	srv := site(t)
	defer srv.Close()
	b := browser.Start(t)
	t.Logf("browser: %v (started in %v)", b.Version, b.Startup)
	began := time.Now()
	p := b.Page(t, srv.URL)
	t.Logf("new page (tab in a fresh browser context): %v", time.Since(began))
	began = time.Now()
	p.Go("/")
	t.Logf("page load: %v", time.Since(began))
	if got := p.WaitText("#status", "scripted"); got != "scripted" {
		t.Errorf("status %q", got)
	}
	var said string
	for deadline := time.Now().Add(5 * time.Second); said == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		p.Eval(`window.apiSaid || ""`, &said)
	}
	if said != "ok" {
		t.Errorf("the page's fetch of /api: %q", said)
	}
	if ps := p.Problems(); len(ps) != 0 {
		t.Errorf("problems on a clean page: %v", ps)
	}
}

// The helper fills a form and submits it; the POST redirects to the result page.
func TestFormPostRedirect(t *testing.T) {
	t.Parallel()
	p, srv := start(t)
	p.Go("/form")
	p.Fill("#name", "Ada <Lovelace>")
	p.Select("#colour", "green")
	p.Click("#send")
	p.WaitVisible("#greeting")
	if got, want := p.Text("#greeting"), "Hello, Ada <Lovelace> (green)"; got != want {
		t.Errorf("greeting %q, want %q", got, want)
	}
	if got := p.URL(); !strings.HasPrefix(got, srv.URL+"/result?") {
		t.Errorf("URL after the redirect: %s", got)
	}
	// Fill replaces what the field held.
	p.Go("/form")
	p.Fill("#name", "first")
	p.Fill("#name", "second")
	var v string
	p.Eval(`document.getElementById("name").value`, &v)
	if v != "second" {
		t.Errorf("field after two fills: %q", v)
	}
	p.Fill("#name", "")
	p.Eval(`document.getElementById("name").value`, &v)
	if v != "" {
		t.Errorf("field after an empty fill: %q", v)
	}
}

// Tab moves the focus to the next field, Enter submits the form.
func TestKeyboard(t *testing.T) {
	t.Parallel()
	p, _ := start(t)
	p.Go("/keys")
	// Chromium applies autofocus in a task after the load event, which a busy machine
	// runs late: wait for it (at most 5 s) before reading the focus.
	var focused bool
	p.Eval(`new Promise(done => { const t0 = Date.now(); (function check() {
		if (document.activeElement && document.activeElement.id === "first") return done(true);
		if (Date.now() - t0 > 5000) return done(false);
		setTimeout(check, 20); })(); })`, &focused)
	if got := p.Focused(); !focused || got != "#first" {
		t.Fatalf("focus after load: %q, want #first (autofocus)", got)
	}
	p.Press("Grace")
	p.Press(browser.Tab)
	if got := p.Focused(); got != "#second" {
		t.Fatalf("focus after Tab: %q, want #second", got)
	}
	p.Press("blue")
	p.Press(browser.Tab)
	if got := p.Focused(); got != "#go" {
		t.Fatalf("focus after a second Tab: %q, want #go", got)
	}
	p.Click("#second")
	p.Press(browser.Enter)
	if got, want := p.WaitText("#greeting", "Hello"), "Hello, Grace (blue)"; got != want {
		t.Errorf("after Enter: %q, want %q", got, want)
	}
}

func TestCSPViolation(t *testing.T) {
	t.Parallel()
	p, _ := start(t)
	p.Go("/csp")
	if got := p.Text("#h"); got != "untouched" {
		t.Errorf("the policy did not block the inline script: %q", got)
	}
	ps := p.TakeProblems()
	t.Log(ps)
	if !hasProblem(ps, browser.CSP, "script-src") {
		t.Errorf("no CSP violation reported: %v", ps)
	}
	if len(ps) != 1 {
		t.Errorf("want exactly the one violation: %v", ps)
	}
	if ps := p.Problems(); len(ps) != 0 {
		t.Errorf("TakeProblems left %v", ps)
	}

	p.Go("/csp-report-only")
	if got := p.Text("#h"); got != "inline ran" {
		t.Errorf("a report-only policy blocked the inline script: %q", got)
	}
	ps = p.TakeProblems()
	t.Log(ps)
	if len(ps) != 1 || !hasProblem(ps, browser.CSP, "report-only") {
		t.Errorf("want the one report-only violation: %v", ps)
	}
}

// A confirm dialog is answered (OK by default, else Cancel) and recorded.
func TestDialog(t *testing.T) {
	t.Parallel()
	p, _ := start(t)
	p.Go("/dialog")
	p.Click("#delete")
	p.WaitText("#out", "deleted")
	p.AcceptDialogs(false)
	p.Click("#delete")
	p.WaitText("#out", "kept")
	if got := p.Dialogs(); len(got) != 2 || got[0] != "confirm: Delete it?" {
		t.Errorf("dialogs %q", got)
	}
}

func TestOffOrigin(t *testing.T) {
	t.Parallel()
	p, srv := start(t)
	p.Go("/off-origin")
	var failed bool
	for deadline := time.Now().Add(5 * time.Second); !failed && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		p.Eval(`window.fetchFailed === true`, &failed)
	}
	if !failed {
		t.Error("the off-origin fetch did not fail")
	}
	ps := p.TakeProblems()
	t.Log(ps)
	if !hasProblem(ps, browser.OffOrigin, "http://example.invalid/x.png") {
		t.Errorf("the off-origin image is not reported: %v", ps)
	}
	if !hasProblem(ps, browser.OffOrigin, "http://example.invalid/api") {
		t.Errorf("the off-origin fetch is not reported: %v", ps)
	}
	if !hasProblem(ps, browser.OffOrigin, "http://localhost:") {
		t.Errorf("the image from localhost (another origin) is not reported: %v", ps)
	}
	if resp, err := http.Get(srv.URL + "/cross-hits"); err != nil {
		t.Error(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "0" {
			t.Errorf("an off-origin request reached its server (%s times): the page did not block it", b)
		}
	}
	for _, pr := range ps {
		if pr.Kind != browser.OffOrigin {
			t.Errorf("a blocked request should be reported once, as off-origin: %v", pr)
		}
	}
}

// AllowOrigins lets a page call another origin of the test (a service answering with
// CORS headers); every other origin is still blocked and reported, and an origin with
// a path is refused.
func TestAllowOrigins(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Host, "127.0.0.1:") {
			elsewhere.Add(1)
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write([]byte("from the api"))
	}))
	defer api.Close()
	srv := site(t)
	defer srv.Close()
	b := browser.Start(t)
	p := b.Page(t, srv.URL, browser.AllowOrigins(api.URL))
	p.Go("/form")
	var said string
	p.Eval(`fetch(`+strconv.Quote(api.URL+"/hello")+`).then((r) => r.text())`, &said)
	if said != "from the api" {
		t.Errorf("the fetch from the allowed origin said %q", said)
	}
	if ps := p.Problems(); len(ps) != 0 {
		t.Errorf("problems after a fetch from an allowed origin: %v", ps)
	}
	// The API's server under another name is another origin.
	other := strings.Replace(api.URL, "127.0.0.1", "localhost", 1) + "/hello"
	var failed bool
	p.Eval(`fetch(`+strconv.Quote(other)+`).then(() => false, () => true)`, &failed)
	if !failed {
		t.Error("the fetch from an origin not allowed succeeded")
	}
	ps := p.TakeProblems()
	if len(ps) != 1 || !hasProblem(ps, browser.OffOrigin, other) {
		t.Errorf("want the one off-origin request to %s: %v", other, ps)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("a request to an origin not allowed reached its server (%d times)", n)
	}

	r := &recorder{TB: t}
	got := r.run(func() { b.Page(r, srv.URL, browser.AllowOrigins(api.URL+"/api")) })
	if len(got) != 1 || !strings.Contains(got[0], "is not an origin") {
		t.Errorf("an origin with a path: failures %q, want one saying it is not an origin", got)
	}
}

func TestConsoleError(t *testing.T) {
	t.Parallel()
	p, _ := start(t)
	p.Go("/console")
	ps := p.TakeProblems()
	t.Log(ps)
	if !hasProblem(ps, browser.Console, `console.error: boom 42 {a: 1, b: "two"}`) {
		t.Errorf("console.error not reported: %v", ps)
	}
	if len(ps) != 1 {
		t.Errorf("only console.error is a problem (not log or warn): %v", ps)
	}
}

func TestUncaughtException(t *testing.T) {
	t.Parallel()
	p, _ := start(t)
	p.Go("/exception")
	p.Eval(`new Promise((r) => setTimeout(r, 50))`, nil)
	ps := p.TakeProblems()
	t.Log(ps)
	if !hasProblem(ps, browser.Exception, "kaput") {
		t.Errorf("uncaught exception not reported: %v", ps)
	}
	if !hasProblem(ps, browser.Exception, "nobody caught me") {
		t.Errorf("unhandled rejection not reported: %v", ps)
	}
}

func TestMissingResource(t *testing.T) {
	t.Parallel()
	p, _ := start(t)
	p.Go("/missing")
	ps := p.TakeProblems()
	t.Log(ps)
	if !hasProblem(ps, browser.Log, "404") {
		t.Errorf("a 404 script is not reported: %v", ps)
	}
}

func TestAllow(t *testing.T) {
	t.Parallel()
	p, _ := start(t)
	p.Allow(browser.Console, "boom")
	p.Go("/console")
	if ps := p.Problems(); len(ps) != 0 {
		t.Errorf("allowed problems returned: %v", ps)
	}
}

// Each test's page has its own cookies.
func TestPagesAreIsolated(t *testing.T) {
	t.Parallel()
	srv := site(t)
	defer srv.Close()
	b := browser.Start(t)
	one, two := b.Page(t, srv.URL), b.Page(t, srv.URL)
	one.Go("/form")
	two.Go("/form")
	one.Eval(`document.cookie = "who=one; path=/"`, nil)
	var c string
	two.Eval(`document.cookie`, &c)
	if c != "" {
		t.Errorf("a second page sees the first one's cookie: %q", c)
	}
}

func TestScreenshot(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(browser.EnvScreenshots, dir)
	p, _ := start(t)
	p.Go("/form")
	p.Fill("#name", "Ada")
	path := p.Screenshot("form filled")
	if path != filepath.Join(dir, "form_filled.png") {
		t.Errorf("path %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 1000 {
		t.Errorf("not a PNG screenshot (%d bytes)", len(b))
	}
}

// recorder is a testing.TB that records failures instead of failing, to check what
// the helpers report; Fatal ends the goroutine as testing's does.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
	cleanups []func()
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.Errorf("%s", fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Cleanup(f func())                  { r.cleanups = append(r.cleanups, f) }

// run calls f as a test body would, then the cleanups, and returns the failures.
func (r *recorder) run(f func()) []string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			for i := len(r.cleanups) - 1; i >= 0; i-- {
				r.cleanups[i]()
			}
		}()
		f()
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures
}

// A problem nobody took fails the test when it ends, and says what it was.
func TestLeftProblemsFailTheTest(t *testing.T) {
	t.Parallel()
	srv := site(t)
	defer srv.Close()
	b := browser.Start(t)
	for _, c := range []struct{ path, want string }{
		{"/console", "console: console.error: boom 42"},
		{"/csp", "csp: script-src"},
		{"/off-origin", "off-origin: GET http://example.invalid/x.png"},
		{"/exception", "exception: Uncaught"},
	} {
		r := &recorder{TB: t}
		got := r.run(func() {
			p := b.Page(r, srv.URL)
			p.Go(c.path)
			p.Eval(`new Promise((r) => setTimeout(r, 100))`, nil)
		})
		if len(got) != 1 || !strings.Contains(got[0], c.want) || !strings.Contains(got[0], "neither took nor allowed") {
			t.Errorf("%s: failures %q, want one naming %q", c.path, got, c.want)
		}
	}
	r := &recorder{TB: t}
	if got := r.run(func() { b.Page(r, srv.URL).Go("/form") }); len(got) != 0 {
		t.Errorf("a clean page failed the test: %q", got)
	}
}

// A wait that times out fails the test with what it awaited, where the page was, its
// text and a screenshot.
func TestTimeoutMessage(t *testing.T) {
	t.Parallel()
	srv := site(t)
	defer srv.Close()
	b := browser.Start(t)
	r := &recorder{TB: t}
	reached := false
	got := r.run(func() {
		p := b.Page(r, srv.URL)
		p.Go("/form")
		p.Timeout = 300 * time.Millisecond
		p.WaitVisible("#never")
		reached = true
	})
	if reached {
		t.Fatal("WaitVisible of a missing element returned")
	}
	if len(got) != 1 {
		t.Fatalf("failures %q, want one", got)
	}
	msg := got[0]
	for _, want := range []string{"wait for #never to be visible", "timed out after 300ms", "page: " + srv.URL + "/form", `text: "Say hello`, "screenshot: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
	if i := strings.Index(msg, "screenshot: "); i >= 0 {
		path := strings.Fields(msg[i+len("screenshot: "):])[0]
		if _, err := os.Stat(path); err != nil {
			t.Errorf("failure screenshot: %v", err)
		}
		os.Remove(path)
	}
	t.Log(msg)
}
