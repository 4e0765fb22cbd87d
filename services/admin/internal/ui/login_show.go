package ui

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

type loginPage struct {
	*layout
	Email  string
	Next   string
	Notice string
	Error  string
	Fields map[string]string
}

// notices are what the sign-in page says about why the visitor is there.
var notices = map[string]string{
	"expired":    "Your session has ended (it expired, or you signed out elsewhere). Sign in again.",
	"signin":     "Sign in to continue. What you were sending was not saved.",
	"signed-out": "You have signed out.",
}

// loginShow shows the sign-in form; a visitor still signed in goes on.
func (h *handler) loginShow(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if p, err := h.opt.Auth.Authenticate(c.Request().Context(), ck.Value, clientKey(c)); err == nil {
			if _, ok := p.Session(); ok {
				return c.Redirect(http.StatusSeeOther, localPath(c.QueryParam("next")))
			}
		}
	}
	return h.renderLogin(c, http.StatusOK, &loginPage{Next: c.QueryParam("next"), Notice: notices[c.QueryParam("reason")]})
}

// renderLogin shows the sign-in form with its double-submit token: the browser's
// own, so that two sign-in tabs both work, or a fresh one.
func (h *handler) renderLogin(c echo.Context, status int, p *loginPage) error {
	token := ""
	if ck, err := c.Cookie(loginCookie); err == nil && len(ck.Value) >= 26 && len(ck.Value) <= 64 {
		token = ck.Value
	} else {
		token = randomToken()
	}
	h.setCookie(c, loginCookie, token, "/login", time.Now().Add(12*time.Hour))
	p.layout = &layout{Title: "Sign in", Assets: h.assets, CSRF: token}
	if p.Next != "" {
		p.Next = localPath(p.Next)
	}
	return h.render(c, status, "login", p)
}
