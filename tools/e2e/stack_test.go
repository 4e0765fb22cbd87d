package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/pkg/testinfra/browser"
)

// One Chromium for the package; each test's pages are tabs in contexts of their own.
// The service binaries are built once, into a directory removed at the end.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchyard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	bins.dir = dir
	code := browser.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// Credentials of every stack. The services listen on loopback only.
const (
	adminToken = "e2e-bootstrap-token-0123456789abcdef0123456789"
	jwtSecret  = "e2e-jwt-secret-0123456789abcdef0123456789abcdef"
	password   = "correct horse battery staple"
	project    = "shop"
)

// bins are the admin and evaluator binaries, built by the first test that needs them.
var bins struct {
	once sync.Once
	dir  string
	err  error
	took time.Duration
}

// binaries builds the services (once per run) and returns their paths.
func binaries(t testing.TB) (admin, evaluator string) {
	t.Helper()
	bins.once.Do(func() {
		began := time.Now()
		root, err := repoRoot()
		if err != nil {
			bins.err = err
			return
		}
		names := []string{"admin", "evaluator"}
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		for i, name := range names {
			wg.Go(func() {
				cmd := exec.Command(goTool(), "build", "-o", filepath.Join(bins.dir, name), "./services/"+name+"/cmd/"+name)
				cmd.Dir = root
				if out, err := cmd.CombinedOutput(); err != nil {
					errs[i] = fmt.Errorf("go build %s: %w\n%s", name, err, out)
				}
			})
		}
		wg.Wait()
		bins.err = errors.Join(errs...)
		bins.took = time.Since(began)
		t.Logf("built the admin and evaluator binaries in %v", bins.took.Round(time.Millisecond))
	})
	if bins.err != nil {
		t.Fatalf("build the services: %v", bins.err)
	}
	return filepath.Join(bins.dir, "admin"), filepath.Join(bins.dir, "evaluator")
}

// repoRoot is the directory holding go.work, above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.work not found above the working directory")
		}
		dir = parent
	}
}

// goTool is the go command: the one on PATH, else the one of the toolchain that built
// the test.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// process is a service binary running for one test.
type process struct {
	name string
	url  string // http://127.0.0.1:port
	log  string // its standard output and error
	cmd  *exec.Cmd
	done chan struct{}
}

// startProcess runs bin on a free loopback port (HTTP_ADDR) with its operations
// listener on another (OPS_ADDR), and waits until /healthz answers. It is stopped
// (SIGTERM, then SIGKILL) when the test ends; when the test failed, the end of its log
// is shown. A port taken between its choice and the process's start is chosen again.
func startProcess(t testing.TB, name, bin string, env []string, args ...string) *process {
	t.Helper()
	for attempt := 1; ; attempt++ {
		p, err := tryStart(t, name, bin, env, args...)
		if err == nil {
			t.Cleanup(func() {
				p.stop()
				if t.Failed() {
					t.Logf("%s's log (the end):\n%s", name, tail(p.log, 30))
				}
			})
			return p
		}
		if errors.Is(err, errPortTaken) && attempt < 3 {
			t.Logf("%v; again on other ports", err)
			continue
		}
		t.Fatal(err)
	}
}

var errPortTaken = errors.New("port taken")

func tryStart(t testing.TB, name, bin string, env []string, args ...string) (*process, error) {
	addr, ops := "127.0.0.1:"+strconv.Itoa(freePort(t)), "127.0.0.1:"+strconv.Itoa(freePort(t))
	p := &process{name: name, url: "http://" + addr, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	logFile, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(append(os.Environ(), env...), "HTTP_ADDR="+addr, "OPS_ADDR="+ops)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = p.cmd.Wait(); logFile.Close(); close(p.done) }()
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if res, err := client.Get(p.url + "/healthz"); err == nil {
			res.Body.Close()
			// The answer must be this process's: one that failed to listen (another
			// has the port) exits at once.
			if res.StatusCode == http.StatusOK {
				select {
				case <-p.done:
				case <-time.After(100 * time.Millisecond):
					return p, nil
				}
			}
		}
		select {
		case <-p.done:
			log := tail(p.log, 30)
			if strings.Contains(log, "address already in use") {
				return nil, fmt.Errorf("%s: %w: %s", name, errPortTaken, log)
			}
			return nil, fmt.Errorf("%s exited at start:\n%s", name, log)
		case <-time.After(25 * time.Millisecond):
		}
	}
	p.stop()
	return nil, fmt.Errorf("%s did not answer on %s/healthz within 20 s:\n%s", name, p.url, tail(p.log, 30))
}

