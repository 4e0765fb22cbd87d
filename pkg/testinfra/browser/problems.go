package browser

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
)

// Kind is a kind of problem a page can have.
type Kind string

// The kinds of problem.
const (
	// OffOrigin is a request (or a WebSocket) to another origin than the test
	// server's (and those of AllowOrigins); the page blocks it.
	OffOrigin Kind = "off-origin"
	// Console is a console.error or a failed console.assert.
	Console Kind = "console"
	// Exception is an uncaught exception or an unhandled promise rejection.
	Exception Kind = "exception"
	// CSP is a Content-Security-Policy violation (enforced or report-only).
	CSP Kind = "csp"
	// Log is an error entry of the browser log that none of the kinds above covers,
	// such as a resource that failed to load (a 404 included).
	Log Kind = "log"
)

// Problem is something a page did that a test fails on unless it expects it.
type Problem struct {
	Kind Kind
	Text string // what happened, as the console would say it
	URL  string // the page or script it came from, when known
}

func (p Problem) String() string {
	if p.URL == "" {
		return fmt.Sprintf("%s: %s", p.Kind, p.Text)
	}
	return fmt.Sprintf("%s: %s (%s)", p.Kind, p.Text, p.URL)
}

// allowRule is one Allow.
type allowRule struct {
	kind Kind
	sub  string
}

// Allow makes problems of the kind whose text contains substr (any text when it is
// empty) acceptable: they are neither returned by Problems nor fail the test.
func (p *Page) Allow(kind Kind, substr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allow = append(p.allow, allowRule{kind, substr})
}

// Problems returns the problems collected so far, minus the allowed ones, after
// letting the page deliver what it has pending. They stay collected.
func (p *Page) Problems() []Problem { return p.problemsTaking(false) }

// TakeProblems returns the problems like Problems and forgets them, so a test that
// provoked them can assert on them and still pass.
func (p *Page) TakeProblems() []Problem { return p.problemsTaking(true) }

func (p *Page) problemsTaking(take bool) []Problem {
	p.settle()
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Problem
	for _, pr := range p.problems {
		if !p.allowedLocked(pr) {
			out = append(out, pr)
		}
	}
	if take {
		p.problems = nil
	}
	return out
}

func (p *Page) allowedLocked(pr Problem) bool {
	for _, a := range p.allow {
		if a.kind == pr.Kind && strings.Contains(pr.Text, a.sub) {
			return true
		}
	}
	return false
}

func (p *Page) add(pr Problem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, pr)
}

// sameOrigin reports whether a page may load u: the test server's origin, those of
// AllowOrigins, and the schemes that fetch nothing from a network.
func (p *Page) sameOrigin(u string) bool {
	pu, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch pu.Scheme {
	case "data", "about", "javascript":
		return true
	case "blob": // blob:http://host:port/uuid
		return p.sameOrigin(pu.Opaque)
	}
	if pu.Scheme == p.base.Scheme && pu.Host == p.base.Host {
		return true
	}
	return slices.Contains(p.extra, pu.Scheme+"://"+pu.Host)
}

// bindingName is the function through which the page's isolated world reports CSP
// violations; world is that world, which the page's own scripts cannot see.
const (
	bindingName = "__switchyardReport"
	world       = "switchyard-browser-test"
)

// cspListener runs in every document before the page's scripts.
const cspListener = `document.addEventListener("securitypolicyviolation", (e) => {
  ` + bindingName + `(JSON.stringify({
    directive: e.effectiveDirective || e.violatedDirective,
    blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber,
    sample: e.sample, disposition: e.disposition, document: e.documentURI,
  }));
}, true);`

type cspReport struct {
	Directive, Blocked, Source, Sample, Disposition, Document string
	Line                                                      int
}

