package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

// loginCheck signs a user in with email and password, through the same login as the
// API (POST /api/v1/auth/login), so its limits on guessing apply, and keeps the
// session in a cookie.
func (h *handler) loginCheck(c echo.Context) error {
	want := ""
	if ck, err := c.Cookie(loginCookie); err == nil {
		want = ck.Value
	}
	if err := h.checkPost(c, want); err != nil {
		return err
	}
	f := form.NewLogin(c.Request().PostForm)
	page := &loginPage{Email: f.Email, Next: c.Request().PostForm.Get("next"), Fields: map[string]string{}}
	if err := f.Validate(); err != nil {
		for _, fe := range domain.ErrorFields(err) {
			page.Fields[fe.Field] = fe.Message
		}
		return h.renderLogin(c, http.StatusBadRequest, page)
	}
	token, exp, err := h.opt.Auth.Login(c.Request().Context(), f.Email, f.Password, clientKey(c))
	switch domain.ErrorCode(err) {
	case "":
	case domain.CodeUnauthorized:
		page.Error = "Wrong email or password, or the account is disabled."
		return h.renderLogin(c, http.StatusUnauthorized, page)
	case domain.CodeInvalid, domain.CodeRateLimited:
		page.Error = domain.ErrorMessage(err)
		for _, fe := range domain.ErrorFields(err) {
			page.Fields[fe.Field] = fe.Message
		}
		if s := domain.RetryAfter(err); s > 0 {
			c.Response().Header().Set("Retry-After", itoa(s))
		}
		return h.renderLogin(c, statusOf(err), page)
	default:
		return err
	}
	h.clearCookie(c, loginCookie, "/login")
	h.setCookie(c, sessionCookie, token, "/", exp.Add(expiredGrace))
	return c.Redirect(http.StatusSeeOther, localPath(page.Next))
}