// ports are those handed out in this run, never twice.
var ports struct {
	sync.Mutex
	used map[int]bool
}

// freePort returns a loopback port that was free a moment ago and that no other test
// of the package was given.
func freePort(t testing.TB) int {
	ports.Lock()
	defer ports.Unlock()
	if ports.used == nil {
		ports.used = map[int]bool{}
	}
	for {
		if p := testinfra.FreePort(t); !ports.used[p] {
			ports.used[p] = true
			return p
		}
	}
}

func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// stack is one test's Switchyard: a fresh database, the admin service (API and
// dashboard) and, when asked for, an evaluator, with the project "shop"
// (development, staging, protected production) made through the API.
type stack struct {
	t       testing.TB
	URL     string            // the admin service: dashboard at /, API under /api/v1
	EvalURL string            // the evaluator, when started
	eval    *process          // the evaluator, when started
	api     *testinfra.Client // the admin API as the bootstrap token
}

// newStack starts a stack; withEvaluator adds an evaluator on the same database and
// Redis, with evalEnv (NAME=value) added to its environment.
func newStack(t testing.TB, withEvaluator bool, evalEnv ...string) *stack {
	t.Helper()
	db, redis := testinfra.MigratedDB(t), testinfra.RedisURL(t)
	adminBin, evalBin := binaries(t)
	env := []string{"DATABASE_URL=" + db, "REDIS_URL=" + redis, "ADMIN_TOKEN=" + adminToken, "JWT_SECRET=" + jwtSecret,
		"LOG_LEVEL=warn", "LOG_FORMAT=text", "SHUTDOWN_TIMEOUT=2s", "OUTBOX_INTERVAL=100ms", "DB_MAX_CONNS=4",
		// The tests share the test Redis, where the services count sign-in attempts
		// and failed authentications per client address: 127.0.0.1 for all of them.
		"LOGIN_ATTEMPTS_PER_ADDRESS=100000", "LOGIN_ATTEMPTS_PER_ACCOUNT_ADDRESS=1000", "LOGIN_ATTEMPTS_PER_ACCOUNT=1000",
		"AUTH_FAILURES_PER_ADDRESS=100000"}
	s := &stack{t: t}
	s.URL = startProcess(t, "admin", adminBin, env, "serve").url
	if withEvaluator {
		s.eval = startProcess(t, "evaluator", evalBin, append(append(env, "ANALYTICS_FLUSH_INTERVAL=1s", "DB_MAX_CONNS=2"), evalEnv...))
		s.EvalURL = s.eval.url
	}
	s.api = &testinfra.Client{T: t, URL: s.URL, Auth: "Bearer " + adminToken}
	s.api.Must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"key": project, "name": "Shop",
		"description": "The web shop"})
	return s
}

// user creates a user (password: the constant password) and returns its id.
func (s *stack) user(email, name string) string {
	s.t.Helper()
	var u struct{ ID string }
	decode(s.t, s.api.Must(http.StatusCreated, "POST", "/api/v1/users", map[string]any{"email": email, "name": name,
		"password": password}), &u)
	return u.ID
}

// member creates a user with a role in the project and returns its id.
func (s *stack) member(email, name, role string) string {
	s.t.Helper()
	id := s.user(email, name)
	s.api.Must(http.StatusOK, "PUT", "/api/v1/projects/"+project+"/members/"+id, map[string]any{"role": role})
	return id
}

// flag creates a flag.
func (s *stack) flag(def map[string]any) {
	s.t.Helper()
	s.api.Must(http.StatusCreated, "POST", "/api/v1/projects/"+project+"/flags", def)
}

// config is a configuration as the API reads it.
type config struct {
	Enabled bool   `json:"enabled"`
	Rules   []rule `json:"rules"`
	Default serve  `json:"default"`
	Off     string `json:"off_variant"`
	Version int64  `json:"version"`
}

type rule struct {
	ID         string      `json:"id"`
	Conditions []condition `json:"conditions"`
	Serve      serve       `json:"serve"`
}

type condition struct {
	Attribute string `json:"attribute"`
	Operator  string `json:"operator"`
	Values    []any  `json:"values"`
}

type serve struct {
	Variant string   `json:"variant,omitempty"`
	Rollout *rollout `json:"rollout,omitempty"`
}

