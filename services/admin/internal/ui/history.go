package ui

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
)

type historyPage struct {
	*layout
	Flag    string // the flag of a flag's history; "" for the project's
	FlagURL string
	Entries []historyEntry
	Next    string
	First   string
}

// historyEntry is one change: who, when, what, and the before → after diff in words.
type historyEntry struct {
	domain.AuditEntry
	Summary []part
	Diff    []diffLine
	Before  string
	After   string
	// Revert is the form that restores the configuration before this change, when
	// the user may.
	Revert *revertView
}

// historyPerPage bounds a history page: each entry carries its diff.
const historyPerPage = 25

// projectHistory shows a project's audit trail, newest first.
func (h *handler) projectHistory(r *request) error {
	return h.history(r, r.param("project"), "")
}

// flagHistory shows a flag's audit trail, newest first.
func (h *handler) flagHistory(r *request) error {
	return h.history(r, r.param("project"), r.param("flag"))
}

func (h *handler) history(r *request, project, flag string) error {
	title := "History"
	if flag != "" {
		title = "History of " + flag
	}
	l, err := r.layout(title, "history", project)
	if err != nil {
		return err
	}
	page, err := pageOf(r, historyPerPage)
	if err != nil {
		return err
	}
	f := domain.AuditFilter{ProjectKey: project, FlagKey: flag, EnvironmentKey: r.QueryParam("env")}
	entries, next, err := h.svc.Audit(r.ctx(), r.origin(), f, page)
	if err != nil {
		return err
	}
	p := &historyPage{layout: l, Flag: flag}
	if flag != "" {
		p.FlagURL = flagURL(project, flag)
	}
	rv := h.reverts(r, project)
	for _, e := range entries {
		he := historyEntry{AuditEntry: e, Summary: summarize(e), Before: pretty(e.Before), After: pretty(e.After)}
		he.Diff = entryDiff(e)
		he.Revert = rv.of(e)
		p.Entries = append(p.Entries, he)
	}
	p.Next, p.First = pager(r.QueryParams(), next, page.After)
	return r.page("history", p)
}

// actions say what each audited action did, in words.
var actions = map[string]string{
	domain.ActionProjectCreate: "created the project", domain.ActionProjectUpdate: "changed the project",
	domain.ActionProjectDelete: "deleted the project", domain.ActionEnvironmentCreate: "created environment",
	domain.ActionEnvironmentUpdate: "changed environment", domain.ActionEnvironmentDelete: "deleted environment",
	domain.ActionFlagCreate: "created flag", domain.ActionFlagUpdate: "changed flag", domain.ActionFlagArchive: "archived flag",
	domain.ActionFlagUnarchive: "restored flag", domain.ActionFlagDelete: "deleted flag", domain.ActionFlagKill: "KILLED flag",
	domain.ActionFlagUnkill: "lifted the kill switch of", domain.ActionConfigUpdate: "changed the configuration of",
	domain.ActionConfigToggle: "toggled", domain.ActionConfigRevert: "reverted the configuration of", domain.ActionMemberSet: "gave a role to", domain.ActionMemberRemove: "removed the member",
	domain.ActionTokenCreate: "created API token", domain.ActionTokenRevoke: "revoked API token",
	domain.ActionSDKKeyCreate: "created an SDK key in", domain.ActionSDKKeyRotate: "rotated an SDK key in",
	domain.ActionSDKKeyRevoke: "revoked an SDK key in",
}

// summarize says who did what to which entity.
func summarize(e domain.AuditEntry) []part {
	verb, ok := actions[e.Action]
	if !ok {
		verb = e.Action
	}
	out := []part{b(e.Actor.Name), {Text: " " + verb + " "}}
	switch {
	case e.FlagKey != "" && e.EnvironmentKey != "":
		out = append(out, b(e.FlagKey), part{Text: " in "}, b(e.EnvironmentKey))
	case e.FlagKey != "":
		out = append(out, b(e.FlagKey))
	case e.EnvironmentKey != "":
		out = append(out, b(e.EnvironmentKey))
	default:
		out = append(out, b(e.EntityKey))
	}
	return out
}

// entryDiff describes a change before → after: a configuration in words (rules as
// sentences), anything else as its fields.
func entryDiff(e domain.AuditEntry) []diffLine {
	if e.EntityType == "config" {
		var before, after domain.Config
		bok := json.Unmarshal(e.Before, &before) == nil && len(e.Before) > 0 && string(e.Before) != "null"
		aok := json.Unmarshal(e.After, &after) == nil && len(e.After) > 0 && string(e.After) != "null"
		var bl, al []string
		if bok {
			bl = configLines(before)
		}
		if aok {
			al = configLines(after)
		}
		if bok || aok {
			return trimSame(lineDiff(bl, al))
		}
	}
	return trimSame(lineDiff(jsonLines(e.Before), jsonLines(e.After)))
}

// trimSame keeps a change's lines and one line of context around them.
func trimSame(d []diffLine) []diffLine {
	keep := make([]bool, len(d))
	for i, l := range d {
		if l.Kind != "same" {
			for j := max(0, i-1); j <= min(len(d)-1, i+1); j++ {
				keep[j] = true
			}
		}
	}
	var out []diffLine
	for i, l := range d {
		if keep[i] {
			out = append(out, l)
		}
	}
	return out
}

// pretty indents a JSON document for the raw view.
func pretty(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if enc.Encode(v) != nil {
		return string(raw)
	}
	return strings.TrimSuffix(sb.String(), "\n")
}

// historyURL is a project's history page.
func historyURL(project string) string { return "/projects/" + url.PathEscape(project) + "/history" }
