// Package api is the evaluator's HTTP layer: the native evaluate API (/api/v1) and the
// OpenFeature Remote Evaluation Protocol (/ofrep/v1), both authenticated by an SDK key
// that selects the environment.
package api

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/pkg/platform/openapi"
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

// Checker is a dependency readiness reports on.
type Checker interface {
	Ping(ctx context.Context) error
}

// Options configure the HTTP layer.
type Options struct {
	MaxBodyBytes int64
	Ready        map[string]Checker
	// Metrics records requests and Panics counts recovered panics; both optional. The
	// metrics themselves are served on the operations listener, not here.
	Metrics echo.MiddlewareFunc
	Panics  httpapi.PanicCounter
	// TrustedProxies are the peers whose X-Forwarded-For names the client (c.RealIP).
	// None: the connection's peer is the client.
	TrustedProxies []*net.IPNet
}

// API serves evaluations.
type API struct {
	snaps   Snapshots
	keys    Authenticator
	counter Counter
	log     *slog.Logger
	opt     Options
}

// New returns the evaluator's HTTP handler.
func New(log *slog.Logger, snaps Snapshots, keys Authenticator, counter Counter, opt Options) *echo.Echo {
	a := &API{snaps: snaps, keys: keys, counter: counter, log: log, opt: opt}
	e := echo.New()
	e.IPExtractor = httpapi.IPExtractor(opt.TrustedProxies)
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.errorHandler(httpapi.ErrorHandler(log))
	e.JSONSerializer = httpapi.JSONSerializer{}
	e.Use(httpapi.RequestID(), httpapi.AccessLog(log, slog.LevelDebug))
	if opt.Metrics != nil {
		e.Use(opt.Metrics)
	}
	// Recover sits inside the log and the metrics, so a panic's 500 shows in both;
	// bad bytes are refused before anything reads them.
	e.Use(httpapi.Recover(log, opt.Panics), httpapi.RejectBadText(), httpapi.BodyLimit(opt.MaxBodyBytes))

	doc, err := Document()
	if err != nil {
		panic(err) // the embedded document is part of the build; tests load it
	}
	doc.Register(e)

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", a.readyz)

	e.POST("/api/v1/evaluate", a.evaluate, a.authenticate)
	e.GET("/api/v1/evaluate/*", a.evaluateOne, a.authenticate)
	e.POST("/ofrep/v1/evaluate/flags", a.ofrepBulk, a.authenticate)
	e.POST("/ofrep/v1/evaluate/flags/*", a.ofrepSingle, a.authenticate)
	return e
}

// errorHandler answers errors on /ofrep paths in OFREP's shape, and all others as
// problem+json.
func (a *API) errorHandler(problem echo.HTTPErrorHandler) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if !strings.HasPrefix(c.Request().URL.Path, "/ofrep/") || c.Response().Committed {
			problem(err, c)
			return
		}
		status := httpapi.Status(err)
		code := "GENERAL"
		if status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge {
			code = "PARSE_ERROR"
		}
		detail := domain.ErrorMessage(err)
		var he *echo.HTTPError
		if errors.As(err, &he) {
			detail = http.StatusText(he.Code)
		}
		// OFREP's error has no field list: the fields go into the details.
		for i, f := range domain.ErrorFields(err) {
			sep := "; "
			if i == 0 {
				sep = ": "
			}
			detail += sep + f.Field + " " + f.Message
		}
		if status >= 500 {
			a.log.ErrorContext(c.Request().Context(), "ofrep request failed", "error", err.Error(), "request_id", httpapi.RequestIDOf(c))
		}
		if secs := domain.RetryAfter(err); secs > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		}
		_ = c.JSON(status, ofrepError{Key: ofrepKey(c), ErrorCode: code, ErrorDetails: detail})
	}
}

// credentials returns the SDK key: Authorization: Bearer, or X-API-Key.
func credentials(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, token, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	return r.Header.Get("X-API-Key")
}

func (a *API) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		env, err := a.keys.Authenticate(c.Request().Context(), credentials(c.Request()), c.RealIP())
		if err != nil {
			return err
		}
		c.Set("environment", env)
		return next(c)
	}
}

func environment(c echo.Context) string {
	env, _ := c.Get("environment").(string)
	return env
}

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

