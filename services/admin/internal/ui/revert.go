package ui

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

// revertView is the "revert to before this change" form of a history entry: the entry,
// and the version of the configuration the revert replaces, as the page showed it.
type revertView struct {
	Action    string
	AuditID   int64
	Version   int64
	Can       perm
	Flag, Env string // what the confirmation names
	Protected bool
}

// reverts builds the revert forms of one history page: it reads each flag's current
// configurations once, and the project's environments once.
type reverts struct {
	h       *handler
	r       *request
	project string
	envs    map[string]domain.Environment
	flags   map[string]*domain.FlagDetail
}

func (h *handler) reverts(r *request, project string) *reverts {
	rv := &reverts{h: h, r: r, project: project, flags: map[string]*domain.FlagDetail{}}
	if envs, err := r.environments(project); err == nil {
		rv.envs = map[string]domain.Environment{}
		for _, e := range envs {
			rv.envs[e.Key] = e
		}
	}
	return rv
}

// of returns the revert form of an entry: a configuration change (update, toggle or
// revert) with a configuration before it, of a flag and environment that still exist.
func (rv *reverts) of(e domain.AuditEntry) *revertView {
	if e.EntityType != "config" || !slices.Contains(domain.ConfigActions, e.Action) || e.FlagKey == "" ||
		len(e.Before) == 0 || string(e.Before) == "null" || rv.envs == nil {
		return nil
	}
	env, ok := rv.envs[e.EnvironmentKey]
	if !ok {
		return nil
	}
	fl, ok := rv.flags[e.FlagKey]
	if !ok {
		f, err := rv.h.svc.Flag(rv.r.ctx(), rv.r.origin(), rv.project, e.FlagKey)
		if err == nil {
			fl = &f
		}
		rv.flags[e.FlagKey] = fl
	}
	if fl == nil || e.EntityID != fl.ID+"/"+env.ID {
		return nil // the flag, or this environment, was deleted and made again since
	}
	cur, ok := fl.Environments[env.Key]
	if !ok {
		return nil
	}
	return &revertView{Flag: e.FlagKey, Env: env.Key, Protected: env.Protected,
		Action: flagURL(rv.project, e.FlagKey, "environments", url.PathEscape(env.Key), "revert"), AuditID: e.ID,
		Version: cur.Version, Can: allow(service.MayConfigure(rv.r.origin(), rv.project, env))}
}

// configRevert restores a flag's configuration in one environment as it was before an
// audited change: a new change, audited and version-checked like any save (the
// service's RevertConfig, the API's revert route).
func (h *handler) configRevert(r *request) error {
	project, flag, env := r.param("project"), r.param("flag"), r.param("env")
	id, err := strconv.ParseInt(r.form().Get("audit_id"), 10, 64)
	if err != nil || id < 1 {
		return domain.InvalidField("form", "audit_id", "must be the id of an audit entry")
	}
	version, err := strconv.ParseInt(r.form().Get("version"), 10, 64)
	if err != nil || version < 1 {
		return domain.InvalidField("form", "version", "must be the version being replaced: reload the history")
	}
	back := flagURL(project, flag, "history")
	if !r.confirmed() {
		return r.confirm("Revert "+flag, sentence("Restore the configuration of ", b(flag), " in ", b(env),
			" as it was before this change? It becomes a new change, recorded in the history."), "Revert", false, back, "audit_id", "version")
	}
	saved, err := h.svc.RevertConfig(r.ctx(), r.origin(), project, flag, env, service.RevertInput{AuditID: service.AuditID(id), Version: &version}, "")
	if domain.ErrorCode(err) == domain.CodeConflict {
		return domain.Errorf(domain.CodeConflict, "The configuration of %s in %s changed after this page was loaded (it is now at version %v): "+
			"nothing was reverted. Reload the history, check the latest change, and revert again if you still want to.",
			flag, env, domain.ErrorExtra(err)["current_version"])
	}
	if err != nil {
		return err
	}
	return r.seeOther(flagURL(project, flag)+"?env="+url.QueryEscape(env),
		fmt.Sprintf("Reverted: %s in %s is back as it was before change %d (now version %d).", flag, env, id, saved.Config.Version))
}
