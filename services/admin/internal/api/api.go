// Package api is the admin service's HTTP layer: routes, authentication and thin
// handlers that decode a request, make one call into the service and encode the
// answer. Errors become problem+json in one place (pkg/httpapi).
package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/pkg/platform/openapi"
	"github.com/switchyard/switchyard/services/admin/internal/auth"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

//go:embed openapi.yaml
var spec []byte

// Document returns the admin API's OpenAPI document.
func Document() (*openapi.Doc, error) { return openapi.Load(spec) }

// Checker is a dependency readiness depends on.
type Checker interface {
	Ping(ctx context.Context) error
}

// Authenticator turns credentials into principals, and logs users in.
type Authenticator interface {
	Authenticate(ctx context.Context, credential, client string) (*auth.Principal, error)
	Login(ctx context.Context, email, password, address string) (string, time.Time, error)
}

// Options configure the HTTP layer.
type Options struct {
	Auth         Authenticator
	MaxBodyBytes int64
	// Ready names the dependencies /readyz checks.
	Ready map[string]Checker
	// Metrics records requests and Panics counts recovered panics; both optional. The
	// metrics themselves are served on the operations listener, not here.
	Metrics echo.MiddlewareFunc
	Panics  httpapi.PanicCounter
	// TrustedProxies are the peers whose X-Forwarded-For names the client (c.RealIP,
	// which the login limits count by). None: the connection's peer is the client.
	TrustedProxies []*net.IPNet
}

// API serves the admin API.
type API struct {
	svc *service.Service
	log *slog.Logger
	opt Options
}

// New returns the admin API's HTTP handler.
func New(log *slog.Logger, svc *service.Service, opt Options) *echo.Echo {
	a := &API{svc: svc, log: log, opt: opt}
	e := echo.New()
	// Login limits count client addresses: the connection's, or the one a trusted proxy
	// forwards, never one a client merely claims.
	e.IPExtractor = httpapi.IPExtractor(opt.TrustedProxies)
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = httpapi.ErrorHandler(log)
	e.JSONSerializer = httpapi.JSONSerializer{}
	e.Use(httpapi.RequestID(), httpapi.AccessLog(log, slog.LevelInfo))
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

	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)

	// Authentication is attached per route rather than to a group: a group's
	// middleware catches every path below it, which turns 405 into 404.
	v1 := func(method, path string, h echo.HandlerFunc) { e.Add(method, "/api/v1"+path, h, a.authenticate) }
	v1(http.MethodPost, "/projects", a.createProject)
	v1(http.MethodGet, "/projects", a.listProjects)
	v1(http.MethodGet, "/projects/:project", a.getProject)
	v1(http.MethodPatch, "/projects/:project", a.updateProject)
	v1(http.MethodDelete, "/projects/:project", a.deleteProject)

	v1(http.MethodPost, "/projects/:project/environments", a.createEnvironment)
	v1(http.MethodGet, "/projects/:project/environments", a.listEnvironments)
	v1(http.MethodGet, "/projects/:project/environments/:env", a.getEnvironment)
	v1(http.MethodPatch, "/projects/:project/environments/:env", a.updateEnvironment)
	v1(http.MethodDelete, "/projects/:project/environments/:env", a.deleteEnvironment)

	v1(http.MethodPost, "/projects/:project/flags", a.createFlag)
	v1(http.MethodGet, "/projects/:project/flags", a.listFlags)
	v1(http.MethodGet, "/projects/:project/flags/:flag", a.getFlag)
	v1(http.MethodPatch, "/projects/:project/flags/:flag", a.updateFlag)
	v1(http.MethodDelete, "/projects/:project/flags/:flag", a.deleteFlag)
	v1(http.MethodGet, "/projects/:project/flags/:flag/environments/:env", a.getConfig)
	v1(http.MethodPut, "/projects/:project/flags/:flag/environments/:env", a.replaceConfig)
	v1(http.MethodPost, "/projects/:project/flags/:flag/environments/:env/toggle", a.toggle)
	v1(http.MethodGet, "/projects/:project/flags/:flag/evaluations", a.evaluations)
	v1(http.MethodPost, "/projects/:project/flags/:flag/kill", a.kill)
	v1(http.MethodDelete, "/projects/:project/flags/:flag/kill", a.unkill)

	v1(http.MethodPost, "/projects/:project/environments/:env/sdk-keys", a.createSDKKey)
	v1(http.MethodGet, "/projects/:project/environments/:env/sdk-keys", a.listSDKKeys)
	v1(http.MethodPost, "/projects/:project/environments/:env/sdk-keys/:id/rotate", a.rotateSDKKey)
	v1(http.MethodDelete, "/projects/:project/environments/:env/sdk-keys/:id", a.revokeSDKKey)

	v1(http.MethodGet, "/audit", a.listAudit)

	e.POST("/api/v1/auth/login", a.login)
	v1(http.MethodGet, "/auth/me", a.me)
	v1(http.MethodPost, "/users", a.createUser)
	v1(http.MethodGet, "/users", a.listUsers)
	v1(http.MethodGet, "/users/:id", a.getUser)
	v1(http.MethodPatch, "/users/:id", a.updateUser)
	v1(http.MethodPut, "/projects/:project/members/:user", a.setMember)
	v1(http.MethodDelete, "/projects/:project/members/:user", a.removeMember)
	v1(http.MethodPost, "/tokens", a.createToken)
	v1(http.MethodGet, "/tokens", a.listTokens)
	v1(http.MethodDelete, "/tokens/:id", a.revokeToken)
	return e
}

// credentials returns the token of the request: Authorization: Bearer, or X-Admin-Token.
func credentials(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	return r.Header.Get("X-Admin-Token")
}

// authenticate admits the bootstrap token, API tokens and login sessions.
func (a *API) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := a.opt.Auth.Authenticate(c.Request().Context(), credentials(c.Request()), httpapi.ClientKey(c.RealIP()))
		if err != nil {
			return err
		}
		c.Set("principal", p)
		return next(c)
	}
}

// origin names the caller behind a request, and what it may do.
func origin(c echo.Context) domain.Origin {
	p, _ := c.Get("principal").(*auth.Principal)
	if p == nil {
		return domain.Origin{RequestID: httpapi.RequestIDOf(c), Address: httpapi.ClientKey(c.RealIP()), Access: auth.Member(domain.Actor{}, "", nil)}
	}
	return domain.Origin{Actor: p.Actor, RequestID: httpapi.RequestIDOf(c), Address: httpapi.ClientKey(c.RealIP()), Access: p}
}

// param returns a path parameter, unescaped: flag keys may hold "/", sent as %2F.
func param(c echo.Context, name string) string {
	v := c.Param(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

func (a *API) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	status := http.StatusOK
	for name, chk := range a.opt.Ready {
		if err := chk.Ping(ctx); err != nil {
			checks[name] = "unavailable"
			status = http.StatusServiceUnavailable
			continue
		}
		checks[name] = "ok"
	}
	state := "ready"
	if status != http.StatusOK {
		state = "not ready"
	}
	return c.JSON(status, map[string]any{"status": state, "checks": checks})
}
