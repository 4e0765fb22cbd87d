// Package api is the evaluator's HTTP layer: the native evaluate API (/api/v1) and the
// OpenFeature Remote Evaluation Protocol (/ofrep/v1), both authenticated by an SDK key
// that selects the environment.
package api

import (
	"context"
	_ "embed"
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/platform/openapi"
	"github.com/switchyard/switchyard/pkg/platform/server"
)

//go:embed openapi.yaml
var spec []byte

// Document returns the evaluator's OpenAPI document.
func Document() (*openapi.Doc, error) { return openapi.Load(spec) }

// Wildcards are the path prefixes under which a flag key, "/" and all, is one
// parameter.
var Wildcards = []string{"/api/v1/evaluate/", "/ofrep/v1/evaluate/flags/"}

// Snapshots gives the compiled snapshot of an environment.
type Snapshots interface {
	Get(ctx context.Context, environmentID string) (*eval.Snapshot, error)
}

// Authenticator maps an SDK key to its environment; client is the caller's address,
// which failed authentications are counted against (c.RealIP: no work on the hot path
// beyond what echo does anyway).
type Authenticator interface {
	Authenticate(ctx context.Context, key, client string) (string, error)
}

// Counter counts evaluations.
type Counter interface {
	Add(environmentID string, results ...eval.Result)
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
	log     *slog.Logger
}

// New returns the evaluator's HTTP handler.
func New(log *slog.Logger, snaps Snapshots, keys Authenticator, counter Counter, opt Options) *echo.Echo {
	a := &API{snaps: snaps, keys: keys, counter: counter, log: log}
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
	e.POST("/api/v1/evaluate", a.evaluate, a.authenticate)
	e.GET("/api/v1/evaluate/*", a.evaluateOne, a.authenticate)
	e.POST("/ofrep/v1/evaluate/flags", a.ofrepBulk, a.authenticate)
	e.POST("/ofrep/v1/evaluate/flags/*", a.ofrepSingle, a.authenticate)
	return e
}

// snapshot returns the compiled snapshot of the request's environment: 401 when the
// environment is gone, 503 when no snapshot can be had.
func (a *API) snapshot(c echo.Context) (*eval.Snapshot, error) {
	snap, err := a.snaps.Get(c.Request().Context(), environment(c))
	if err != nil {
		if domain.ErrorCode(err) == domain.CodeNotFound {
			return nil, domain.Wrap(domain.CodeUnauthorized, err, "this SDK key's environment no longer exists")
		}
		return nil, domain.Wrap(domain.CodeUnavailable, err, "flags are unavailable right now; retry")
	}
	return snap, nil
}
