package ui

import (
	"net/url"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

type flagFormPage struct {
	*layout
	Form    *form.Flag
	Errors  *errs
	Kinds   []domain.Kind
	Action  string
	Editing bool
	URL     string // the flag's page, when editing
	Flag    *domain.Flag

	CanSave, CanServe, CanDelete perm
	BlankVariant                 form.Variant
}

// flagNew shows the form that creates a flag.
func (h *handler) flagNew(r *request) error {
	project := r.param("project")
	p, err := h.newFlagPage(r, project, &form.Flag{Kind: string(domain.KindBoolean)})
	if err != nil {
		return err
	}
	return r.page("flag_form", p)
}

func (h *handler) newFlagPage(r *request, project string, f *form.Flag) (*flagFormPage, error) {
	l, err := r.layout("New flag", "flags", project)
	if err != nil {
		return nil, err
	}
	return &flagFormPage{layout: l, Form: f, Kinds: domain.Kinds, Action: "/projects/" + url.PathEscape(project) + "/flags",
		CanSave: allow(r.origin().Need(project, "", domain.RoleDeveloper))}, nil
}

// flagCreate creates a flag, off in every environment, and opens it.
func (h *handler) flagCreate(r *request) error {
	project := r.param("project")
	f := form.NewFlag(r.form())
	if op := r.form().Get("op"); op != "" && op != "save" {
		f.Apply(op)
		p, err := h.newFlagPage(r, project, f)
		if err != nil {
			return err
		}
		return r.page("flag_form", p)
	}
	in, err := f.Input()
	if err == nil {
		var created domain.FlagDetail
		if created, err = h.svc.CreateFlag(r.ctx(), r.origin(), project, in); err == nil {
			return r.seeOther(flagURL(project, created.Key), created.Key+" created: off in every environment.")
		}
	}
	switch domain.ErrorCode(err) {
	case domain.CodeInvalid, domain.CodeConflict, domain.CodeLimit:
	default:
		return err
	}
	p, perr := h.newFlagPage(r, project, f)
	if perr != nil {
		return perr
	}
	p.Errors = newErrs(err)
	if domain.ErrorCode(err) == domain.CodeConflict {
		p.Errors = newErrs(domain.InvalidField("flag", "key", domain.ErrorMessage(err)))
	}
	status := statusOf(err)
	return r.h.render(r, status, "flag_form", p)
}
