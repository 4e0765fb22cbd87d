package ui

import (
	"net/url"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

type environmentPage struct {
	*layout
	Env    domain.Environment
	URL    string
	Keys   []domain.SDKKey
	Can    perm // admin in the environment: settings, deletion, SDK keys
	Errors *errs
	// Secret is a key just created or rotated: shown once, never again.
	Secret     *domain.SDKKey
	SecretNote string
	// KeyName and KeyKind are the create form's values, shown again when it is refused.
	KeyName string
	KeyKind string
}

func envURL(project, env string) string {
	return "/projects/" + url.PathEscape(project) + "/environments/" + url.PathEscape(env)
}

func (h *handler) environmentPage(r *request, project, env string) (*environmentPage, error) {
	e, err := h.svc.Environment(r.ctx(), r.origin(), project, env)
	if err != nil {
		return nil, err
	}
	l, err := r.layout(e.Key+" settings", "settings", project)
	if err != nil {
		return nil, err
	}
	p := &environmentPage{layout: l, Env: e, URL: envURL(project, e.Key), Can: allow(r.origin().Need(project, env, domain.RoleAdmin))}
	if p.Can.OK {
		if p.Keys, err = h.svc.SDKKeys(r.ctx(), r.origin(), project, env); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// environmentShow shows an environment's settings and SDK keys.
func (h *handler) environmentShow(r *request) error {
	p, err := h.environmentPage(r, r.param("project"), r.param("env"))
	if err != nil {
		return err
	}
	return r.page("environment", p)
}

// environmentUpdate changes an environment's name, description or protection.
// Lifting production's protection asks first.
func (h *handler) environmentUpdate(r *request) error {
	project, env := r.param("project"), r.param("env")
	in := form.EnvironmentPatch(r.form())
	cur, err := h.svc.Environment(r.ctx(), r.origin(), project, env)
	if err != nil {
		return err
	}
	if cur.Protected && !*in.Protected && !r.confirmed() {
		return r.confirm("Unprotect "+env, sentence("Remove the protection of ", b(env), "? Developers will be able to change and toggle flags there."),
			"Unprotect", true, envURL(project, env), "name", "description", "protected")
	}
	if _, err := h.svc.UpdateEnvironment(r.ctx(), r.origin(), project, env, in); err != nil {
		if domain.ErrorCode(err) != domain.CodeInvalid {
			return err
		}
		p, perr := h.environmentPage(r, project, env)
		if perr != nil {
			return perr
		}
		p.Env.Name, p.Env.Description, p.Env.Protected = *in.Name, *in.Description, *in.Protected
		p.Errors = newErrs(err)
		return r.h.render(r, statusOf(err), "environment", p)
	}
	return r.seeOther(envURL(project, env), "Environment "+env+" saved.")
}

// environmentRemove deletes an environment and every flag's configuration in it.
func (h *handler) environmentRemove(r *request) error {
	project, env := r.param("project"), r.param("env")
	if !r.confirmed() {
		return r.confirm("Delete "+env, sentence("Delete the environment ", b(env), "? Every flag's configuration there and its SDK keys are deleted; SDKs using them stop getting flags."),
			"Delete environment", true, envURL(project, env))
	}
	if err := h.svc.DeleteEnvironment(r.ctx(), r.origin(), project, env); err != nil {
		return err
	}
	return r.seeOther("/projects/"+url.PathEscape(project)+"/settings", "Environment "+env+" deleted.")
}

// sdkKeyCreate creates an SDK key and shows it, once.
func (h *handler) sdkKeyCreate(r *request) error {
	project, env := r.param("project"), r.param("env")
	in, err := form.SDKKey(r.form())
	var k domain.SDKKey
	if err == nil {
		k, err = h.svc.CreateSDKKey(r.ctx(), r.origin(), project, env, in)
	}
	if err != nil && domain.ErrorCode(err) != domain.CodeInvalid {
		return err
	}
	p, perr := h.environmentPage(r, project, env)
	if perr != nil {
		return perr
	}
	if err != nil {
		p.Errors, p.KeyName, p.KeyKind = newErrs(err), in.Name, in.Kind
		return r.h.render(r, statusOf(err), "environment", p)
	}
	p.Secret, p.SecretNote = &k, "Copy it now: it is shown only this once. SDKs send it as Authorization: Bearer <key>."
	return r.page("environment", p)
}

// sdkKeyRotate replaces a key; the old one keeps working for the grace period.
func (h *handler) sdkKeyRotate(r *request) error {
	project, env, id := r.param("project"), r.param("env"), r.param("id")
	in := form.Rotation(r.form())
	if !r.confirmed() {
		grace := in.GracePeriod
		if grace == "" {
			grace = "24h"
		}
		return r.confirm("Rotate SDK key", sentence("Rotate this SDK key of ", b(env), "? A new key works at once; the old one stops after ", b(grace), "."),
			"Rotate", false, envURL(project, env), "grace_period")
	}
	fresh, _, err := h.svc.RotateSDKKey(r.ctx(), r.origin(), project, env, id, in)
	if err != nil {
		return err
	}
	p, err := h.environmentPage(r, project, env)
	if err != nil {
		return err
	}
	p.Secret, p.SecretNote = &fresh, "The new key, shown only this once. The old key keeps working until its grace period ends."
	return r.page("environment", p)
}

// sdkKeyRevoke revokes a key at once.
func (h *handler) sdkKeyRevoke(r *request) error {
	project, env, id := r.param("project"), r.param("env"), r.param("id")
	if !r.confirmed() {
		return r.confirm("Revoke SDK key", sentence("Revoke this SDK key of ", b(env), " now? SDKs using it stop getting flags within seconds."),
			"Revoke", true, envURL(project, env))
	}
	if err := h.svc.RevokeSDKKey(r.ctx(), r.origin(), project, env, id); err != nil {
		return err
	}
	return r.seeOther(envURL(project, env), "SDK key revoked.")
}
