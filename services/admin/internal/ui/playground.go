package ui

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/services/admin/internal/service"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

// shownResults bounds the results a playground page lists (explaining every flag of a
// large project answers thousands): name flags to see others.
const shownResults = 500

type playgroundPage struct {
	*layout
	Envs    []domain.Environment
	Form    *form.Playground
	Errors  *errs
	Ran     bool
	Version int64
	Results []playResult
	Hidden  int
	Curl    string
	Action  string
}

// playResult is one flag's answer, with the trace to expand.
type playResult struct {
	service.FlagExplanation
	URL   string
	Value string
}

func playgroundURL(project string) string {
	return "/projects/" + url.PathEscape(project) + "/playground"
}

func (h *handler) playgroundPage(r *request, project string, f *form.Playground) (*playgroundPage, error) {
	l, err := r.layout("Playground", "playground", project)
	if err != nil {
		return nil, err
	}
	envs, err := r.environments(project)
	if err != nil {
		return nil, err
	}
	envs = ordered(envs)
	if f.Env == "" && len(envs) > 0 {
		f.Env = envs[0].Key
	}
	if len(f.Rows) == 0 {
		f.Rows = []form.ContextRow{{Key: "key"}}
	}
	return &playgroundPage{layout: l, Envs: envs, Form: f, Action: playgroundURL(project)}, nil
}

// playgroundShow shows the playground: an environment, flags, a context.
func (h *handler) playgroundShow(r *request) error {
	f := &form.Playground{Env: r.QueryParam("env"), Flags: r.QueryParam("flags"), Mode: "rows"}
	p, err := h.playgroundPage(r, r.param("project"), f)
	if err != nil {
		return err
	}
	return r.page("playground", p)
}

// playgroundRun explains how the stored configuration evaluates for the context, with
// the evaluator's engine (the service's Explain, the API's evaluate route); it changes
// nothing.
func (h *handler) playgroundRun(r *request) error {
	project := r.param("project")
	f := form.NewPlayground(r.form())
	if op := r.form().Get("op"); strings.HasPrefix(op, "add:") || strings.HasPrefix(op, "remove:") {
		if op == "add:ctx" {
			f.Rows = append(f.Rows, form.ContextRow{})
		} else if i, ok := rowIndex(op); ok && i < len(f.Rows) {
			f.Rows = append(f.Rows[:i], f.Rows[i+1:]...)
		}
		p, err := h.playgroundPage(r, project, f)
		if err != nil {
			return err
		}
		return r.page("playground", p)
	}
	ctx, err := f.Context()
	var ex service.Explanation
	if err == nil {
		ex, err = h.svc.Explain(r.ctx(), r.origin(), project, f.Env, service.ExplainInput{Context: ctx, Flags: f.FlagKeys()})
	}
	p, perr := h.playgroundPage(r, project, f)
	if perr != nil {
		return perr
	}
	switch domain.ErrorCode(err) {
	case "":
	case domain.CodeInvalid, domain.CodeTooLarge, domain.CodeNotFound:
		p.Errors = newErrs(err)
		if len(domain.ErrorFields(err)) == 0 {
			p.Errors = newErrs(domain.InvalidField("context", "", domain.ErrorMessage(err)))
		}
		return r.h.render(r, statusOf(err), "playground", p)
	default:
		return err
	}
	p.Ran, p.Version = true, ex.Version
	for i, fe := range ex.Flags {
		if i == shownResults {
			p.Hidden = len(ex.Flags) - shownResults
			break
		}
		p.Results = append(p.Results, playResult{FlagExplanation: fe, URL: flagURL(project, fe.Key) + "?env=" + url.QueryEscape(f.Env),
			Value: compact(fe.Value)})
	}
	p.Curl = curlOf(r, project, f.Env, ctx, f.FlagKeys())
	return r.page("playground", p)
}

func rowIndex(op string) (int, bool) {
	rest, ok := strings.CutPrefix(op, "remove:ctx[")
	if !ok {
		return 0, false
	}
	digits, ok := strings.CutSuffix(rest, "]")
	if !ok || len(digits) == 0 || len(digits) > 4 {
		return 0, false
	}
	i, err := strconv.Atoi(digits)
	return i, err == nil && i >= 0
}

// curlOf is the same question asked of the API, for scripts.
func curlOf(r *request, project, env string, ctx map[string]any, flags []string) string {
	body := map[string]any{"context": ctx}
	if len(flags) > 0 {
		body["flags"] = flags
	}
	b, _ := json.Marshal(body)
	base := r.Scheme() + "://" + r.Request().Host
	return "curl -s -X POST '" + base + "/api/v1/projects/" + url.PathEscape(project) + "/environments/" + url.PathEscape(env) +
		"/evaluate' \\\n  -H \"Authorization: Bearer $ADMIN_TOKEN\" \\\n  -d '" + strings.ReplaceAll(string(b), "'", `'\''`) + "'"
}

// reasonText says what an evaluation reason means.
var reasonText = map[eval.Reason]string{
	"TARGETING_MATCH": "a rule matched", "DEFAULT": "no rule matched: the default", "SPLIT": "no rule matched: the default rollout",
	"DISABLED": "off here, or killed", "PREREQUISITE_FAILED": "a prerequisite was not met", "ERROR": "an error",
}