// contextFrom builds an evaluation context from a JSON object: the targeting key comes
// from keyField (or its alias), every other member is an attribute.
func contextFrom(raw map[string]any, keyFields ...string) (eval.Context, error) {
	ctx := eval.Context{Attributes: make(map[string]any, len(raw))}
	for k, v := range raw {
		ctx.Attributes[k] = v
	}
	for _, f := range keyFields {
		v, ok := raw[f]
		if !ok || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return ctx, &domain.Error{Code: domain.CodeInvalid, Message: "invalid context",
				Fields: []domain.FieldError{{Field: "context." + f, Message: "must be a string"}}}
		}
		ctx.Key = s
		delete(ctx.Attributes, f)
		break
	}
	return ctx, nil
}

// resultView is a result as /api/v1 shows it.
type resultView struct {
	Key       string         `json:"key,omitempty"`
	Value     any            `json:"value"`
	Variant   string         `json:"variant,omitempty"`
	Reason    eval.Reason    `json:"reason"`
	RuleID    string         `json:"rule_id,omitempty"`
	ErrorCode eval.ErrorCode `json:"error_code,omitempty"`
	// ErrorMessage says why, for GENERAL: a broken configuration, or the evaluation's
	// budget ran out.
	ErrorMessage string `json:"error_message,omitempty"`
}

func view(r eval.Result) resultView {
	return resultView{Value: r.Value, Variant: r.Variant, Reason: r.Reason, RuleID: r.RuleID, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage}
}

type evaluateRequest struct {
	Context map[string]any `json:"context"`
	Flags   []string       `json:"flags"`
}

// evaluate answers POST /api/v1/evaluate: every flag of the environment, or the named
// ones, for one context.
func (a *API) evaluate(c echo.Context) error {
	var req evaluateRequest
	if err := httpapi.Decode(c, &req); err != nil {
		return err
	}
	ctx, err := contextFrom(req.Context, "key", "targetingKey")
	if err != nil {
		return err
	}
	snap, err := a.snapshot(c)
	if err != nil {
		return err
	}
	var results []eval.Result
	if req.Flags == nil {
		results = snap.EvaluateAll(&ctx)
	} else {
		results = snap.EvaluateKeys(&ctx, req.Flags)
	}
	a.counter.Add(environment(c), results...)
	out := make(map[string]resultView, len(results))
	for _, r := range results {
		out[r.Key] = view(r)
	}
	return c.JSON(http.StatusOK, map[string]any{"flags": out})
}

// evaluateOne answers GET /api/v1/evaluate/{flag}: the context comes from the query
// (key is the targeting key; a repeated parameter is a list).
func (a *API) evaluateOne(c echo.Context) error {
	flag, err := url.PathUnescape(c.Param("*"))
	if err != nil || flag == "" {
		return &domain.Error{Code: domain.CodeInvalid, Message: "invalid flag key",
			Fields: []domain.FieldError{{Field: "flag", Message: "is required in the path"}}}
	}
	raw := map[string]any{}
	for k, vs := range c.QueryParams() {
		if len(vs) == 1 {
			raw[k] = vs[0]
			continue
		}
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		raw[k] = list
	}
	ctx, err := contextFrom(raw, "key", "targetingKey")
	if err != nil {
		return err
	}
	snap, err := a.snapshot(c)
	if err != nil {
		return err
	}
	r := snap.Evaluate(flag, &ctx)
	a.counter.Add(environment(c), r)
	v := view(r)
	v.Key = flag
	status := http.StatusOK
	if r.ErrorCode == eval.ErrFlagNotFound {
		status = http.StatusNotFound
	}
	return c.JSONBlob(status, v.appendJSON(make([]byte, 0, 160)))
}

func (a *API) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	reachable := 0
	for name, chk := range a.opt.Ready {
		if err := chk.Ping(ctx); err != nil {
			checks[name] = "unavailable"
			continue
		}
		checks[name] = "ok"
		reachable++
	}
	// Evaluations work while either store answers (and from memory when neither does),
	// so the evaluator is ready while at least one does.
	status, state := http.StatusOK, "ready"
	if reachable == 0 && len(a.opt.Ready) > 0 {
		status, state = http.StatusServiceUnavailable, "not ready"
	} else if reachable < len(a.opt.Ready) {
		state = "degraded"
	}
	return c.JSON(status, map[string]any{"status": state, "checks": checks})
}

// etag derives the bulk answer's entity tag from the environment, its version and the
// context: the answer changes only when one of them does.
func etag(environmentID string, version int64, body []byte) string {
	h := sha256.New()
	h.Write([]byte(environmentID))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(version, 10)))
	h.Write([]byte{0})
	h.Write(body)
	return `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}

// canonical re-encodes a decoded JSON value with sorted keys, so equal contexts give
// equal tags however their members were ordered.
func canonical(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
