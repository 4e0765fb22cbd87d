package ui

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
)

// layout is what every page's frame shows: the rail (product, project switcher,
// sections, the user and their role, sign-out), the flash message and the assets.
type layout struct {
	Title    string
	Section  string // flags, playground, history, settings, users, projects
	Assets   *assets
	CSRF     string
	Flash    string
	Me       *me
	Projects []domain.Project
	Project  *domain.Project
}

// me is the signed-in user as the rail shows them.
type me struct {
	Email     string
	Superuser bool
	// Role is the user's role in the current project, with its overrides
	// ("developer; viewer in production").
	Role string
}

// bare is the frame without a project: the user, the CSRF token for sign-out.
func (r *request) bare(title string) *layout {
	return &layout{Title: title, Assets: r.h.assets, CSRF: r.csrf, Flash: r.h.takeFlash(r),
		Me: &me{Email: r.p.Actor.Name, Superuser: r.p.Superuser()}}
}

// layout is the frame of a page: the visible projects for the switcher, and the
// current project, which the caller must be allowed to see (a 403 page otherwise).
func (r *request) layout(title, section, project string) (*layout, error) {
	l := r.bare(title)
	l.Section = section
	projects, _, err := r.h.svc.Projects(r.ctx(), r.origin(), domain.Keyset{Limit: domain.MaxPageLimit})
	if err != nil {
		return nil, err
	}
	l.Projects = projects
	if project != "" {
		p, err := r.h.svc.Project(r.ctx(), r.origin(), project)
		if err != nil {
			return nil, err
		}
		l.Project = &p
		l.Me.Role = roleText(r.p.Superuser(), r.p.Grant, project)
	}
	return l, nil
}

// roleText describes a user's role in a project and its overrides.
func roleText(super bool, grant func(string) (domain.Grant, bool), project string) string {
	if super {
		return "instance admin"
	}
	g, ok := grant(project)
	if !ok {
		return "no role"
	}
	s := string(g.Role)
	envs := make([]string, 0, len(g.EnvironmentRoles))
	for e := range g.EnvironmentRoles {
		envs = append(envs, e)
	}
	sort.Strings(envs)
	for _, e := range envs {
		if r := g.EnvironmentRoles[e]; r != g.Role {
			s += "; " + string(r) + " in " + e
		}
	}
	return s
}

