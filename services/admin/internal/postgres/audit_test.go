package postgres_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// testAuditTrail: the trail newest first, in pages after an entry's id; filters; and
// members see projects by id, so a project re-created under a deleted one's key does
// not show them the deleted one's history.
func testAuditTrail(t *testing.T, c *contract) {
	c.project("shop")
	c.flag("shop", "secret-launch")
	ok(t, c.s.DeleteProject(ctx, c.o, "shop", nil))
	c.project("shop")
	c.flag("shop", "f")
	c.project("other")
	all := c.trail("")
	var actions []string
	for _, e := range all {
		actions = append(actions, e.Action)
	}
	if !slices.Equal(actions, []string{domain.ActionProjectCreate, domain.ActionFlagCreate, domain.ActionProjectCreate,
		domain.ActionProjectDelete, domain.ActionFlagCreate, domain.ActionProjectCreate}) {
		t.Fatalf("the trail, newest first: %v", actions)
	}
	var paged []int64
	page := domain.Keyset{Limit: 4}
	for {
		items, next := must2(c.s.Audit(ctx, domain.AuditFilter{AllProjects: true}, page))(t)
		for _, e := range items {
			paged = append(paged, e.ID)
		}
		if next == "" {
			break
		}
		if next != strconv.FormatInt(items[len(items)-1].ID, 10) {
			t.Fatalf("next %q is not the page's last id", next)
		}
		page.After = next
	}
	if len(paged) != len(all) || !slices.IsSortedFunc(paged, func(a, b int64) int { return int(b - a) }) {
		t.Fatalf("paged through %v", paged)
	}
	_, _, err := c.s.Audit(ctx, domain.AuditFilter{AllProjects: true}, domain.Keyset{After: "not-an-id", Limit: 4})
	code(t, err, domain.CodeInvalid)
	if f := domain.ErrorFields(err); len(f) != 1 || f[0].Field != "cursor" {
		t.Fatalf("fields %v", f)
	}

	count := func(f domain.AuditFilter) int {
		t.Helper()
		items, _ := must2(c.s.Audit(ctx, f, domain.Keyset{Limit: 200}))(t)
		return len(items)
	}
	for name, tc := range map[string]struct {
		filter domain.AuditFilter
		want   int
	}{
		"a key's whole history, for superusers": {domain.AuditFilter{AllProjects: true, ProjectKey: "shop"}, 5},
		"a member of the new shop":              {domain.AuditFilter{Projects: []string{"shop"}}, 2},
		"a member of the new shop, by key":      {domain.AuditFilter{Projects: []string{"shop"}, ProjectKey: "shop"}, 2},
		"the old flag, to the new shop":         {domain.AuditFilter{Projects: []string{"shop"}, FlagKey: "secret-launch"}, 0},
		"a member of nothing":                   {domain.AuditFilter{}, 0},
		"flag":                                  {domain.AuditFilter{AllProjects: true, FlagKey: "f"}, 1},
		"action":                                {domain.AuditFilter{AllProjects: true, Action: domain.ActionProjectCreate}, 3},
		"actor by id":                           {domain.AuditFilter{AllProjects: true, Actor: c.o.Actor.ID}, 6},
		"actor by name":                         {domain.AuditFilter{AllProjects: true, Actor: c.o.Actor.Name}, 6},
		"someone else":                          {domain.AuditFilter{AllProjects: true, Actor: "someone"}, 0},
		"since":                                 {domain.AuditFilter{AllProjects: true, Since: time.Now().Add(-time.Hour)}, 6},
		"until":                                 {domain.AuditFilter{AllProjects: true, Until: time.Now().Add(-time.Hour)}, 0},
		"environment":                           {domain.AuditFilter{AllProjects: true, EnvironmentKey: "production"}, 0},
	} {
		if got := count(tc.filter); got != tc.want {
			t.Errorf("%s: %d rows, want %d", name, got, tc.want)
		}
	}
}

// testEvaluations: counts summed per environment, variant and reason over a range, and
// when the flag was last evaluated in each environment.
func testEvaluations(t *testing.T, c *contract) {
	c.project("shop")
	c.flag("shop", "f")
	envs := c.envs("shop")
	now := time.Now().UTC().Truncate(time.Minute)
	prod, staging := envs["production"].ID, envs["staging"].ID
	c.evaluated(t, prod, "f", now, "on", "TARGETING_MATCH", 5)
	c.evaluated(t, prod, "f", now.Add(-time.Minute), "on", "TARGETING_MATCH", 2)
	c.evaluated(t, prod, "f", now, "off", "DEFAULT", 3)
	c.evaluated(t, staging, "f", now, "off", "DISABLED", 7)
	c.evaluated(t, prod, "f", now.Add(-48*time.Hour), "on", "SPLIT", 100)
	since, until := now.Add(-24*time.Hour), now.Add(time.Minute)
	ev := must(c.s.Evaluations(ctx, "shop", "f", "", since, until))(t)
	want := []domain.EvaluationCount{
		{Environment: "production", Variant: "off", Reason: "DEFAULT", Count: 3},
		{Environment: "production", Variant: "on", Reason: "TARGETING_MATCH", Count: 7},
		{Environment: "staging", Variant: "off", Reason: "DISABLED", Count: 7},
	}
	if !slices.Equal(ev.Counts, want) || ev.Flag != "f" || !ev.Since.Equal(since) || !ev.Until.Equal(until) {
		t.Fatalf("evaluations %+v, want counts %+v", ev, want)
	}
	if len(ev.LastEvaluated) != 2 || !ev.LastEvaluated["production"].Equal(now) || !ev.LastEvaluated["staging"].Equal(now) {
		t.Fatalf("last evaluated %v", ev.LastEvaluated)
	}
	prodOnly := must(c.s.Evaluations(ctx, "shop", "f", "production", now.Add(-72*time.Hour), until))(t)
	if len(prodOnly.Counts) != 3 || len(prodOnly.LastEvaluated) != 1 {
		t.Fatalf("production over three days: %+v", prodOnly)
	}
	if none := must(c.s.Evaluations(ctx, "shop", "f", "development", since, until))(t); len(none.Counts) != 0 || len(none.LastEvaluated) != 0 {
		t.Fatalf("development: %+v", none)
	}
	_, err := c.s.Evaluations(ctx, "shop", "ghost", "", since, until)
	code(t, err, domain.CodeNotFound)
	_, err = c.s.Evaluations(ctx, "shop", "f", "nowhere", since, until)
	code(t, err, domain.CodeNotFound)
}
