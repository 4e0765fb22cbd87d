package ui

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Cookies. The session cookie holds the login session's token: HttpOnly (no script
// reads it), SameSite=Lax (no other site's form or fetch sends it), Secure over TLS or
// when configured. Signing out revokes the session on the server, so a copy of the
// cookie stops working too.
const (
	sessionCookie = "sy_session"
	// loginCookie holds the sign-in form's CSRF token (double submit): there is no
	// session yet to tie it to.
	loginCookie = "sy_login"
	// flashCookie carries one message to the page a change redirects to.
	flashCookie = "sy_flash"
)

// expiredGrace keeps the session cookie a little past the session's expiry, so an
// expired session is recognised and the sign-in page can say so.
const expiredGrace = time.Hour

func (h *handler) setCookie(c echo.Context, name, value, path string, expires time.Time) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: path, Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Request().TLS != nil || h.opt.CookieSecure})
}

func (h *handler) clearCookie(c echo.Context, name, path string) {
	c.SetCookie(&http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Request().TLS != nil || h.opt.CookieSecure})
}

// flash leaves a message for the next page.
func (h *handler) flash(c echo.Context, msg string) {
	h.setCookie(c, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(msg)), "/", time.Now().Add(time.Minute))
}

// takeFlash returns the message left for this page, once.
func (h *handler) takeFlash(c echo.Context) string {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	h.clearCookie(c, flashCookie, "/")
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || len(b) > 500 {
		return ""
	}
	return string(b)
}

// seeOther ends a change: a redirect to the page that shows it, with a message.
func (r *request) seeOther(url, msg string) error {
	if msg != "" {
		r.h.flash(r, msg)
	}
	return r.Redirect(http.StatusSeeOther, url)
}

func randomToken() string { return rand.Text() }
