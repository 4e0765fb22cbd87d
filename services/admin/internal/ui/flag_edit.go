package ui

import (
	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

// flagEdit shows a flag's definition: name, description, tags, variants, and deletion.
func (h *handler) flagEdit(r *request) error {
	project, key := r.param("project"), r.param("flag")
	p, err := h.editFlagPage(r, project, key, nil)
	if err != nil {
		return err
	}
	return r.page("flag_form", p)
}

func (h *handler) editFlagPage(r *request, project, key string, f *form.Flag) (*flagFormPage, error) {
	fl, err := h.svc.Flag(r.ctx(), r.origin(), project, key)
	if err != nil {
		return nil, err
	}
	l, err := r.layout("Edit "+fl.Key, "flags", project)
	if err != nil {
		return nil, err
	}
	envs, err := r.environments(project)
	if err != nil {
		return nil, err
	}
	if f == nil {
		f = form.FlagOf(fl.Flag)
	}
	o := r.origin()
	p := &flagFormPage{layout: l, Form: f, Kinds: domain.Kinds, Editing: true, URL: flagURL(project, fl.Key),
		Action: flagURL(project, fl.Key, "edit"), Flag: &fl.Flag,
		CanSave:   allow(o.Need(project, "", domain.RoleDeveloper)),
		CanServe:  allow(service.MayServeEverywhere(o, project, envs)),
		CanDelete: allow(service.MayAdministerEverywhere(o, project, envs))}
	return p, nil
}

// flagUpdate saves a flag's definition. Only what changed is sent, so renaming a flag
// never counts as changing what it serves.
func (h *handler) flagUpdate(r *request) error {
	project, key := r.param("project"), r.param("flag")
	f := form.NewFlag(r.form())
	if op := r.form().Get("op"); op != "" && op != "save" {
		p, err := h.editFlagPage(r, project, key, f)
		if err != nil {
			return err
		}
		f.Apply(op)
		return r.page("flag_form", p)
	}
	cur, err := h.svc.Flag(r.ctx(), r.origin(), project, key)
	if err != nil {
		return err
	}
	patch, err := f.Patch(cur.Flag)
	if err == nil {
		if _, err = h.svc.UpdateFlag(r.ctx(), r.origin(), project, key, patch); err == nil {
			return r.seeOther(flagURL(project, key), key+" saved.")
		}
	}
	switch domain.ErrorCode(err) {
	case domain.CodeInvalid, domain.CodeConflict, domain.CodeLimit:
	default:
		return err
	}
	p, perr := h.editFlagPage(r, project, key, f)
	if perr != nil {
		return perr
	}
	p.Errors = newErrs(err)
	if len(domain.ErrorFields(err)) == 0 {
		p.Errors = newErrs(domain.InvalidField("flag", "", domain.ErrorMessage(err)))
	}
	return r.h.render(r, statusOf(err), "flag_form", p)
}

// flagRemove deletes a flag, once confirmed.
func (h *handler) flagRemove(r *request) error {
	project, key := r.param("project"), r.param("flag")
	if !r.confirmed() {
		return r.confirm("Delete "+key, sentence("Delete ", b(key), " for good? Its configuration in every environment, production included, is deleted; evaluators answer FLAG_NOT_FOUND. This cannot be undone (archiving can)."),
			"Delete flag", true, flagURL(project, key, "edit"))
	}
	if err := h.svc.DeleteFlag(r.ctx(), r.origin(), project, key); err != nil {
		return err
	}
	return r.seeOther("/projects/"+escape(project)+"/flags", key+" deleted.")
}