// onEvent sees every event of the tab, in order, in chromedp's reading loop: it must
// return fast and send no command.
func (p *Page) onEvent(ev any) {
	switch ev := ev.(type) {
	case *page.EventJavascriptDialogOpening:
		p.answerDialog(ev)
	case *network.EventRequestWillBeSent:
		if ev.Request == nil || p.sameOrigin(ev.Request.URL) {
			return
		}
		p.mu.Lock()
		p.offOrigin[ev.RequestID] = true
		p.mu.Unlock()
		p.add(Problem{Kind: OffOrigin, Text: fmt.Sprintf("%s %s (%s)", ev.Request.Method, ev.Request.URL, ev.Type), URL: ev.DocumentURL})
	case *network.EventWebSocketCreated:
		// ws: and wss: have the origins of http: and https:.
		if !p.sameOrigin(strings.Replace(ev.URL, "ws", "http", 1)) {
			p.add(Problem{Kind: OffOrigin, Text: "WebSocket " + ev.URL})
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		p.add(Problem{Kind: Console, Text: "console." + string(ev.Type) + ": " + argsText(ev.Args), URL: stackURL(ev.StackTrace)})
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		if d == nil {
			return
		}
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		u := d.URL
		if u == "" {
			u = stackURL(d.StackTrace)
		}
		if u != "" {
			u = fmt.Sprintf("%s:%d", u, d.LineNumber+1)
		}
		p.add(Problem{Kind: Exception, Text: text, URL: u})
	case *runtime.EventBindingCalled:
		if ev.Name != bindingName {
			return
		}
		var r cspReport
		if err := json.Unmarshal([]byte(ev.Payload), &r); err != nil {
			p.add(Problem{Kind: CSP, Text: ev.Payload})
			return
		}
		text := fmt.Sprintf("%s blocked %s", r.Directive, r.Blocked)
		if r.Disposition == "report" {
			text = fmt.Sprintf("%s would block %s (report-only)", r.Directive, r.Blocked)
		}
		if r.Sample != "" {
			text += fmt.Sprintf(" %q", r.Sample)
		}
		where := r.Document
		if r.Source != "" {
			where = fmt.Sprintf("%s:%d", r.Source, r.Line)
		}
		p.add(Problem{Kind: CSP, Text: text, URL: where})
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		if e == nil || e.Level != cdplog.EntryLevelError {
			return
		}
		p.mu.Lock()
		dup := e.NetworkRequestID != "" && p.offOrigin[e.NetworkRequestID]
		p.mu.Unlock()
		// A blocked off-origin request is reported as such, and a CSP violation by
		// the page's listener, with more detail than the log's message.
		// The browser's own request for /favicon.ico, made when a page names no icon,
		// is not the page's doing.
		if dup || (e.Source == cdplog.EntrySourceSecurity && strings.Contains(e.Text, "Content Security Policy")) ||
			(e.Source == cdplog.EntrySourceNetwork && e.URL == p.base.Scheme+"://"+p.base.Host+"/favicon.ico") {
			return
		}
		p.add(Problem{Kind: Log, Text: string(e.Source) + ": " + e.Text, URL: e.URL})
	}
}

// argsText formats console arguments roughly as the console shows them.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a == nil:
		case a.Type == runtime.RemoteObjectTypeString:
			var s string
			if json.Unmarshal(a.Value, &s) == nil {
				parts = append(parts, s)
			}
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.UnserializableValue != "":
			parts = append(parts, string(a.UnserializableValue))
		case a.Preview != nil && a.Subtype != runtime.RemoteObjectSubtypeError:
			parts = append(parts, previewText(a.Preview))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// previewText is an object's preview: {a: 1, b: "x"} or [1, 2].
func previewText(pr *runtime.ObjectPreview) string {
	items := make([]string, 0, len(pr.Properties))
	for _, prop := range pr.Properties {
		v := prop.Value
		if prop.Type == runtime.PropertyPreviewTypeString {
			v = jsString(v)
		}
		if pr.Subtype == runtime.ObjectPreviewSubtypeArray {
			items = append(items, v)
		} else {
			items = append(items, prop.Name+": "+v)
		}
	}
	if pr.Overflow {
		items = append(items, "…")
	}
	if pr.Subtype == runtime.ObjectPreviewSubtypeArray {
		return "[" + strings.Join(items, ", ") + "]"
	}
	return "{" + strings.Join(items, ", ") + "}"
}

func stackURL(st *runtime.StackTrace) string {
	if st == nil {
		return ""
	}
	for _, f := range st.CallFrames {
		if f.URL != "" {
			return fmt.Sprintf("%s:%d", f.URL, f.LineNumber+1)
		}
	}
	return ""
}
