package ui

import (
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

// flagPage is a flag with the rules editor of one environment.
type flagPage struct {
	*layout
	Flag       domain.FlagDetail
	Tabs       []envTab
	Env        domain.Environment
	Form       *form.Config
	Errors     *errs
	Operators  []opGroup
	Attributes []string
	Action     string
	URL        string
	NewRule    form.Rule
	NewCond    form.Condition

	CanConfigure, CanEdit, CanKill, CanArchive perm

	// Blank is the page without problems, for the blank rows the editor's script adds.
	Blank *flagPage

	Conflict    *conflictView
	Preview     []diffLine
	Evaluations *evaluationsView
}

type envTab struct {
	Key, Name string
	Protected bool
	Enabled   bool
	Version   int64
	Current   bool
	URL       string
}

// conflictView is what changed while the user edited: the configuration they started
// from against the one stored now, and who changed it.
type conflictView struct {
	Version int64
	Diff    []diffLine
	Changes []domain.AuditEntry
}

// opGroup is a group of the operator select; each option says what values it takes,
// so the page's script can offer only what fits the values typed.
type opGroup struct {
	Label string
	Ops   []opOption
}

type opOption struct {
	Op    string
	Label string
	Kind  string
	Max   int
}

var operatorGroups = func() []opGroup {
	groups := []struct {
		label string
		ops   []domain.Operator
	}{
		{"Equality", []domain.Operator{domain.OpEq, domain.OpNeq, domain.OpIn, domain.OpNotIn}},
		{"Text", []domain.Operator{domain.OpStartsWith, domain.OpEndsWith, domain.OpContains, domain.OpNotContains, domain.OpMatches}},
		{"Numbers", []domain.Operator{domain.OpGt, domain.OpGte, domain.OpLt, domain.OpLte}},
		{"Versions", []domain.Operator{domain.OpSemverEq, domain.OpSemverGt, domain.OpSemverLt}},
		{"Times (RFC 3339)", []domain.Operator{domain.OpBefore, domain.OpAfter}},
		{"Presence", []domain.Operator{domain.OpExists, domain.OpNotExists}},
	}
	kinds := map[domain.ValueKind]string{domain.NoValues: "none", domain.ScalarValues: "scalar", domain.StringValues: "string",
		domain.RegexValue: "regex", domain.NumberValue: "number", domain.SemverValue: "semver", domain.TimeValue: "time"}
	var out []opGroup
	for _, g := range groups {
		og := opGroup{Label: g.label}
		for _, op := range g.ops {
			spec, _ := op.Spec()
			og.Ops = append(og.Ops, opOption{Op: string(op), Label: phrase(string(op)) + " (" + string(op) + ")",
				Kind: kinds[spec.Values], Max: spec.Max})
		}
		out = append(out, og)
	}
	return out
}()

// flagShow shows a flag and the rules editor of one environment (?env=, the first
// unprotected one by default).
func (h *handler) flagShow(r *request) error {
	p, err := h.flagPage(r, r.param("project"), r.param("flag"), r.QueryParam("env"), nil)
	if err != nil {
		return err
	}
	return r.page("flag", p)
}

// flagPage loads what the flag page shows. f is the editor as posted (nil: as stored).
func (h *handler) flagPage(r *request, project, flagKey, envKey string, f *form.Config) (*flagPage, error) {
	fl, err := h.svc.Flag(r.ctx(), r.origin(), project, flagKey)
	if err != nil {
		return nil, err
	}
	l, err := r.layout(fl.Key, "flags", project)
	if err != nil {
		return nil, err
	}
	envs, err := r.environments(project)
	if err != nil {
		return nil, err
	}
	envs = ordered(envs)
	if len(envs) == 0 {
		return nil, domain.Errorf(domain.CodeNotFound, "project %q has no environments: add one in its settings", project)
	}
	p := &flagPage{layout: l, Flag: fl, Operators: operatorGroups, URL: flagURL(project, fl.Key)}
	p.Env = envs[0]
	found := envKey == ""
	for _, e := range envs {
		if e.Key == envKey {
			p.Env, found = e, true
		}
	}
	if !found {
		return nil, domain.Errorf(domain.CodeNotFound, "environment %q not found in project %q", envKey, project)
	}
	for _, e := range envs {
		c := fl.Environments[e.Key]
		p.Tabs = append(p.Tabs, envTab{Key: e.Key, Name: e.Name, Protected: e.Protected, Enabled: c.Enabled, Version: c.Version,
			Current: e.Key == p.Env.Key, URL: p.URL + "?env=" + url.QueryEscape(e.Key)})
	}
	if f == nil {
		f = form.ConfigOf(fl.Environments[p.Env.Key])
	}
	p.Form = f
	p.Action = flagURL(project, fl.Key, "environments", url.PathEscape(p.Env.Key))
	first := ""
	if len(fl.Variants) > 0 {
		first = fl.Variants[0].Key
	}
	p.NewRule = form.Rule{Conditions: []form.Condition{{Operator: string(domain.OpEq)}},
		Serve: form.Serve{Mode: form.ModeVariant, Variant: first, Weights: map[string]string{}}, Open: true}
	p.NewCond = form.Condition{Operator: string(domain.OpEq)}
	p.Attributes = attributes(fl)

	o := r.origin()
	p.CanConfigure = allow(service.MayConfigure(o, project, p.Env))
	p.CanEdit = allow(o.Need(project, "", domain.RoleDeveloper))
	p.CanKill = allow(service.MayServeEverywhere(o, project, envs))
	p.CanArchive = p.CanEdit
	if p.CanArchive.OK {
		p.CanArchive = p.CanKill
	}
	p.Evaluations = h.evaluations(r, project, fl.Key, p.Env.Key, fl.Variants)
	p.Blank = &flagPage{layout: l, Flag: fl, Operators: operatorGroups}
	return p, nil
}

// attributes suggests context attributes: those the flag's rules use anywhere, and the
// targeting key.
func attributes(fl domain.FlagDetail) []string {
	seen := map[string]bool{"key": true}
	for _, c := range fl.Environments {
		for _, r := range c.Rules {
			for _, cond := range r.Conditions {
				seen[cond.Attribute] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		if a != "" {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// evaluationsView is how a flag was evaluated in one environment.
type evaluationsView struct {
	Range         string
	Chart         *chartView
	Total         int64
	Counts        []domain.EvaluationCount
	LastEvaluated []lastEvaluated
}

type lastEvaluated struct {
	Env string
	At  time.Time
}

// evaluations reads the flag's evaluation counts in env over the range the page asks
// for (24h or 7d); analytics that fail leave the section out rather than the page.
func (h *handler) evaluations(r *request, project, flag, env string, variants []domain.Variant) *evaluationsView {
	rng := r.QueryParam("range")
	if rng != "7d" {
		rng = "24h"
	}
	d, bucket := 24*time.Hour, domain.BucketHour
	if rng == "7d" {
		d, bucket = 7*24*time.Hour, domain.BucketDay
	}
	now := time.Now().UTC()
	ev, err := h.svc.EvaluationSeries(r.ctx(), r.origin(), project, flag, env, now.Add(-d), now, bucket)
	if err != nil {
		h.log.WarnContext(r.ctx(), "evaluations unavailable", "error", err.Error())
		return nil
	}
	v := &evaluationsView{Range: rng, Chart: evaluationChart(ev.Series, bucket, variants)}
	for _, c := range ev.Counts {
		if c.Environment == env || c.Environment == "" {
			v.Counts = append(v.Counts, c)
			v.Total += c.Count
		}
	}
	sort.Slice(v.Counts, func(i, j int) bool { return v.Counts[i].Count > v.Counts[j].Count })
	for e, at := range ev.LastEvaluated {
		v.LastEvaluated = append(v.LastEvaluated, lastEvaluated{Env: e, At: at})
	}
	sort.Slice(v.LastEvaluated, func(i, j int) bool { return v.LastEvaluated[i].Env < v.LastEvaluated[j].Env })
	return v
}

// idOf turns a field's path into an element id: rules[0].conditions[1].values is
// rules-0-conditions-1-values.
func idOf(path string) string {
	return strings.NewReplacer("[", "-", "]", "", ".", "-").Replace(path)
}

// barView is a rollout drawn as one stacked bar.
type barView struct {
	Label    string
	Segments []segment
}

type segment struct {
	Index        int
	Variant      string
	X, Width     float64
	WeightString string
}

// bar draws a serve block's rollout in the flag's variant order (the order buckets
// are assigned in).
func bar(s form.Serve, variants []domain.Variant) barView {
	var v barView
	x := 0.0
	var labels []string
	for i, vr := range variants {
		w := 0.0
		if t, ok := s.Weights[vr.Key]; ok && t != "" {
			w = parseWeight(t)
			labels = append(labels, vr.Key+" "+t+"%")
		}
		w = min(max(w, 0), 100-x)
		v.Segments = append(v.Segments, segment{Index: i % 8, Variant: vr.Key, X: x, Width: w})
		x += w
	}
	v.Label = "Rollout: " + strings.Join(labels, ", ")
	return v
}
