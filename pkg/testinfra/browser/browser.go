// Package browser drives headless Chromium from Go tests, for end-to-end tests of web
// pages: Debian's chromium package (scripts/test installs it and exports
// SWITCHYARD_CHROMIUM), driven over the DevTools protocol with chromedp.
//
// A test starts a browser, opens a page on its test server and acts as a person would:
//
//	b := browser.Start(t)
//	p := b.Page(t, srv.URL)
//	p.Go("/login")
//	p.Fill("#email", "ada@example.com")
//	p.Click("button[type=submit]")
//	p.WaitVisible("#dashboard")
//	if got := p.Text("h1"); got != "Flags" { t.Errorf("heading %q", got) }
//
// Each page watches what it loads and logs. A request to any origin other than the
// test server's (and those a test allows with AllowOrigins), console.error and console.assert calls, uncaught exceptions and
// unhandled rejections, Content-Security-Policy violations and error entries of the
// browser log (a failed resource, say) are problems; a problem still there when the test
// ends fails the test, unless Page.Allow allowed it or Page.TakeProblems took it (to
// assert on it). Off-origin requests never leave the machine: the page blocks them and
// the browser resolves no host name but localhost. JavaScript dialogs are answered at
// once (see Page.AcceptDialogs) and recorded (Page.Dialogs).
//
// Every helper waits at most Page.Timeout; a failure names what was awaited, the
// current URL and the page's text, and saves a screenshot.
//
// Under scripts/test (SWITCHYARD_INTEGRATION=1) a browser that cannot be found or
// started fails the test; elsewhere it skips it. By default each Start launches a
// Chromium of its own for the test; a package whose TestMain calls Main shares one
// between its tests (each page still gets a fresh, isolated browser context).
// SWITCHYARD_SCREENSHOTS names the directory for Page.Screenshot and failure
// screenshots.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// Environment variables the package reads.
const (
	// EnvChromium is the Chromium binary; when unset, chromium is looked up on PATH.
	EnvChromium = "SWITCHYARD_CHROMIUM"
	// EnvScreenshots is the directory where Page.Screenshot and failures save PNGs.
	EnvScreenshots = "SWITCHYARD_SCREENSHOTS"
	envIntegration = "SWITCHYARD_INTEGRATION"
)

// startTimeout bounds the launch of Chromium and its first answer.
const startTimeout = 60 * time.Second

// Browser is a running Chromium.
type Browser struct {
	ctx     context.Context // chromedp context of the first tab: it owns the browser
	close   func()
	Version string        // the browser's product and version, as it reports them
	Startup time.Duration // how long the launch took, until the browser answered
}

// shared is the browser of a package whose TestMain calls Main.
var shared struct {
	sync.Mutex
	enabled bool
	b       *Browser
	err     error
}

// Main runs the package's tests with one Chromium shared between them, started by the
// first Start and stopped after the last test; it returns m.Run's code:
//
//	func TestMain(m *testing.M) { os.Exit(browser.Main(m)) }
func Main(m *testing.M) int {
	shared.Lock()
	shared.enabled = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.b != nil {
		shared.b.close()
		shared.b = nil
	}
	return code
}

// Start returns a running Chromium for the test: the package's shared one when TestMain
// calls Main, else one of the test's own, stopped when the test ends. When no browser
// can run, it fails the test under scripts/test and skips it elsewhere.
func Start(t testing.TB) *Browser {
	t.Helper()
	shared.Lock()
	if shared.enabled {
		defer shared.Unlock()
		if shared.b == nil && shared.err == nil {
			shared.b, shared.err = launch()
		}
		if shared.err != nil {
			unavailable(t, shared.err)
		}
		return shared.b
	}
	shared.Unlock()
	b, err := launch()
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(b.close)
	return b
}

// ErrNoChromium is the error of a machine without a Chromium binary.
var ErrNoChromium = errors.New("chromium not found (scripts/test installs Debian's chromium package and sets " + EnvChromium + ")")

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv(envIntegration) == "1" {
		t.Fatalf("browser test: %v", err)
	}
	t.Skipf("browser test: %v (make test runs it)", err)
}

// chromiumPath finds the binary: SWITCHYARD_CHROMIUM, else chromium on PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvChromium, p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// flags are Chromium's command line: headless as root in a container, quiet (no
// first-run, sync, component or background traffic) and offline: the host resolver
// knows no name but localhost, so nothing reaches another machine even when a request
// escapes the page's blocking.
func flags(path string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // root has no sandbox
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints,AutofillServerCommunication"),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE ::1"),
		chromedp.WindowSize(1280, 800),
		// No UserDataDir option: chromedp makes a fresh temporary profile for each
		// launch and, after the browser and its children exit, removes it.
	}
}

// launch starts Chromium and waits for its first answer.
func launch() (*Browser, error) {
	path, err := chromiumPath()
	if err != nil {
		return nil, err
	}
	began := time.Now()
	out := &headWriter{max: 8 << 10}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), append(flags(path), chromedp.CombinedOutput(out))...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	stop := func() {
		// A graceful close first, so that Chromium removes nothing half-written; the
		// allocator then kills what is left and waits for the profile's removal.
		done := make(chan struct{})
		go func() { _ = chromedp.Cancel(ctx); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		cancel()
		allocCancel()
	}
	var version string
	err = firstRun(ctx, startTimeout, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		v, err := chromedp.CallBrowser(ctx, cdpbrowser.GetVersion, cdp.Empty{})
		version = v.Product
		return err
	}))
	if err != nil {
		stop()
		if o := strings.TrimSpace(out.String()); o != "" && !strings.Contains(err.Error(), o) {
			err = fmt.Errorf("%w; its output:\n%s", err, o)
		}
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	return &Browser{ctx: ctx, close: sync.OnceFunc(stop), Version: version, Startup: time.Since(began)}, nil
}

// headWriter keeps the beginning of what the browser prints (where a failed start
// says why), and drops the rest.
type headWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *headWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.max - len(w.buf); room > 0 {
		w.buf = append(w.buf, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

func (w *headWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// firstRun runs the first steps of a chromedp context, which starts its browser or
// opens its tab and binds them to the context it is given: that must be ctx itself,
// so the deadline d is kept here (the caller cancels ctx when it is exceeded).
func firstRun(ctx context.Context, d time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx, steps...) }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("no answer after %v", d)
	}
}

// runTimeout runs steps with a deadline of their own; the browser outlives it. Its
// error on a timeout says how long it waited.
func runTimeout(ctx context.Context, d time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	tctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := chromedp.Do(tctx, steps...)
	if err != nil && errors.Is(tctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %v: %w", d, err)
	}
	return err
}
