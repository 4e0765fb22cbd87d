package switchyard

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Option configures a Client.
type Option func(*config) error

// config holds every setting of a client, filled with defaults before the options run.
type config struct {
	log            *slog.Logger
	http           *http.Client
	startTimeout   time.Duration
	requestTimeout time.Duration
	streaming      bool
	heartbeat      time.Duration
	pollInterval   time.Duration
	backoffMin     time.Duration
	backoffMax     time.Duration
	staleAfter     time.Duration
	flushInterval  time.Duration
	events         bool
	offline        bool
	bootstrap      []byte
	bootstrapFrom  string // where bootstrap came from, for messages
}

// Defaults of the options.
const (
	DefaultStartTimeout   = 10 * time.Second
	DefaultRequestTimeout = 10 * time.Second
	DefaultHeartbeat      = 15 * time.Second
	DefaultPollInterval   = 30 * time.Second
	DefaultBackoffMin     = 100 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultStaleAfter     = time.Minute
	DefaultFlushInterval  = 10 * time.Second
)

func defaults() config {
	return config{
		log:            slog.Default(),
		http:           &http.Client{},
		startTimeout:   DefaultStartTimeout,
		requestTimeout: DefaultRequestTimeout,
		streaming:      true,
		heartbeat:      DefaultHeartbeat,
		pollInterval:   DefaultPollInterval,
		backoffMin:     DefaultBackoffMin,
		backoffMax:     DefaultBackoffMax,
		staleAfter:     DefaultStaleAfter,
		flushInterval:  DefaultFlushInterval,
		events:         true,
	}
}

func (c *config) validate() error {
	var errs []error
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, not %v", name, d))
		}
	}
	positive("WithRequestTimeout", c.requestTimeout)
	positive("WithHeartbeat", c.heartbeat)
	positive("WithPollInterval", c.pollInterval)
	positive("WithBackoff (min)", c.backoffMin)
	positive("WithStaleAfter", c.staleAfter)
	positive("WithFlushInterval", c.flushInterval)
	if c.backoffMax < c.backoffMin {
		errs = append(errs, fmt.Errorf("WithBackoff: max %v is below min %v", c.backoffMax, c.backoffMin))
	}
	if c.startTimeout < 0 {
		errs = append(errs, fmt.Errorf("WithStartTimeout must not be negative, not %v", c.startTimeout))
	}
	if c.offline && c.bootstrap == nil {
		errs = append(errs, errors.New("WithOffline needs WithBootstrap or WithBootstrapFile: an offline client has no other source of definitions"))
	}
	return errors.Join(errs...)
}

// WithLogger sets the logger (default slog.Default()). The client logs connection
// changes, not evaluations, and never the SDK key.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		c.log = l
		return nil
	}
}

// WithHTTPClient sets the HTTP client for every request (default a new http.Client).
// Its Timeout, if any, applies to definition downloads and event reports; the stream
// is a long-lived request and is made without it (silence is detected with
// WithHeartbeat instead).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		c.http = hc
		return nil
	}
}

// WithStartTimeout sets how long New waits for the first definitions (default 10 s)
// when its context allows longer. Zero makes New return at once, before definitions
// are loaded, without an error: use WaitReady or OnReady then.
func WithStartTimeout(d time.Duration) Option {
	return func(c *config) error { c.startTimeout = d; return nil }
}

// WithRequestTimeout bounds each definitions download and event report (default 10 s).
func WithRequestTimeout(d time.Duration) Option {
	return func(c *config) error { c.requestTimeout = d; return nil }
}

// WithStreaming turns the definitions stream on (the default) or off. Without it the
// client polls every WithPollInterval.
func WithStreaming(on bool) Option {
	return func(c *config) error { c.streaming = on; return nil }
}

// WithHeartbeat sets the evaluator's heartbeat interval (its STREAM_HEARTBEAT, default
// 15 s). A stream silent for three heartbeats is taken for dead and reopened. An
// evaluator that opens its streams with ": heartbeat <seconds>" is taken at its word
// when that is longer (up to five minutes).
func WithHeartbeat(d time.Duration) Option {
	return func(c *config) error { c.heartbeat = d; return nil }
}

// WithPollInterval sets how often the definitions are polled while the stream is down,
// or always when streaming is off (default 30 s). Each interval is shortened by up to
// a fifth at random so that many clients do not poll in step.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) error { c.pollInterval = d; return nil }
}

// WithBackoff sets the range of the delays between failed attempts (reconnecting the
// stream, retrying a download): the n-th delay is drawn at random between zero and
// min·2ⁿ, capped at max (default 100 ms to 30 s).
func WithBackoff(min, max time.Duration) Option {
	return func(c *config) error { c.backoffMin, c.backoffMax = min, max; return nil }
}

// WithStaleAfter sets how long the client may be cut off from the evaluator (stream
// down and polls failing) before its status turns stale (default one minute). It keeps
// serving the definitions it holds all the same.
func WithStaleAfter(d time.Duration) Option {
	return func(c *config) error { c.staleAfter = d; return nil }
}

// WithFlushInterval sets how often evaluation counts are sent (default 10 s).
func WithFlushInterval(d time.Duration) Option {
	return func(c *config) error { c.flushInterval = d; return nil }
}

// WithEventReporting turns the reporting of evaluation counts on (the default) or off.
func WithEventReporting(on bool) Option {
	return func(c *config) error { c.events = on; return nil }
}

// WithBootstrap starts the client from definitions in the shape GET /api/v1/flags
// answers (a saved copy of that answer): New returns ready at once, and the client
// then fetches newer definitions in the background.
func WithBootstrap(definitions []byte) Option {
	return func(c *config) error {
		if definitions == nil {
			definitions = []byte{}
		}
		c.bootstrap, c.bootstrapFrom = definitions, "bootstrap"
		return nil
	}
}

// WithBootstrapFile is WithBootstrap with the definitions read from a file, for
// instance one saved with
//
//	curl -H "Authorization: Bearer $SWITCHYARD_SDK_KEY" $SWITCHYARD_URL/api/v1/flags > flags.json
//
// A file that cannot be read or decoded makes New fail.
func WithBootstrapFile(path string) Option {
	return func(c *config) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("WithBootstrapFile: %w", err)
		}
		c.bootstrap, c.bootstrapFrom = b, path
		return nil
	}
}

// WithOffline makes a client that never contacts the evaluator: it serves the
// bootstrap definitions (WithBootstrap or WithBootstrapFile, required) and reports
// nothing. For tests and for running without a network.
func WithOffline() Option {
	return func(c *config) error { c.offline = true; return nil }
}
