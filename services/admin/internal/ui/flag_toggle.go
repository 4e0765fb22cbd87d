package ui

import (
	"net/url"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

// flagToggle turns a flag on or off in one environment: the list's switches, one form
// for the whole list, each switch sending t="<environment> <1|0> <flag>" (keys hold no
// spaces). The switch says the state wanted, so a double click cannot flip it twice. A
// protected environment asks first.
func (h *handler) flagToggle(r *request) error {
	project := r.param("project")
	parts := strings.SplitN(r.form().Get("t"), " ", 3)
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" || (parts[1] != "0" && parts[1] != "1") {
		return domain.InvalidField("form", "t", "must name an environment, 1 or 0, and a flag")
	}
	env, on, flag := parts[0], parts[1] == "1", parts[2]
	back := localPath(r.form().Get("back"))
	if back == "/" {
		back = "/projects/" + url.PathEscape(project) + "/flags"
	}
	e, err := h.svc.Environment(r.ctx(), r.origin(), project, env)
	if err != nil {
		return err
	}
	if e.Protected && !r.confirmed() {
		verb := "Turn off"
		if on {
			verb = "Turn on"
		}
		return r.confirm(verb+" in "+env, toggleQuestion(flag, env, on), verb, !on, back, "t", "back")
	}
	if _, err := h.svc.Toggle(r.ctx(), r.origin(), project, flag, env, service.ToggleInput{Enabled: &on}); err != nil {
		return err
	}
	state := "off"
	if on {
		state = "on"
	}
	return r.seeOther(back, flag+" is "+state+" in "+env+".")
}
