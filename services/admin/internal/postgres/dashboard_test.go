package postgres_test

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
)

// testEvaluationSeries: counts summed into UTC hours or days, by variant and reason,
// over the range asked (a bucket the range cuts counts only what the range holds), in
// every environment or one; buckets without evaluations are left out.
func testEvaluationSeries(t *testing.T, c *contract) {
	c.project("shop")
	c.flag("shop", "f")
	envs := c.envs("shop")
	prod, staging := envs["production"].ID, envs["staging"].ID
	day := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	c.evaluated(t, prod, "f", day.Add(3*time.Hour+5*time.Minute), "on", "TARGETING_MATCH", 5)
	c.evaluated(t, prod, "f", day.Add(3*time.Hour+59*time.Minute), "on", "TARGETING_MATCH", 2)
	c.evaluated(t, prod, "f", day.Add(4*time.Hour), "off", "DEFAULT", 3)
	c.evaluated(t, staging, "f", day.Add(23*time.Hour+59*time.Minute), "off", "DISABLED", 7)
	c.evaluated(t, prod, "f", day.Add(24*time.Hour), "on", "SPLIT", 100)
	c.evaluated(t, prod, "other", day.Add(3*time.Hour), "on", "DEFAULT", 1000)
	counts := func(kv ...any) []domain.VariantReasonCount {
		var out []domain.VariantReasonCount
		for i := 0; i < len(kv); i += 3 {
			out = append(out, domain.VariantReasonCount{Variant: kv[i].(string), Reason: kv[i+1].(string), Count: int64(kv[i+2].(int))})
		}
		return out
	}
	tests := []struct {
		name         string
		env          string
		since, until time.Time
		bucket       domain.BucketSize
		want         []domain.EvaluationBucket
	}{
		{"a day by the hour", "", day, day.Add(24 * time.Hour), domain.BucketHour, []domain.EvaluationBucket{
			{Start: day.Add(3 * time.Hour), Counts: counts("on", "TARGETING_MATCH", 7), Total: 7},
			{Start: day.Add(4 * time.Hour), Counts: counts("off", "DEFAULT", 3), Total: 3},
			{Start: day.Add(23 * time.Hour), Counts: counts("off", "DISABLED", 7), Total: 7},
		}},
		{"production by the day", "production", day.Add(-48 * time.Hour), day.Add(48 * time.Hour), domain.BucketDay, []domain.EvaluationBucket{
			{Start: day, Counts: counts("off", "DEFAULT", 3, "on", "TARGETING_MATCH", 7), Total: 10},
			{Start: day.Add(24 * time.Hour), Counts: counts("on", "SPLIT", 100), Total: 100},
		}},
		{"a range that cuts its buckets", "", day.Add(3*time.Hour + 30*time.Minute), day.Add(4*time.Hour + time.Minute), domain.BucketHour, []domain.EvaluationBucket{
			{Start: day.Add(3 * time.Hour), Counts: counts("on", "TARGETING_MATCH", 2), Total: 2},
			{Start: day.Add(4 * time.Hour), Counts: counts("off", "DEFAULT", 3), Total: 3},
		}},
		{"nothing", "development", day, day.Add(24 * time.Hour), domain.BucketHour, nil},
	}
	for _, tt := range tests {
		got := must(c.s.EvaluationSeries(ctx, "shop", "f", tt.env, tt.since, tt.until, tt.bucket))(t)
		if len(got) != len(tt.want) {
			t.Fatalf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
		for i := range got {
			if !got[i].Start.Equal(tt.want[i].Start) || got[i].Start.Location() != time.UTC || got[i].Total != tt.want[i].Total ||
				!slices.Equal(got[i].Counts, tt.want[i].Counts) {
				t.Errorf("%s: bucket %d %+v, want %+v", tt.name, i, got[i], tt.want[i])
			}
		}
	}
	_, err := c.s.EvaluationSeries(ctx, "shop", "ghost", "", day, day.Add(time.Hour), domain.BucketHour)
	code(t, err, domain.CodeNotFound)
	_, err = c.s.EvaluationSeries(ctx, "shop", "f", "nowhere", day, day.Add(time.Hour), domain.BucketHour)
	code(t, err, domain.CodeNotFound)
}

// testRevert: a revert is a configuration write whose audit row also names the entry
// it reverts; an entry is found only in the project that holds the key now.
func testRevert(t *testing.T, c *contract) {
	c.project("shop")
	c.flag("shop", "f")
	enable := func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
		cfg := st.Config
		cfg.Enabled = true
		return cfg, nil
	}
	must(c.s.UpdateConfig(ctx, c.o, domain.ActionConfigUpdate, "shop", "f", "production", nil, enable))(t)
	entry := c.trail(domain.ActionConfigUpdate)[0]
	if got := must(c.s.AuditEntry(ctx, "shop", entry.ID))(t); got.ID != entry.ID || got.Action != domain.ActionConfigUpdate ||
		string(got.Before) != string(entry.Before) || got.EntityID != entry.EntityID || got.Reverts != nil {
		t.Fatalf("entry %+v, want %+v", got, entry)
	}
	c.pending()
	out := must(c.s.RevertConfig(ctx, c.o, entry.ID, "shop", "f", "production", nil,
		func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
			var before domain.Config
			if err := json.Unmarshal(entry.Before, &before); err != nil {
				return before, err
			}
			return before, nil
		}))(t)
	if out.Config.Enabled || out.Config.Version != 3 {
		t.Fatalf("reverted to %+v", out.Config)
	}
	c.invalidated("shop", "production")
	row := c.trail(domain.ActionConfigRevert)[0]
	if row.Reverts == nil || *row.Reverts != entry.ID || row.EntityID != entry.EntityID || row.FlagKey != "f" || row.EnvironmentKey != "production" {
		t.Fatalf("revert row %+v", row)
	}
	var before, after domain.Config
	if json.Unmarshal(row.Before, &before) != nil || json.Unmarshal(row.After, &after) != nil || !before.Enabled || before.Version != 2 ||
		after.Enabled || after.Version != 3 {
		t.Fatalf("revert row before %s after %s", row.Before, row.After)
	}
	if got := must(c.s.AuditEntry(ctx, "shop", row.ID))(t); got.Reverts == nil || *got.Reverts != entry.ID {
		t.Fatalf("revert entry read back %+v", got)
	}
	_, err := c.s.AuditEntry(ctx, "shop", row.ID+1000)
	code(t, err, domain.CodeNotFound)
	c.project("other")
	_, err = c.s.AuditEntry(ctx, "other", entry.ID)
	code(t, err, domain.CodeNotFound)
	_, err = c.s.AuditEntry(ctx, "ghost", entry.ID)
	code(t, err, domain.CodeNotFound)
	// A project deleted and created again under its key starts a new trail.
	ok(t, c.s.DeleteProject(ctx, c.o, "shop", nil))
	c.project("shop")
	_, err = c.s.AuditEntry(ctx, "shop", entry.ID)
	code(t, err, domain.CodeNotFound)
}

