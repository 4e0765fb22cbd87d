package ui

import (
	"net/url"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

type usersPage struct {
	*layout
	Users  []domain.User
	Next   string
	Errors *errs
	Form   struct {
		Email, Name   string
		InstanceAdmin bool
	}
}

// usersList is the instance administrators' page: a 403 page for anyone else, from
// the service itself.
func (h *handler) usersPage(r *request) (*usersPage, error) {
	l, err := r.layout("Users", "users", "")
	if err != nil {
		return nil, err
	}
	page, err := pageOf(r, domain.MaxPageLimit)
	if err != nil {
		return nil, err
	}
	users, next, err := h.svc.Users(r.ctx(), r.origin(), page)
	if err != nil {
		return nil, err
	}
	p := &usersPage{layout: l, Users: users}
	if next != "" {
		p.Next = "?cursor=" + url.QueryEscape(httpapi.EncodeCursor(next))
	}
	return p, nil
}

// userList lists users (instance administrators).
func (h *handler) userList(r *request) error {
	p, err := h.usersPage(r)
	if err != nil {
		return err
	}
	return r.page("users", p)
}

// userCreate creates a user (instance administrators).
func (h *handler) userCreate(r *request) error {
	in := form.User(r.form())
	u, err := h.svc.CreateUser(r.ctx(), r.origin(), in)
	if err == nil {
		return r.seeOther("/users/"+url.PathEscape(u.ID), "User "+u.Email+" created. Give them a role in a project's Members page.")
	}
	switch domain.ErrorCode(err) {
	case domain.CodeInvalid, domain.CodeConflict:
	default:
		return err
	}
	p, perr := h.usersPage(r)
	if perr != nil {
		return perr
	}
	p.Errors = newErrs(err)
	if domain.ErrorCode(err) == domain.CodeConflict {
		p.Errors = newErrs(domain.InvalidField("user", "email", domain.ErrorMessage(err)))
	}
	p.Form.Email, p.Form.Name, p.Form.InstanceAdmin = in.Email, in.Name, in.InstanceAdmin
	status := statusOf(err)
	return r.h.render(r, status, "users", p)
}

type userPage struct {
	*layout
	User   domain.User
	Self   bool
	Errors *errs
}

func (h *handler) userPage(r *request, id string) (*userPage, error) {
	if !r.p.Superuser() {
		return nil, domain.Errorf(domain.CodeForbidden, "only instance administrators manage users")
	}
	u, err := h.svc.User(r.ctx(), r.origin(), id)
	if err != nil {
		return nil, err
	}
	l, err := r.layout(u.Email, "users", "")
	if err != nil {
		return nil, err
	}
	return &userPage{layout: l, User: u, Self: u.ID == r.p.UserID()}, nil
}

// userShow shows a user: projects, and what an administrator can change.
func (h *handler) userShow(r *request) error {
	p, err := h.userPage(r, r.param("id"))
	if err != nil {
		return err
	}
	return r.page("user", p)
}

// userUpdate disables or enables a user, resets their password (which ends their
// sessions and revokes their API tokens), or changes their name and instance
// administration.
func (h *handler) userUpdate(r *request) error {
	id := r.param("id")
	in, err := form.UserPatch(r.form())
	if err == nil && id == r.p.UserID() && (in.Disabled != nil && *in.Disabled || in.InstanceAdmin != nil && !*in.InstanceAdmin) {
		// Locking oneself out is never what an administrator means here.
		err = domain.InvalidField("user", "action", "you cannot disable yourself or remove your own administration")
	}
	if err == nil && in.Disabled != nil && *in.Disabled && !r.confirmed() {
		return r.confirm("Disable user", sentence("Disable this user? Their sessions and API tokens stop working at once."),
			"Disable", true, "/users/"+url.PathEscape(id), "action")
	}
	var u domain.User
	if err == nil {
		u, err = h.svc.UpdateUser(r.ctx(), r.origin(), id, in)
	}
	if err == nil {
		msg := "Saved."
		switch r.form().Get("action") {
		case "disable":
			msg = u.Email + " is disabled: their sessions and tokens no longer work."
		case "enable":
			msg = u.Email + " is enabled."
		case "password":
			msg = "Password of " + u.Email + " reset: their sessions ended and their API tokens are revoked."
		}
		return r.seeOther("/users/"+url.PathEscape(id), msg)
	}
	if domain.ErrorCode(err) != domain.CodeInvalid {
		return err
	}
	p, perr := h.userPage(r, id)
	if perr != nil {
		return perr
	}
	p.Errors = newErrs(err)
	return r.h.render(r, statusOf(err), "user", p)
}
