package ui

// logout ends the session on the server (a copy of the cookie, or of the token in it,
// stops working too) and forgets the cookie.
func (h *handler) logout(r *request) error {
	if err := h.opt.Auth.Logout(r.ctx(), r.token); err != nil {
		return err
	}
	h.clearCookie(r, sessionCookie, "/")
	return r.Redirect(303, "/login?reason=signed-out")
}