// testEnvironmentSnapshot: the playground's snapshot is the evaluator's, at the
// environment's version: every live flag with its definition and configuration there;
// archived flags by key alone.
func testEnvironmentSnapshot(t *testing.T, c *contract) {
	c.project("shop")
	c.flag("shop", "a")
	c.flag("shop", "b")
	c.flag("shop", "gone")
	rule := domain.Rule{ID: "staff", Conditions: []domain.Condition{{Attribute: "email", Operator: domain.OpEndsWith, Values: []any{"@acme.com"}}},
		Serve: domain.Serve{Variant: "on"}}
	must(c.s.UpdateConfig(ctx, c.o, domain.ActionConfigUpdate, "shop", "a", "production", nil,
		func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
			cfg := st.Config
			cfg.Enabled, cfg.Rules = true, []domain.Rule{rule}
			return cfg, nil
		}))(t)
	must(c.s.UpdateFlag(ctx, c.o, domain.ActionFlagKill, "shop", "b", nil, func(cur domain.FlagState) (*domain.Flag, error) {
		f := cur.Flag
		f.Killed = true
		return &f, nil
	}))(t)
	must(c.s.UpdateFlag(ctx, c.o, domain.ActionFlagArchive, "shop", "gone", nil, func(cur domain.FlagState) (*domain.Flag, error) {
		f := cur.Flag
		f.Archived = true
		return &f, nil
	}))(t)
	snap := must(c.s.EnvironmentSnapshot(ctx, "shop", "production"))(t)
	prod := c.env("shop", "production")
	if snap.ProjectKey != "shop" || snap.EnvironmentKey != "production" || snap.EnvironmentID != prod.ID || snap.Version != prod.Version {
		t.Fatalf("snapshot of %s/%s %s at %d, want %+v", snap.ProjectKey, snap.EnvironmentKey, snap.EnvironmentID, snap.Version, prod)
	}
	var keys []string
	for _, fc := range snap.Flags {
		keys = append(keys, fc.Flag.Key)
	}
	if !slices.Equal(keys, []string{"a", "b", "gone"}) || snap.Flags[2].Flag.Archived != true || snap.Flags[0].Flag.Archived {
		t.Fatalf("flags %v", keys)
	}
	a, b := snap.Flags[0], snap.Flags[1]
	if !a.Config.Enabled || a.Config.Version != 2 || len(a.Config.Rules) != 1 || a.Config.Rules[0].ID != "staff" ||
		a.Flag.Salt != "salt-a" || len(a.Flag.Variants) != 2 || !b.Flag.Killed {
		t.Fatalf("a %+v, b %+v", a, b)
	}
	s := eval.Compile(snap)
	if len(s.Problems()) != 0 || s.Len() != 2 {
		t.Fatalf("compiled %d flags: %v", s.Len(), s.Problems())
	}
	if r := s.Evaluate("a", &eval.Context{Key: "u", Attributes: map[string]any{"email": "x@acme.com"}}); r.RuleID != "staff" {
		t.Fatalf("a evaluates to %+v", r)
	}
	_, err := c.s.EnvironmentSnapshot(ctx, "shop", "nowhere")
	code(t, err, domain.CodeNotFound)
}

