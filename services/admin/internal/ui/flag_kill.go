package ui

// flagKill turns a flag's kill switch on (off in every environment at once) or lifts
// it. Both ask first: they change what production serves.
func (h *handler) flagKill(r *request) error {
	project, flag := r.param("project"), r.param("flag")
	on := r.form().Get("on") == "true"
	back := flagURL(project, flag) + envQuery(r.form().Get("env")) // back to the tab it came from
	if !r.confirmed() {
		if on {
			return r.confirm("Kill "+flag, sentence("Kill ", b(flag), "? It will serve its off variant in ", b("every environment"),
				", production included, until the kill is lifted."), "Kill it", true, back, "on", "env")
		}
		return r.confirm("Lift the kill switch", sentence("Lift the kill switch of ", b(flag), "? Every environment will serve its configuration again, production included."),
			"Lift the kill", false, back, "on", "env")
	}
	if _, err := h.svc.Kill(r.ctx(), r.origin(), project, flag, on); err != nil {
		return err
	}
	if on {
		return r.seeOther(back, flag+" is KILLED: it serves its off variant everywhere.")
	}
	return r.seeOther(back, "The kill switch of "+flag+" is lifted.")
}
