// Package api is the admin service's HTTP layer: routes, authentication and thin
// handlers that decode a request, make one call into the service and encode the
// answer. Errors become problem+json in one place (pkg/httpapi).
package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/pkg/platform/openapi"
	"github.com/switchyard/switchyard/pkg/platform/server"
	"github.com/switchyard/switchyard/services/admin/internal/auth"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

//go:embed openapi.yaml
var spec []byte

// Document returns the admin API's OpenAPI document.
func Document() (*openapi.Doc, error) { return openapi.Load(spec) }

// Authenticator turns credentials into principals, and logs users in.
type Authenticator interface {
	Authenticate(ctx context.Context, credential, client string) (*auth.Principal, error)
	Login(ctx context.Context, email, password, address string) (string, time.Time, error)
	Logout(ctx context.Context, token string) error
}

// Options configure the HTTP layer: the server skeleton's options (body limit,
// trusted proxies, metrics, readiness checks); New adds the document. Login limits
// count client addresses as the skeleton extracts them: the connection's, or the one a
// trusted proxy forwards, never one a client merely claims.
type Options = server.Options

// API serves the admin API.
type API struct {
	svc  *service.Service
	auth Authenticator
	log  *slog.Logger
}

// New returns the admin API's HTTP handler.
func New(log *slog.Logger, svc *service.Service, auth Authenticator, opt Options) *server.Echo {
	a := &API{svc: svc, auth: auth, log: log}
	doc, err := Document()
	if err != nil {
		panic(err) // the embedded document is part of the build; tests load it
	}
	opt.Document = doc
	e := server.New(log, opt)

	// Authentication is attached per route rather than to a group: a group's
	// middleware catches every path below it, which turns 405 into 404. Each route
	// names the shape of its handler (handle.go): body, optionalBody, noBody,
	// noContent, paged, filtered or unpaged, with its status.
	v1 := func(method, path string, h echo.HandlerFunc) { e.Add(method, "/api/v1"+path, h, a.authenticate) }
	const ok, created = http.StatusOK, http.StatusCreated
	v1(http.MethodPost, "/projects", body(created, a.createProject))
	v1(http.MethodGet, "/projects", paged(a.listProjects))
	v1(http.MethodGet, "/projects/:project", noBody(ok, a.getProject))
	v1(http.MethodPatch, "/projects/:project", body(ok, a.updateProject))
	v1(http.MethodDelete, "/projects/:project", noContent(a.deleteProject))

	v1(http.MethodPost, "/projects/:project/environments", body(created, a.createEnvironment))
	v1(http.MethodGet, "/projects/:project/environments", paged(a.listEnvironments))
	v1(http.MethodGet, "/projects/:project/environments/:env", noBody(ok, a.getEnvironment))
	v1(http.MethodPatch, "/projects/:project/environments/:env", body(ok, a.updateEnvironment))
	v1(http.MethodDelete, "/projects/:project/environments/:env", noContent(a.deleteEnvironment))
	v1(http.MethodPost, "/projects/:project/environments/:env/evaluate", body(ok, a.explain))

	v1(http.MethodPost, "/projects/:project/flags", body(created, a.createFlag))
	v1(http.MethodGet, "/projects/:project/flags", filtered(flagFilter, a.listFlags))
	v1(http.MethodGet, "/projects/:project/flags/:flag", noBody(ok, a.getFlag))
	v1(http.MethodPatch, "/projects/:project/flags/:flag", body(ok, a.updateFlag))
	v1(http.MethodDelete, "/projects/:project/flags/:flag", noContent(a.deleteFlag))
	v1(http.MethodGet, "/projects/:project/flags/:flag/environments/:env", noBody(ok, a.getConfig))
	v1(http.MethodPut, "/projects/:project/flags/:flag/environments/:env", body(ok, a.replaceConfig))
	v1(http.MethodPost, "/projects/:project/flags/:flag/environments/:env/toggle", optionalBody(ok, a.toggle))
	v1(http.MethodPost, "/projects/:project/flags/:flag/environments/:env/revert", body(ok, a.revertConfig))
	v1(http.MethodGet, "/projects/:project/flags/:flag/evaluations", a.evaluations)
	v1(http.MethodPost, "/projects/:project/flags/:flag/kill", noBody(ok, a.kill))
	v1(http.MethodDelete, "/projects/:project/flags/:flag/kill", noBody(ok, a.unkill))

	v1(http.MethodPost, "/projects/:project/environments/:env/sdk-keys", optionalBody(created, a.createSDKKey))
	v1(http.MethodGet, "/projects/:project/environments/:env/sdk-keys", unpaged(a.listSDKKeys))
	v1(http.MethodPost, "/projects/:project/environments/:env/sdk-keys/:id/rotate", optionalBody(created, a.rotateSDKKey))
	v1(http.MethodDelete, "/projects/:project/environments/:env/sdk-keys/:id", noContent(a.revokeSDKKey))

	v1(http.MethodGet, "/audit", filtered(auditFilter, a.listAudit))

	e.POST("/api/v1/auth/login", body(ok, a.login))
	v1(http.MethodGet, "/auth/me", noBody(ok, a.me))
	v1(http.MethodPost, "/auth/logout", noContent(a.logout))
	v1(http.MethodPost, "/users", body(created, a.createUser))
	v1(http.MethodGet, "/users", paged(a.listUsers))
	v1(http.MethodGet, "/users/:id", noBody(ok, a.getUser))
	v1(http.MethodPatch, "/users/:id", body(ok, a.updateUser))
	v1(http.MethodGet, "/projects/:project/members", unpaged(a.listMembers))
	v1(http.MethodPut, "/projects/:project/members/:user", body(ok, a.setMember))
	v1(http.MethodDelete, "/projects/:project/members/:user", noContent(a.removeMember))
	v1(http.MethodPost, "/tokens", body(created, a.createToken))
	v1(http.MethodGet, "/tokens", unpaged(a.listTokens))
	v1(http.MethodDelete, "/tokens/:id", noContent(a.revokeToken))
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
		p, err := a.auth.Authenticate(c.Request().Context(), credentials(c.Request()), httpapi.ClientKey(c.RealIP()))
		if err != nil {
			return err
		}
		c.Set("principal", p)
		return next(c)
	}
}
