package ui

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

// perPage is the flag list's page: 50 flags, dense enough to scan; fewer with many
// environments (a switch each), so a page stays under 100 KB of HTML.
func perPage(envs int) int {
	if envs <= 6 {
		return 50
	}
	return max(20, 300/envs)
}

type flagListPage struct {
	*layout
	Query     string
	Tag       string
	Archived  bool
	Stale     bool
	Filtered  bool
	Envs      []envColumn
	Rows      []flagRow
	Next      string
	First     string // the first page, when this is not it
	Back      string // this page, where a toggle returns
	CanCreate perm
	APIBase   string
}

type envColumn struct {
	Key, Name string
	Protected bool
	Can       perm
}

type flagRow struct {
	Key, Name     string
	Kind          domain.Kind
	Tags          []string
	Killed        bool
	Archived      bool
	URL           string
	Cells         []flagCell
	LastEvaluated time.Time
	// Stale says the flag was not evaluated for the project's stale_after_days;
	// StaleDays for how long (since its creation when never).
	Stale     bool
	StaleDays int
}

type flagCell struct {
	Env       string
	On        bool
	Protected bool // the switch asks first (the column says what)
	Can       bool
	Rollout   string // "25% on", or "red 50% · blue 50%": the rollout served when no rule matches
}

// rolloutText says in a few characters what a default rollout serves: a boolean flag's
// share of on, or each variant's share.
func rolloutText(kind domain.Kind, weights map[string]float64) string {
	if len(weights) == 0 {
		return ""
	}
	pct := func(w float64) string { return strconv.FormatFloat(w, 'f', -1, 64) + "%" }
	if kind == domain.KindBoolean {
		return pct(weights["on"]) + " on"
	}
	parts := make([]string, 0, len(weights))
	for _, k := range slices.Sorted(maps.Keys(weights)) {
		parts = append(parts, k+" "+pct(weights[k]))
	}
	return strings.Join(parts, " · ")
}

// flagList shows a project's flags, a page at a time, with a switch per environment.
func (h *handler) flagList(r *request) error {
	project := r.param("project")
	l, err := r.layout("Flags", "flags", project)
	if err != nil {
		return err
	}
	envs, err := r.environments(project)
	if err != nil {
		return err
	}
	page, err := pageOf(r, perPage(len(envs)))
	if err != nil {
		return err
	}
	p := &flagListPage{layout: l, Query: r.QueryParam("q"), Tag: r.QueryParam("tag"), Archived: r.QueryParam("archived") == "true",
		CanCreate: allow(r.origin().Need(project, "", domain.RoleDeveloper)), Back: r.Request().URL.RequestURI(),
		APIBase: r.Scheme() + "://" + r.Request().Host}
	p.Stale = r.QueryParam("stale") == "true"
	p.Filtered = p.Query != "" || p.Tag != "" || p.Archived || p.Stale
	filter := domain.FlagFilter{Tag: p.Tag, Query: p.Query, Archived: p.Archived}
	if p.Stale {
		filter.Stale = &p.Stale
	}
	flags, next, err := h.svc.Flags(r.ctx(), r.origin(), project, filter, page)
	if err != nil {
		return err
	}
	envs = ordered(envs)
	for _, e := range envs {
		p.Envs = append(p.Envs, envColumn{Key: e.Key, Name: e.Name, Protected: e.Protected,
			Can: allow(service.MayConfigure(r.origin(), project, e))})
	}
	for _, f := range flags {
		row := flagRow{Key: f.Key, Name: f.Name, Kind: f.Kind, Tags: f.Tags, Killed: f.Killed, Archived: f.Archived,
			URL: flagURL(project, f.Key), Stale: f.Stale}
		if f.LastEvaluated != nil {
			row.LastEvaluated = *f.LastEvaluated
		}
		if f.Stale {
			since := f.CreatedAt
			if f.LastEvaluated != nil {
				since = *f.LastEvaluated
			}
			row.StaleDays = int(time.Since(since).Hours() / 24)
		}
		for _, col := range p.Envs {
			st := f.Environments[col.Key]
			cell := flagCell{Env: col.Key, On: st.Enabled, Protected: col.Protected, Can: col.Can.OK,
				Rollout: rolloutText(f.Kind, st.Rollout)}
			row.Cells = append(row.Cells, cell)
		}
		p.Rows = append(p.Rows, row)
	}
	p.Next, p.First = pager(r.QueryParams(), next, page.After)
	return r.page("flags", p)
}

// toggleQuestion is what turning a flag on or off in an environment asks.
func toggleQuestion(flag, env string, on bool) []part {
	if on {
		return sentence("Turn ", b(flag), " on in ", b(env), "? Its rules will serve users again.")
	}
	return sentence("Turn ", b(flag), " off in ", b(env), " for every user?")
}
