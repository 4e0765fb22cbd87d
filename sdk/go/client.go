package switchyard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// SDKVersion is this SDK's version, sent in the User-Agent header.
const SDKVersion = "0.1.0"

const userAgent = "switchyard-go/" + SDKVersion

// Client evaluates an environment's flags in process and keeps its definitions
// current. It is safe for concurrent use. Create it with New; Close it when done.
type Client struct {
	cfg        config
	log        *slog.Logger
	base       string // the evaluator's URL, without a trailing slash
	key        string
	streamHTTP *http.Client
	counting   bool

	defs      atomic.Pointer[definitions]
	announced atomic.Int64  // the newest version the stream announced
	wake      chan struct{} // tells the sync loop to look again (cap 1)
	applyMu   sync.Mutex    // one swap at a time

	counts counter

	mu       sync.Mutex // guards what follows
	health   health
	status   Status
	onStatus listeners[Status]
	onChange listeners[Change]
	onReady  listeners[struct{}]

	// streamCancel ends the stream's current connection; nil between connections.
	streamCancel context.CancelCauseFunc

	ready    chan struct{} // closed when the first definitions are held
	refused  chan struct{} // closed when the key is refused
	dispatch *dispatcher

	cancel    context.CancelFunc // stops the loops and their requests
	wg        sync.WaitGroup
	closed    chan struct{} // closed when Close begins
	closing   atomic.Bool   // set by the first Close
	closeDone chan struct{} // closed when the first Close has finished
	closeErr  error         // the first Close's result, set before closeDone is closed
}

// New creates a client for the environment of a server SDK key, and waits until it
// holds the environment's flag definitions: until they are loaded, ctx ends, or
// WithStartTimeout passes, whichever comes first. With a bootstrap (WithBootstrap,
// WithBootstrapFile) it is ready at once and loads newer definitions in the background.
//
// When the evaluator refuses the key (401, 403) New fails with an error matching
// ErrKeyRefused. When the wait ends first, New returns the client and an error
// matching ErrNotReady: the client keeps trying in the background and answers
// defaults meanwhile; use it, or Close it. Other errors (a bad option or URL) come
// without a client.
//
// ctx bounds the wait only; the client runs until Close.
func New(ctx context.Context, baseURL, sdkKey string, opts ...Option) (*Client, error) {
	cfg := defaults()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("switchyard: %w", err)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("switchyard: %w", err)
	}
	base, err := parseBase(baseURL)
	if err != nil && !cfg.offline {
		return nil, err
	}
	if sdkKey == "" && !cfg.offline {
		return nil, errors.New("switchyard: an SDK key is required")
	}
	stream := *cfg.http
	stream.Timeout = 0 // the stream lasts; silence is caught by the heartbeat watchdog
	c := &Client{
		cfg:        cfg,
		log:        cfg.log,
		base:       base,
		key:        sdkKey,
		streamHTTP: &stream,
		counting:   cfg.events && !cfg.offline,
		wake:       make(chan struct{}, 1),
		ready:      make(chan struct{}),
		refused:    make(chan struct{}),
		closed:     make(chan struct{}),
		closeDone:  make(chan struct{}),
		dispatch:   newDispatcher(cfg.log),
	}
	c.status = Status{State: StateInitializing, Since: time.Now()}
	c.counts.init()
	if cfg.bootstrap != nil {
		s, err := decodeBootstrap(cfg.bootstrap)
		if err == nil {
			err = c.apply(s, "", cfg.bootstrapFrom)
		}
		if err != nil {
			_ = c.dispatch.stop(context.Background())
			return nil, fmt.Errorf("switchyard: bootstrap from %s: %w", cfg.bootstrapFrom, err)
		}
	}
	root, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if cfg.offline {
		return c, nil
	}
	c.wg.Add(1)
	go c.syncLoop(root)
	if cfg.streaming {
		c.wg.Add(1)
		go c.streamLoop(root)
	}
	if c.counting {
		c.wg.Add(1)
		go c.flushLoop(root)
	}
	if c.Ready() || cfg.startTimeout == 0 {
		return c, nil
	}
	timer := time.NewTimer(cfg.startTimeout)
	defer timer.Stop()
	var why string
	select {
	case <-c.ready:
		return c, nil
	case <-c.refused:
		err := c.Status().Err
		_ = c.Close(context.Background())
		return nil, err
	case <-ctx.Done():
		why = ctx.Err().Error()
	case <-timer.C:
		why = "no definitions after " + cfg.startTimeout.String()
	}
	if err := c.Status().Err; err != nil {
		why += "; last error: " + err.Error()
	}
	return c, fmt.Errorf("%w (%s); the client keeps trying", ErrNotReady, why)
}

func parseBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("switchyard: the evaluator URL must be an absolute http(s) URL without query, not %q", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Ready reports whether the client holds definitions.
func (c *Client) Ready() bool { return c.defs.Load() != nil }

// WaitReady waits until the client holds definitions, and fails when ctx ends first,
// when the key is refused, or when the client is closed.
func (c *Client) WaitReady(ctx context.Context) error {
	select {
	case <-c.ready:
		return nil
	default:
	}
	select {
	case <-c.ready:
		return nil
	case <-c.refused:
		return c.Status().Err
	case <-c.closed:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrNotReady, ctx.Err())
	}
}

// Version returns the version of the definitions served, 0 before any.
func (c *Client) Version() int64 {
	if d := c.defs.Load(); d != nil {
		return d.snap.Version
	}
	return 0
}

// Keys returns the keys of the flags served, sorted.
func (c *Client) Keys() []string {
	if d := c.defs.Load(); d != nil {
		return d.snap.Keys()
	}
	return nil
}

// apply swaps in a snapshot unless the definitions held are as new or newer; it tells
// the listeners. from names the source, for the logs.
func (c *Client) apply(s domain.Snapshot, etag, from string) error {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	prev := c.defs.Load()
	if !supersedes(&s, prev) {
		if s.Version < prev.snap.Version {
			c.log.Debug("switchyard: ignoring older definitions", "from", from, "version", s.Version, "held", prev.snap.Version)
		}
		return nil
	}
	next, err := compile(s, etag)
	if err != nil {
		return err
	}
	if p := next.snap.Problems(); len(p) > 0 {
		c.log.Warn("switchyard: some flags cannot be evaluated and answer ERROR", "version", s.Version, "problems", errors.Join(p...).Error())
	}
	if prev != nil && prev.snap.EnvironmentID != "" && s.EnvironmentID != "" && prev.snap.EnvironmentID != s.EnvironmentID {
		c.log.Warn("switchyard: the definitions held were of another environment; replaced",
			"held", prev.snap.EnvironmentKey, "version", s.Version, "environment", s.EnvironmentKey, "from", from)
	}
	c.defs.Store(next)
	// Only flushes drain retired definitions: without reporting there are none, and
	// keeping them would keep every version replaced.
	if prev != nil && c.counting {
		c.counts.retire(prev)
	}

	c.mu.Lock()
	if prev != nil && next.snap.Version < prev.snap.Version && c.streamCancel != nil {
		c.streamCancel(errRestream)
	}
	var ready []func(struct{})
	var changes []func(Change)
	var ch Change
	notify := c.refreshLocked()
	if prev == nil {
		ready = c.onReady.list()
		c.onReady = listeners[struct{}]{}
		close(c.ready)
	} else if keys := changed(prev, next); len(keys) > 0 {
		ch = Change{OldVersion: prev.snap.Version, NewVersion: next.snap.Version, Flags: keys}
		changes = c.onChange.list()
	}
	c.mu.Unlock()
	c.log.Debug("switchyard: definitions loaded", "from", from, "version", s.Version, "flags", len(next.flags))
	notify()
	for _, f := range ready {
		c.dispatch.do(func() { f(struct{}{}) })
	}
	for _, f := range changes {
		c.dispatch.do(func() { f(ch) })
	}
	return nil
}

// poke tells the sync loop to look at the stream's news.
func (c *Client) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// stop ends the loops (Close, or a refused key).
func (c *Client) stop() {
	if c.cancel != nil {
		c.cancel()
	}
}

func (c *Client) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// Close stops the client: it ends the stream and polling, sends the evaluation counts
// not yet reported, and waits for its goroutines (or for ctx to end). The client still
// answers from the definitions it holds afterwards, without reporting. Close returns
// the error of the last report, if any; calling it again returns the same, once the
// first Close has finished.
//
// A callback (OnChange, OnStatus, OnReady) may call Close: the callbacks' goroutine
// then ends when that callback returns, as Close cannot wait for it, and callbacks
// still queued are dropped. Called from a callback while another Close is under way
// (which may be waiting for that callback), Close returns nil at once.
func (c *Client) Close(ctx context.Context) error {
	if !c.closing.CompareAndSwap(false, true) {
		select {
		case <-c.closeDone:
			return c.closeErr
		default:
		}
		if c.dispatch.inCallback() {
			return nil
		}
		select {
		case <-c.closeDone:
			return c.closeErr
		case <-ctx.Done():
			return fmt.Errorf("switchyard: waiting for Close: %w", ctx.Err())
		}
	}
	close(c.closed)
	c.stop()
	c.wg.Wait()
	c.mu.Lock()
	if t := c.health.staleTimer; t != nil {
		t.Stop()
		c.health.staleTimer = nil
	}
	c.mu.Unlock()
	var errs []error
	if c.counting {
		errs = append(errs, c.flush(ctx))
	}
	errs = append(errs, c.dispatch.stop(ctx))
	c.closeErr = errors.Join(errs...)
	close(c.closeDone)
	return c.closeErr
}

// newRequest builds a request to the evaluator with the headers every request carries.
func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("User-Agent", userAgent)
	return req, nil
}