type rollout struct {
	Weights  map[string]float64 `json:"weights"`
	BucketBy string             `json:"bucket_by,omitempty"`
}

func flagPath(key, env string) string {
	return "/api/v1/projects/" + project + "/flags/" + url.PathEscape(key) + "/environments/" + env
}

// config reads a flag's configuration in an environment.
func (s *stack) config(key, env string) config {
	s.t.Helper()
	var c config
	decode(s.t, s.api.Must(http.StatusOK, "GET", flagPath(key, env), nil), &c)
	return c
}

// configure replaces a configuration, whatever its version, as the caller c (the
// bootstrap token when nil), and returns the new version.
func (s *stack) configure(c *testinfra.Client, key, env string, body map[string]any) int64 {
	s.t.Helper()
	if c == nil {
		c = s.api
	}
	var out config
	decode(s.t, c.Must(http.StatusOK, "PUT", flagPath(key, env), body, "If-Match", "*"), &out)
	return out.Version
}

// as is the API as a user, signed in with email and password.
func (s *stack) as(email string) *testinfra.Client {
	s.t.Helper()
	var tok struct{ Token string }
	decode(s.t, s.api.Must(http.StatusOK, "POST", "/api/v1/auth/login", map[string]any{"email": email, "password": password},
		"Authorization", ""), &tok)
	return &testinfra.Client{T: s.t, URL: s.URL, Auth: "Bearer " + tok.Token}
}

// auditEntry is an entry of the audit trail, as the API reads it.
type auditEntry struct {
	ID          int64           `json:"id"`
	At          time.Time       `json:"at"`
	Action      string          `json:"action"`
	Flag        string          `json:"flag"`
	Environment string          `json:"environment"`
	Reverts     int64           `json:"reverts"`
	Before      json.RawMessage `json:"before"`
	After       json.RawMessage `json:"after"`
	Actor       struct {
		Type, ID, Name string
	} `json:"actor"`
}

// audit reads the project's audit trail, newest first, filtered by query (flag=,
// action= ...).
func (s *stack) audit(query string) []auditEntry {
	s.t.Helper()
	var list struct{ Items []auditEntry }
	decode(s.t, s.api.Must(http.StatusOK, "GET", "/api/v1/audit?project="+project+"&"+query, nil), &list)
	return list.Items
}

func (e auditEntry) String() string {
	return fmt.Sprintf("#%d %s by %s (%s) flag=%s env=%s", e.ID, e.Action, e.Actor.Name, e.Actor.Type, e.Flag, e.Environment)
}

func decode(t testing.TB, r testinfra.Response, out any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, out); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// page opens a browser tab on the dashboard.
func (s *stack) page() *browser.Page {
	s.t.Helper()
	return browser.Start(s.t).Page(s.t, s.URL)
}

// signIn signs in through the sign-in form and waits for the flag list (the home page
// of a user with one project).
func (s *stack) signIn(p *browser.Page, email string) {
	s.t.Helper()
	p.Go("/login")
	p.Fill("#email", email)
	p.Fill("#password", password)
	p.Click(`form[action="/login"] button[type=submit]`)
	p.WaitVisible("nav.rail .who")
	p.WaitText("main h1", "Flags")
}

// sessionCookie returns the browser's session cookie for the dashboard, failing the
// test when there is none.
func (s *stack) sessionCookie(p *browser.Page) *network.Cookie {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(p.Context(), 10*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.URL + "/"}})
	if err != nil {
		s.t.Fatalf("read the cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == "sy_session" {
			return c
		}
	}
	s.t.Fatalf("no session cookie among %d cookies", len(res.Cookies))
	return nil
}

// flash waits for the message a change leaves on the page it redirects to.
func flash(p *browser.Page, want string) string {
	return p.WaitText("main .flash", want)
}

// screenshot saves the viewport (1280x800) as name.png in SWITCHYARD_SCREENSHOTS, after
// running the script scroll (when not empty) to bring the part worth seeing into view;
// without that variable it does nothing. The focus is let go first, so no focus ring
// shows.
func screenshot(t *testing.T, p *browser.Page, name, scroll string) {
	t.Helper()
	dir := os.Getenv(browser.EnvScreenshots)
	if dir == "" {
		return
	}
	p.Eval(`(() => { if (document.activeElement) document.activeElement.blur(); `+scroll+`; })()`, nil)
	ctx, cancel := context.WithTimeout(p.Context(), 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d KB)", path, len(png)>>10)
}