// render writes a page. Templates escape everything they print; no user data ever
// becomes template.HTML.
func (h *handler) render(c echo.Context, status int, page string, data any) error {
	var buf bytes.Buffer
	if err := h.views.render(&buf, page, data); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// page renders a page of a signed-in user with status 200.
func (r *request) page(name string, data any) error { return r.h.render(r, http.StatusOK, name, data) }

// perm says whether the user may do something, and why not.
type perm struct {
	OK     bool
	Reason string
}

// allow turns the answer of one of the service's checks into a perm.
func allow(err error) perm {
	if err == nil {
		return perm{OK: true}
	}
	return perm{Reason: reason(err)}
}

var (
	needInEnv     = regexp.MustCompile(`^the (\w+) role in environment (\S+) of project \S+ is needed; you have (.+)$`)
	needInProject = regexp.MustCompile(`^the (\w+) role in project \S+ is needed; you have (.+)$`)
)

// reason shortens the service's refusal to what a disabled control says: "needs admin
// in production (you are developer)".
func reason(err error) string {
	msg := domain.ErrorMessage(err)
	if m := needInEnv.FindStringSubmatch(msg); m != nil {
		return "needs " + m[1] + " in " + m[2] + youAre(m[3])
	}
	if m := needInProject.FindStringSubmatch(msg); m != nil {
		return "needs " + m[1] + " in this project" + youAre(m[2])
	}
	return msg
}

func youAre(have string) string {
	if have == "no role there" {
		return " (you have no role there)"
	}
	return " (you are " + have + ")"
}

// environments returns every environment of a project (at most 100, one page).
func (r *request) environments(project string) ([]domain.Environment, error) {
	envs, _, err := r.h.svc.Environments(r.ctx(), r.origin(), project, domain.Keyset{Limit: domain.MaxPageLimit})
	return envs, err
}

// environmentKeys lists the keys of the project's environments.
func (r *request) environmentKeys(project string) ([]string, error) {
	envs, err := r.environments(project)
	keys := make([]string, len(envs))
	for i, e := range envs {
		keys[i] = e.Key
	}
	return keys, err
}

// envQuery is "?env=KEY" for a flag page's environment tab, or "" for none.
func envQuery(env string) string {
	if env == "" {
		return ""
	}
	return "?env=" + url.QueryEscape(env)
}

// pager returns the links of a paged list: to the next page, when there is one, and
// back to the first, when this is not it; both keep the page's other parameters.
func pager(q url.Values, next, after string) (nextURL, first string) {
	if next != "" {
		q.Set("cursor", httpapi.EncodeCursor(next))
		nextURL = "?" + q.Encode()
	}
	if after != "" {
		q.Del("cursor")
		first = "?" + q.Encode()
	}
	return nextURL, first
}

// ordered puts protected environments last, as the flag page's tabs show them (the
// ones that reach users at the end, where nobody clicks by accident).
func ordered(envs []domain.Environment) []domain.Environment {
	out := slices.Clone(envs)
	sort.SliceStable(out, func(i, j int) bool { return !out[i].Protected && out[j].Protected })
	return out
}

// errs places a form's problems next to the fields they name.
type errs struct {
	fields []domain.FieldError
	placed map[string]bool
}

func newErrs(err error) *errs {
	return &errs{fields: domain.ErrorFields(err), placed: map[string]bool{}}
}

// For returns the messages about field and what is inside it (rules[0] gets
// rules[0].id and rules[0].conditions[1].values[2]), marking them shown.
func (e *errs) For(field string) []string {
	if e == nil {
		return nil
	}
	var out []string
	for i, f := range e.fields {
		if f.Field == field || strings.HasPrefix(f.Field, field+".") || strings.HasPrefix(f.Field, field+"[") {
			k := strconv.Itoa(i)
			if !e.placed[k] {
				e.placed[k] = true
				out = append(out, f.Message)
			}
		}
	}
	return out
}

// Exact returns the messages about field itself, marking them shown.
func (e *errs) Exact(field string) []string {
	if e == nil {
		return nil
	}
	var out []string
	for i, f := range e.fields {
		if k := strconv.Itoa(i); f.Field == field && !e.placed[k] {
			e.placed[k] = true
			out = append(out, f.Message)
		}
	}
	return out
}

// Rest returns what no field showed, with the field it names; call it last.
func (e *errs) Rest() []domain.FieldError {
	if e == nil {
		return nil
	}
	var out []domain.FieldError
	for i, f := range e.fields {
		if !e.placed[strconv.Itoa(i)] {
			out = append(out, f)
		}
	}
	return out
}

// Has reports whether there are problems about field or inside it, without marking
// them shown.
func (e *errs) Has(field string) bool {
	if e == nil {
		return false
	}
	for _, f := range e.fields {
		if f.Field == field || strings.HasPrefix(f.Field, field+".") || strings.HasPrefix(f.Field, field+"[") {
			return true
		}
	}
	return false
}

// All returns every problem, for the summary at the top of a form.
func (e *errs) All() []domain.FieldError {
	if e == nil {
		return nil
	}
	return e.fields
}

// Any reports whether there are problems at all.
func (e *errs) Any() bool { return e != nil && len(e.fields) > 0 }

// pageOf reads a list's cursor from the query.
func pageOf(c echo.Context, limit int) (domain.Keyset, error) {
	after, err := httpapi.DecodeCursor(c.QueryParam("cursor"))
	return domain.Keyset{After: after, Limit: limit}, err
}

// statusOf is the HTTP status of an error (httpapi's one mapping).
func statusOf(err error) int { return httpapi.Status(err) }

func itoa(n int) string { return strconv.Itoa(n) }

// escape escapes a key for a path segment.
func escape(s string) string { return url.PathEscape(s) }
