// Package api is the evaluator's HTTP layer: the native evaluate API (/api/v1) and the
// OpenFeature Remote Evaluation Protocol (/ofrep/v1), both authenticated by an SDK key
// that selects the environment.
package api

import (
	"context"
	_ "embed"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/platform/openapi"
	"github.com/switchyard/switchyard/pkg/platform/server"
	"github.com/switchyard/switchyard/services/evaluator/internal/analytics"
	"github.com/switchyard/switchyard/services/evaluator/internal/keys"
	"github.com/switchyard/switchyard/services/evaluator/internal/snapshots"
	"github.com/switchyard/switchyard/services/evaluator/internal/streams"
)

//go:embed openapi.yaml
var spec []byte

// Document returns the evaluator's OpenAPI document.
func Document() (*openapi.Doc, error) { return openapi.Load(spec) }

// Wildcards are the path prefixes under which a flag key, "/" and all, is one
// parameter.
var Wildcards = []string{"/api/v1/evaluate/", "/ofrep/v1/evaluate/flags/"}

// Snapshots gives the compiled snapshot of an environment, one at least at a version a
// client was told about, and the definitions SDKs download.
type Snapshots interface {
	Get(ctx context.Context, environmentID string) (*eval.Snapshot, error)
	AtLeast(ctx context.Context, environmentID string, version int64) (*eval.Snapshot, error)
	Definitions(ctx context.Context, environmentID string, version int64) (*snapshots.Definitions, error)
}

// Authenticator maps an SDK key to what is known of it (environment, id, kind);
// client is the caller's address, which failed authentications are counted against
// (c.RealIP: no work on the hot path beyond what echo does anyway). Valid checks a key
// by id again, for the stream tokens that name it.
type Authenticator interface {
	Authenticate(ctx context.Context, key, client string) (keys.Key, error)
	Valid(ctx context.Context, id, environmentID string) (keys.Key, error)
}

// Counter counts evaluations: those the evaluator made, and those SDKs report.
type Counter interface {
	Add(environmentID string, results ...eval.Result)
	AddCounts(environmentID string, counts []analytics.Count)
}

// Deps are what the HTTP layer serves from.
type Deps struct {
	Snapshots Snapshots
	Keys      Authenticator
	Counter   Counter
	Streams   *streams.Hub
	Tokens    *streams.Tokens
}

// Live configures live updates (docs/LIVE_UPDATES.md).
type Live struct {
	// CORSOrigins are the origins whose pages may call with client keys ("*": any).
	CORSOrigins []string
	// PublicURL is the evaluator's address as clients reach it, for stream URLs; empty
	// for the request's own scheme and host.
	PublicURL string
	// Heartbeat is the interval of the streams' comment lines.
	Heartbeat time.Duration
}

// Options configure the HTTP layer: the server skeleton's options, of which New sets
// the evaluator's own choices (access log level, OFREP's error shape, the document,
// readiness).
type Options = server.Options

// API serves evaluations.
type API struct {
	snaps   Snapshots
	keys    Authenticator
	counter Counter
	hub     *streams.Hub
	tokens  *streams.Tokens
	live    Live
	cors    origins
	log     *slog.Logger
}

// New returns the evaluator's HTTP handler.
func New(log *slog.Logger, d Deps, live Live, opt Options) *server.Echo {
	a := &API{snaps: d.Snapshots, keys: d.Keys, counter: d.Counter, hub: d.Streams, tokens: d.Tokens,
		live: live, cors: newOrigins(live.CORSOrigins), log: log}
	doc, err := Document()
	if err != nil {
		panic(err) // the embedded document is part of the build; tests load it
	}
	// At its request rates a line per evaluation costs more than the evaluation, and
	// the metrics count them.
	opt.AccessLogLevel = slog.LevelDebug
	opt.WrapErrors = a.ofrepErrors
	opt.Document = doc
	// Evaluations work while either store answers (and from memory when neither does),
	// so the evaluator is ready while at least one does.
	opt.Readiness = server.AnyReady
	e := server.New(log, opt)
	// Before routing, so that preflight requests (OPTIONS, which no route has) are
	// answered too.
	e.Pre(a.corsHeaders)
	// Route middleware is chained once here: echo would compose it on every request.
	keyed := func(h echo.HandlerFunc, m ...echo.MiddlewareFunc) echo.HandlerFunc {
		return server.Chain(h, append([]echo.MiddlewareFunc{a.authenticate}, m...)...)
	}
	e.POST("/api/v1/evaluate", keyed(a.evaluate))
	e.GET("/api/v1/evaluate/*", keyed(a.evaluateOne))
	e.POST("/ofrep/v1/evaluate/flags", keyed(a.ofrepBulk))
	e.POST("/ofrep/v1/evaluate/flags/*", keyed(a.ofrepSingle))
	e.GET("/ofrep/v1/stream", a.ofrepStream)
	e.GET("/api/v1/flags", keyed(a.definitions, serverKeysOnly))
	e.GET("/api/v1/stream", keyed(a.stream, serverKeysOnly))
	e.POST("/api/v1/events", keyed(a.events))
	return e
}

// snapshot returns the compiled snapshot of the request's environment: 401 when the
// environment is gone, 503 when no snapshot can be had.
func (a *API) snapshot(c echo.Context) (*eval.Snapshot, error) {
	snap, err := a.snaps.Get(c.Request().Context(), environment(c))
	if err != nil {
		return nil, unavailable(err, "flags")
	}
	return snap, nil
}

// unavailable is the answer when what (flags, definitions) cannot be had: 401 when
// the key's environment is gone, 503 otherwise.
func unavailable(err error, what string) error {
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return domain.Wrap(domain.CodeUnauthorized, err, "this SDK key's environment no longer exists")
	}
	return domain.Wrap(domain.CodeUnavailable, err, what+" are unavailable right now; retry")
}
