package ui

import "github.com/switchyard/switchyard/services/admin/internal/service"

// flagArchive archives a flag (evaluators answer FLAG_NOT_FOUND for it) or restores it.
func (h *handler) flagArchive(r *request) error {
	project, flag := r.param("project"), r.param("flag")
	archived := r.form().Get("archived") == "true"
	back := flagURL(project, flag) + envQuery(r.form().Get("env")) // back to the tab it came from
	if !r.confirmed() {
		if archived {
			return r.confirm("Archive "+flag, sentence("Archive ", b(flag), "? Evaluators will answer FLAG_NOT_FOUND for it in every environment."),
				"Archive", true, back, "archived", "env")
		}
		return r.confirm("Restore "+flag, sentence("Restore ", b(flag), "? Evaluators will serve it again."), "Restore", false, back, "archived", "env")
	}
	if _, err := h.svc.UpdateFlag(r.ctx(), r.origin(), project, flag, service.FlagPatch{Archived: &archived}); err != nil {
		return err
	}
	if archived {
		return r.seeOther(back, flag+" is archived.")
	}
	return r.seeOther(back, flag+" is restored.")
}