// staleStore is a PostgreSQL store with the helpers that age flags and record
// evaluations at chosen times.
type staleStore struct {
	*postgres.Store
	t *testing.T
}

func (s staleStore) exec(q string, args ...any) {
	s.t.Helper()
	if _, err := s.SQL().Exec(q, args...); err != nil {
		s.t.Fatal(err)
	}
}

// created backdates a flag's creation.
func (s staleStore) created(flag string, at time.Time) {
	s.exec(`UPDATE flags SET created_at = $1 WHERE key = $2`, at, flag)
}

// evaluatedAt records that an evaluator last answered for a flag in an environment at.
func (s staleStore) evaluatedAt(env, flag string, at time.Time) {
	s.exec(`INSERT INTO flag_last_evaluated (environment_id, flag_key, at)
		SELECT e.id, $2, $3 FROM environments e WHERE e.key = $1`, env, flag, at)
}

// TestStaleFlags: a flag is stale when neither created nor evaluated in any
// environment within its project's stale_after_days; listings say so, and filter on
// it with the same rule.
func TestStaleFlags(t *testing.T) {
	raw, _ := openPostgres(t)
	s := staleStore{raw.(*postgres.Store), t}
	c := &contract{t: t, s: raw, o: domain.Origin{Actor: domain.Actor{Type: domain.ActorSystem, ID: "t", Name: "t"}}}
	if p := c.project("shop"); p.StaleAfterDays != domain.DefaultStaleAfterDays {
		t.Fatalf("stale_after_days %d, want the default", p.StaleAfterDays)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	long := now.AddDate(0, 0, -40)
	for _, f := range []string{"used", "forgotten", "never", "new", "used-elsewhere"} {
		c.flag("shop", f)
	}
	for _, f := range []string{"used", "forgotten", "never", "used-elsewhere"} {
		s.created(f, long)
	}
	s.evaluatedAt("production", "used", now.AddDate(0, 0, -1))
	s.evaluatedAt("staging", "used", now.AddDate(0, 0, -50))
	s.evaluatedAt("production", "forgotten", now.AddDate(0, 0, -35))
	s.evaluatedAt("development", "used-elsewhere", now.AddDate(0, 0, -2))
	list := func(stale *bool) map[string]domain.FlagSummary {
		t.Helper()
		out := map[string]domain.FlagSummary{}
		page := domain.Keyset{Limit: 2}
		for {
			items, next := must2(c.s.Flags(ctx, "shop", domain.FlagFilter{Stale: stale}, page))(t)
			for _, it := range items {
				out[it.Key] = it
			}
			if next == "" {
				return out
			}
			page.After = next
		}
	}
	all := list(nil)
	want := map[string]bool{"used": false, "forgotten": true, "never": true, "new": false, "used-elsewhere": false}
	for k, stale := range want {
		if all[k].Stale != stale {
			t.Errorf("%s: stale %v, want %v (%+v)", k, all[k].Stale, stale, all[k])
		}
	}
	used := all["used"]
	if used.LastEvaluated == nil || !used.LastEvaluated.Equal(now.AddDate(0, 0, -1)) ||
		used.Environments["staging"].LastEvaluated == nil || !used.Environments["staging"].LastEvaluated.Equal(now.AddDate(0, 0, -50)) ||
		used.Environments["development"].LastEvaluated != nil || all["never"].LastEvaluated != nil {
		t.Errorf("last evaluated: %+v", used)
	}
	yes, no := true, false
	if got := sortedKeys(list(&yes)); !slices.Equal(got, []string{"forgotten", "never"}) {
		t.Errorf("stale=true lists %v", got)
	}
	if got := sortedKeys(list(&no)); !slices.Equal(got, []string{"new", "used", "used-elsewhere"}) {
		t.Errorf("stale=false lists %v", got)
	}
	// A longer period: flags created 40 days ago are not stale yet.
	p := must(c.s.UpdateProject(ctx, c.o, "shop", func(p *domain.Project) error { p.StaleAfterDays = 60; return nil }))(t)
	if p.StaleAfterDays != 60 || must(c.s.Project(ctx, "shop"))(t).StaleAfterDays != 60 {
		t.Fatalf("updated %+v", p)
	}
	if got := list(&yes); len(got) != 0 {
		t.Errorf("stale after 60 days: %v", sortedKeys(got))
	}
	// The database refuses a period out of bounds, whatever its caller checked.
	_, err := c.s.UpdateProject(ctx, c.o, "shop", func(p *domain.Project) error { p.StaleAfterDays = 0; return nil })
	if err == nil {
		t.Error("stale_after_days 0 stored")
	}
}

// BenchmarkFlagsPage measures a page of the flag listing of a project of 10,000 flags
// in three environments, half of them evaluated: the first page, one deep in, and the
// stale filter, which passes over flags until it fills its page. With -v it logs the
// plans.
func BenchmarkFlagsPage(b *testing.B) {
	s, err := postgres.Open(ctx, slog.New(slog.DiscardHandler), testinfra.MigratedDB(b), postgres.Options{MaxConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	c := &contract{s: s, o: domain.Origin{Actor: domain.Actor{Type: domain.ActorSystem, ID: "b", Name: "b"}}}
	if _, err := c.s.CreateProject(ctx, c.o, domain.Project{Key: "big", Name: "big"}, domain.DefaultEnvironments); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO flags (project_id, key, name, kind, variants, salt, created_at)
			SELECT p.id, 'flag-' || lpad(i::text, 5, '0'), 'Flag ' || i, 'boolean',
				'[{"key":"on","value":true},{"key":"off","value":false}]', md5(i::text), now() - interval '90 days'
			FROM projects p, generate_series(0, 9999) i WHERE p.key = 'big'`,
		`INSERT INTO flag_configs (flag_id, environment_id, default_serve, off_variant)
			SELECT f.id, e.id, '{"variant":"off"}', 'off' FROM flags f JOIN environments e ON e.project_id = f.project_id`,
		// Half the flags evaluated lately in production, a quarter long ago in staging.
		`INSERT INTO flag_last_evaluated (environment_id, flag_key, at)
			SELECT e.id, f.key, now() - interval '1 hour' FROM flags f JOIN environments e ON e.project_id = f.project_id
			WHERE e.key = 'production' AND right(f.key, 1) IN ('0', '2', '4', '6', '8')`,
		`INSERT INTO flag_last_evaluated (environment_id, flag_key, at)
			SELECT e.id, f.key, now() - interval '60 days' FROM flags f JOIN environments e ON e.project_id = f.project_id
			WHERE e.key = 'staging' AND right(f.key, 1) IN ('1', '3')`,
		`ANALYZE`,
	} {
		if _, err := s.SQL().Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	yes := true
	for _, bc := range []struct {
		name   string
		filter domain.FlagFilter
		after  string
	}{
		{"first", domain.FlagFilter{}, ""},
		{"deep", domain.FlagFilter{}, "flag-09000"},
		{"stale", domain.FlagFilter{Stale: &yes}, ""},
		{"stale-deep", domain.FlagFilter{Stale: &yes}, "flag-09000"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				items, _, err := c.s.Flags(ctx, "big", bc.filter, domain.Keyset{Limit: domain.MaxPageLimit, After: bc.after})
				if err != nil || len(items) != domain.MaxPageLimit {
					b.Fatalf("%d items: %v", len(items), err)
				}
			}
		})
	}
	// The plans, for the record (go test -v).
	for _, q := range []string{
		`EXPLAIN ANALYZE SELECT * FROM flags WHERE project_id = (SELECT id FROM projects WHERE key = 'big') AND archived = false
			AND (flags.created_at < now() - interval '30 days' AND NOT EXISTS (SELECT 1 FROM flag_configs c
			JOIN flag_last_evaluated l ON l.environment_id = c.environment_id AND l.flag_key = flags.key
			WHERE c.flag_id = flags.id AND l.at >= now() - interval '30 days')) ORDER BY key LIMIT 201`,
		// The worst case of a stale page: one that must pass over every flag of the
		// project (when few are stale), as counting them all does.
		`EXPLAIN ANALYZE SELECT count(*) FROM flags WHERE project_id = (SELECT id FROM projects WHERE key = 'big') AND archived = false
			AND (flags.created_at < now() - interval '30 days' AND NOT EXISTS (SELECT 1 FROM flag_configs c
			JOIN flag_last_evaluated l ON l.environment_id = c.environment_id AND l.flag_key = flags.key
			WHERE c.flag_id = flags.id AND l.at >= now() - interval '30 days'))`,
	} {
		rows, err := s.SQL().Query(q)
		if err != nil {
			b.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				b.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		b.Log("\n" + strings.Join(plan, "\n"))
	}
}
