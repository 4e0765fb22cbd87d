// Package ui is the admin service's web dashboard: server-rendered pages over the same
// service layer as the JSON API (never the store), so every change made here is the
// same checked, audited call as the API's, with the signed-in user as actor.
//
// It follows miniflux's layout: one small file per page action (flag_list.go shows
// the list, flag_toggle.go flips a switch), forms parsed and checked in package form,
// templates and assets embedded (templates/, static/) and served under a strict
// Content-Security-Policy, a CSRF check on every state-changing request
// (middleware.go), and a little hand-written JavaScript that enhances pages which
// work without it.
package ui

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/services/admin/internal/auth"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

// Authenticator signs users in and out and turns a session into a principal
// (auth.Authenticator).
type Authenticator interface {
	Authenticate(ctx context.Context, credential, client string) (*auth.Principal, error)
	Login(ctx context.Context, email, password, address string) (string, time.Time, error)
	Logout(ctx context.Context, token string) error
}

// Options configure the dashboard.
type Options struct {
	Auth Authenticator
	// Secret keys the CSRF tokens (JWT_SECRET: a token is tied to one session and
	// valid on every replica).
	Secret []byte
	// CookieSecure marks cookies Secure on every answer (COOKIE_SECURE), for a service
	// behind a proxy that terminates TLS; over TLS they are Secure anyway.
	CookieSecure bool
}

// handler serves the dashboard's pages.
type handler struct {
	svc     *service.Service
	log     *slog.Logger
	opt     Options
	views   *views
	assets  *assets
	csrfKey []byte
	origins *http.CrossOriginProtection
}

// Mount adds the dashboard's routes to e, beside the API (which stays under /api/v1).
func Mount(e *echo.Echo, log *slog.Logger, svc *service.Service, opt Options) {
	mac := hmac.New(sha256.New, opt.Secret)
	mac.Write([]byte("switchyard dashboard csrf"))
	h := &handler{svc: svc, log: log, opt: opt, views: mustViews(), assets: mustAssets(), csrfKey: mac.Sum(nil),
		origins: http.NewCrossOriginProtection()}

	e.GET("/static/:file", h.static)
	e.GET("/login", h.public(h.loginShow))
	e.POST("/login", h.public(h.loginCheck))

	// Every other page needs a session (user), and every POST a CSRF token (user
	// checks it before the handler runs).
	get := func(path string, fn handlerFunc) { e.GET(path, h.user(fn)) }
	post := func(path string, fn handlerFunc) { e.POST(path, h.user(fn)) }

	post("/logout", h.logout)
	get("/", h.home)
	get("/switch", h.projectSwitch)
	get("/projects", h.projectList)
	post("/projects", h.projectCreate)
	get("/projects/:project", h.projectHome)

	get("/projects/:project/flags", h.flagList)
	post("/projects/:project/toggle", h.flagToggle)
	get("/projects/:project/new-flag", h.flagNew)
	post("/projects/:project/flags", h.flagCreate)
	get("/projects/:project/flags/:flag", h.flagShow)
	post("/projects/:project/flags/:flag/environments/:env", h.configSave)
	post("/projects/:project/flags/:flag/environments/:env/revert", h.configRevert)
	get("/projects/:project/flags/:flag/edit", h.flagEdit)
	post("/projects/:project/flags/:flag/edit", h.flagUpdate)
	post("/projects/:project/flags/:flag/kill", h.flagKill)
	post("/projects/:project/flags/:flag/archive", h.flagArchive)
	post("/projects/:project/flags/:flag/delete", h.flagRemove)
	get("/projects/:project/flags/:flag/history", h.flagHistory)
	get("/projects/:project/history", h.projectHistory)
	get("/projects/:project/playground", h.playgroundShow)
	post("/projects/:project/playground", h.playgroundRun)

	get("/projects/:project/settings", h.settingsShow)
	post("/projects/:project/settings", h.projectUpdate)
	post("/projects/:project/environments", h.environmentCreate)
	get("/projects/:project/environments/:env", h.environmentShow)
	post("/projects/:project/environments/:env", h.environmentUpdate)
	post("/projects/:project/environments/:env/delete", h.environmentRemove)
	post("/projects/:project/environments/:env/sdk-keys", h.sdkKeyCreate)
	post("/projects/:project/environments/:env/sdk-keys/:id/rotate", h.sdkKeyRotate)
	post("/projects/:project/environments/:env/sdk-keys/:id/revoke", h.sdkKeyRevoke)
	get("/projects/:project/members", h.memberList)
	post("/projects/:project/members", h.memberSave)
	post("/projects/:project/members/:user/remove", h.memberRemove)
	get("/projects/:project/tokens", h.tokenList)
	post("/projects/:project/tokens", h.tokenCreate)
	post("/projects/:project/tokens/:id/revoke", h.tokenRevoke)

	get("/users", h.userList)
	post("/users", h.userCreate)
	get("/users/:id", h.userShow)
	post("/users/:id", h.userUpdate)
}
