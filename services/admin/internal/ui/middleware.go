package ui

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/services/admin/internal/auth"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

// contentSecurityPolicy allows nothing from another origin, no inline script or style
// (attributes included), no framing, no <base> and no form posting elsewhere. The
// pages' SVG is markup, styled by the stylesheet's classes.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// secure sets the headers every dashboard answer carries.
func secure(c echo.Context) {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
}

// handlerFunc is a page action of a signed-in user.
type handlerFunc func(r *request) error

// request is one request of a signed-in user: the echo context, the principal, and
// the session it came with.
type request struct {
	echo.Context
	h     *handler
	p     *auth.Principal
	sess  auth.Session
	token string // the session cookie's value
	csrf  string // this session's CSRF token
}

// ctx is the request's context.
func (r *request) ctx() context.Context { return r.Request().Context() }

// origin names the caller to the service: the user, the request and what they may do.
func (r *request) origin() domain.Origin {
	return domain.Origin{Actor: r.p.Actor, RequestID: httpapi.RequestIDOf(r), Address: clientKey(r), Access: r.p}
}

// param returns a path parameter, unescaped: flag keys may hold "/", sent as %2F.
func (r *request) param(name string) string {
	v := r.Param(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// form returns the posted form, parsed and checked by user.
func (r *request) form() url.Values { return r.Request().PostForm }

func clientKey(c echo.Context) string { return httpapi.ClientKey(c.RealIP()) }

// user runs a page action for a signed-in user: the session cookie must name a live
// login session (not an API token, never the bootstrap token), and a POST must carry
// this session's CSRF token and come from this site. Errors become pages.
func (h *handler) user(fn handlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		secure(c)
		c.Response().Header().Set("Cache-Control", "no-store")
		ck, err := c.Cookie(sessionCookie)
		if err != nil || ck.Value == "" {
			return h.toLogin(c, "")
		}
		p, err := h.opt.Auth.Authenticate(c.Request().Context(), ck.Value, clientKey(c))
		if err != nil {
			if domain.ErrorCode(err) == domain.CodeUnauthorized {
				h.clearCookie(c, sessionCookie, "/")
				return h.toLogin(c, "expired")
			}
			return h.fail(c, nil, err)
		}
		sess, ok := p.Session()
		if !ok || p.Actor.Type != domain.ActorUser {
			h.clearCookie(c, sessionCookie, "/")
			return h.toLogin(c, "")
		}
		r := &request{Context: c, h: h, p: p, sess: sess, token: ck.Value, csrf: h.csrfToken(sess.ID)}
		if c.Request().Method == http.MethodPost {
			if err := h.checkPost(c, r.csrf); err != nil {
				return h.fail(c, r, err)
			}
		}
		if err := fn(r); err != nil {
			return h.fail(c, r, err)
		}
		return nil
	}
}

// public runs a page anyone may open (sign-in).
func (h *handler) public(fn echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		secure(c)
		c.Response().Header().Set("Cache-Control", "no-store")
		if err := fn(c); err != nil {
			return h.fail(c, nil, err)
		}
		return nil
	}
}

// errCSRF is the refusal of a state-changing request without this session's token,
// or from another site.
var errCSRF = &domain.Error{Code: domain.CodeForbidden,
	Message: "This form could not be verified: it has expired, or it was not sent from this site. Nothing was changed. " +
		"Go back, reload the page and try again."}

// checkPost parses a posted form and checks that it came from this site with the
// token want (the session's, or the sign-in form's): the synchronizer token against
// forged requests, and the browser's Sec-Fetch-Site/Origin as a second line. Fields
// that are not text are refused before anything reads them.
func (h *handler) checkPost(c echo.Context, want string) error {
	req := c.Request()
	if err := h.origins.Check(req); err != nil {
		return errCSRF
	}
	if err := req.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return domain.Errorf(domain.CodeTooLarge, "the form is larger than %d bytes", tooLarge.Limit)
		}
		return domain.InvalidField("request", "form", "could not be read")
	}
	got := req.PostForm.Get(csrfField)
	if got == "" {
		got = req.Header.Get("X-CSRF-Token")
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errCSRF
	}
	if p := form.TextProblems(req.PostForm); len(p) > 0 {
		return p.Err("form")
	}
	return nil
}

// csrfField is the hidden field every form carries.
const csrfField = "csrf"

// csrfToken is a session's CSRF token: an HMAC of the session's id, so it is tied to
// that session, the same on every replica, and dies with it at sign-out.
func (h *handler) csrfToken(sessionID string) string {
	mac := hmac.New(sha256.New, h.csrfKey)
	mac.Write([]byte("session\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// toLogin sends a visitor without a live session to the sign-in page, remembering
// where they were going (for pages; a form's post is lost, and says so).
func (h *handler) toLogin(c echo.Context, reason string) error {
	q := url.Values{}
	if reason != "" {
		q.Set("reason", reason)
	}
	if c.Request().Method == http.MethodGet && c.Request().URL.Path != "/" {
		q.Set("next", c.Request().URL.RequestURI())
	}
	if c.Request().Method != http.MethodGet && reason == "" {
		q.Set("reason", "signin")
	}
	u := "/login"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return c.Redirect(http.StatusSeeOther, u)
}

// localPath accepts a redirect target only when it stays on this site: a path that
// begins with one "/", with no backslash, space or control character anywhere
// (browsers drop tabs and newlines from URLs, so "/\t/evil.example" would become
// "//evil.example"), and no scheme or host once parsed.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/login") || strings.HasPrefix(next, "/logout") {
		return "/"
	}
	for _, c := range next {
		if c <= ' ' || c == '\\' || c == 0x7f {
			return "/"
		}
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// fail shows an error as a page: what went wrong, in words, and what to do. Server
// errors are logged with their cause, which the page never shows.
func (h *handler) fail(c echo.Context, r *request, err error) error {
	status := httpapi.Status(err)
	if status == http.StatusUnauthorized {
		h.clearCookie(c, sessionCookie, "/")
		return h.toLogin(c, "expired")
	}
	if status == httpapi.StatusClientClosed {
		return nil
	}
	msg := domain.ErrorMessage(err)
	title := http.StatusText(status)
	switch status {
	case http.StatusForbidden:
		title = "Not allowed"
	case http.StatusNotFound:
		title = "Not found"
	case http.StatusTooManyRequests:
		title = "Too many attempts"
		if s := domain.RetryAfter(err); s > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(s))
		}
	case http.StatusServiceUnavailable:
		msg = "A service the dashboard needs is unavailable. Try again in a moment."
	case http.StatusGatewayTimeout:
		msg = "This took too long. Try again in a moment."
	}
	if status >= 500 && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout {
		title, msg = "Something went wrong", "Something went wrong on our side. Try again; if it keeps happening, "+
			"tell your administrator the request id below."
	}
	if status >= 500 {
		h.log.ErrorContext(c.Request().Context(), "dashboard request failed", "request_id", httpapi.RequestIDOf(c),
			"method", c.Request().Method, "path", c.Path(), "error", err.Error())
	}
	var l *layout
	if r != nil {
		l = r.bare(title)
	} else {
		l = &layout{Title: title, Assets: h.assets}
	}
	return h.render(c, status, "error", &errorPage{layout: l, Status: status, Message: msg, Fields: domain.ErrorFields(err),
		RequestID: httpapi.RequestIDOf(c)})
}

type errorPage struct {
	*layout
	Status    int
	Message   string
	Fields    []domain.FieldError
	RequestID string
}
