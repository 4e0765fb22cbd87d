package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

// configSave handles the rules editor's form: an editing op (add a rule, move it ...)
// shows the edited form again; save replaces the configuration with the version the
// edit began from. A protected environment shows the change as a diff first. On a
// conflict the edit is kept and what changed meanwhile is shown; problems the service
// finds are shown next to the fields they name.
func (h *handler) configSave(r *request) error {
	project, flag, env := r.param("project"), r.param("flag"), r.param("env")
	f := form.NewConfig(r.form())
	op := r.form().Get("op")
	if op != form.OpSave && op != form.OpConfirm {
		p, err := h.flagPage(r, project, flag, env, f)
		if err != nil {
			return err
		}
		if !p.CanConfigure.OK {
			// Editing steps render the whole editor: only for those who may save it.
			return service.MayConfigure(r.origin(), project, p.Env)
		}
		first := ""
		if len(p.Flag.Variants) > 0 {
			first = p.Flag.Variants[0].Key
		}
		f.Apply(op, first)
		return r.page("flag", p)
	}
	in, err := f.Input()
	if err == nil && op == form.OpConfirm && f.Previewed != previewDigest(in) {
		op = form.OpSave // changed since it was reviewed: review it again
	}
	if err == nil && op == form.OpSave {
		var p *flagPage
		if p, err = h.flagPage(r, project, flag, env, f); err != nil {
			return err
		}
		if !p.CanConfigure.OK {
			return service.MayConfigure(r.origin(), project, p.Env)
		}
		if p.Env.Protected {
			// Saving to a protected environment shows the change first.
			proposed := domain.Config{Enabled: in.Enabled, Rules: in.Rules, Default: *in.Default, OffVariant: in.OffVariant,
				Prerequisites: in.Prerequisites}
			p.Preview = lineDiff(configLines(p.Flag.Environments[env]), configLines(proposed))
			f.Previewed = previewDigest(in)
			return r.page("flag", p)
		}
	}
	if err == nil {
		var saved domain.ConfigState
		saved, err = h.svc.ReplaceConfig(r.ctx(), r.origin(), project, flag, env, in, "")
		if err == nil {
			return r.seeOther(flagURL(project, flag)+"?env="+url.QueryEscape(env),
				fmt.Sprintf("Saved: %s in %s is now at version %d.", flag, env, saved.Config.Version))
		}
	}
	switch domain.ErrorCode(err) {
	case domain.CodeInvalid, domain.CodeConflict, domain.CodeLimit, domain.CodePrecondition:
	default:
		return err
	}
	p, perr := h.flagPage(r, project, flag, env, f)
	if perr != nil {
		return perr
	}
	p.Errors = newErrs(err)
	if domain.ErrorCode(err) == domain.CodeConflict {
		if _, stale := domain.ErrorExtra(err)["current_version"]; stale {
			p.Conflict = h.conflict(r, project, flag, env, f, p.Flag.Environments[env])
			p.Errors = nil
		} else {
			p.Errors = newErrs(domain.InvalidField("configuration", "", domain.ErrorMessage(err)))
		}
	}
	return r.h.render(r, statusOf(err), "flag", p)
}

// conflict describes what changed since the edit began (the form's base) and who
// changed it, and moves the edit onto the current version, so that saving again
// replaces it knowingly.
func (h *handler) conflict(r *request, project, flag, env string, f *form.Config, cur domain.Config) *conflictView {
	v := &conflictView{Version: cur.Version}
	var base domain.Config
	if err := json.Unmarshal([]byte(f.Base), &base); err == nil {
		v.Diff = lineDiff(configLines(base), configLines(cur))
	}
	// Who changed it meanwhile: the entries whose configuration is newer than the one
	// the edit began from.
	entries, _, err := h.svc.Audit(r.ctx(), r.origin(), domain.AuditFilter{ProjectKey: project, FlagKey: flag, EnvironmentKey: env},
		domain.Keyset{Limit: 20})
	if err == nil {
		for _, e := range entries {
			var after struct{ Version int64 }
			if json.Unmarshal(e.After, &after) == nil && after.Version > base.Version && len(v.Changes) < 5 {
				v.Changes = append(v.Changes, e)
			}
		}
	}
	fresh := form.ConfigOf(cur)
	f.Version, f.Base = fresh.Version, fresh.Base
	return v
}

// previewDigest names the change a protected environment's preview showed, so that
// "Confirm and save" saves that change and nothing edited after it.
func previewDigest(in service.ConfigInput) string {
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
