package postgres_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

// testConfigs: a configuration write sees the current state as locked, stores what fn
// returns at the next version, answers what it stored, audits the change with before
// and after, and invalidates its environment alone.
func testConfigs(t *testing.T, c *contract) {
	c.project("shop")
	f := c.flag("shop", "f")
	cur := must(c.s.Config(ctx, "shop", "f", "production"))(t)
	prod := c.env("shop", "production")
	if cur.Flag.ID != f.ID || cur.Environment != prod || cur.Config.Version != 1 || cur.Config.Enabled {
		t.Fatalf("read %+v", cur)
	}
	c.pending()

	var saw domain.ConfigState
	var reached map[string]domain.FlagConfig
	rule := domain.Rule{ID: "staff", Conditions: []domain.Condition{{Attribute: "email", Operator: domain.OpEndsWith, Values: []any{"@example.com"}}},
		Serve: domain.Serve{Variant: "on"}}
	out := must(c.s.UpdateConfig(ctx, c.o, domain.ActionConfigUpdate, "shop", "f", "production", nil,
		func(st domain.ConfigState, reach map[string]domain.FlagConfig) (domain.Config, error) {
			saw, reached = st, reach
			cfg := st.Config
			cfg.Enabled, cfg.Rules, cfg.Default = true, []domain.Rule{rule}, domain.Serve{Variant: "on"}
			cfg.Version = 99 // the store numbers versions
			return cfg, nil
		}))(t)
	if saw.Flag.ID != f.ID || saw.Environment.ID != prod.ID || !saw.Environment.Protected || saw.Config.Version != 1 || reached != nil {
		t.Fatalf("fn saw %+v, reach %v", saw, reached)
	}
	if !out.Config.Enabled || out.Config.Version != 2 || len(out.Config.Rules) != 1 || out.Config.Rules[0].ID != "staff" ||
		out.Config.Default.Variant != "on" || out.Flag.Key != "f" || out.Environment.Key != "production" ||
		out.Environment.Version != prod.Version+1 || !out.Config.UpdatedAt.After(cur.Config.UpdatedAt) {
		t.Fatalf("answered %+v", out)
	}
	read := must(c.s.Config(ctx, "shop", "f", "production"))(t)
	if read.Config.Version != 2 || !read.Config.UpdatedAt.Equal(out.Config.UpdatedAt) || read.Environment.Version != out.Environment.Version {
		t.Fatalf("read %+v after the write answered %+v", read, out)
	}
	if staging := must(c.s.Config(ctx, "shop", "f", "staging"))(t); staging.Config.Version != 1 || staging.Config.Enabled {
		t.Fatalf("another environment changed: %+v", staging.Config)
	}
	c.invalidated("shop", "production")

	rows := c.trail(domain.ActionConfigUpdate)
	if len(rows) != 1 {
		t.Fatalf("%d audit rows", len(rows))
	}
	var before, after domain.Config
	if err := json.Unmarshal(rows[0].Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rows[0].After, &after); err != nil {
		t.Fatal(err)
	}
	if before.Version != 1 || before.Enabled || after.Version != 2 || !after.Enabled || rows[0].EntityKey != "f/production" ||
		rows[0].ProjectKey != "shop" || rows[0].FlagKey != "f" || rows[0].EnvironmentKey != "production" ||
		rows[0].RequestID != c.o.RequestID || rows[0].Actor != c.o.Actor {
		t.Fatalf("audit row %+v", rows[0])
	}

	toggle := func(env string) (domain.ConfigState, error) {
		return c.s.UpdateConfig(ctx, c.o, domain.ActionConfigToggle, "shop", "f", env, nil,
			func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
				cfg := st.Config
				cfg.Enabled = !cfg.Enabled
				return cfg, nil
			})
	}
	if st := must(toggle("production"))(t); st.Config.Enabled || st.Config.Version != 3 || len(st.Config.Rules) != 1 {
		t.Fatalf("toggled %+v", st.Config)
	}
	_, err := toggle("nowhere")
	code(t, err, domain.CodeNotFound)
	_, err = c.s.UpdateConfig(ctx, c.o, domain.ActionConfigToggle, "shop", "ghost", "production", nil,
		func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
			return st.Config, nil
		})
	code(t, err, domain.CodeNotFound)
	_, err = c.s.Config(ctx, "shop", "ghost", "production")
	code(t, err, domain.CodeNotFound)
	if n := len(c.trail(domain.ActionConfigToggle)); n != 1 {
		t.Fatalf("%d toggles audited, want 1", n)
	}
}

// testPrerequisiteClosure: a write naming prerequisites gets the flags they reach at
// any depth, and the flags that depend on the flag written (with what they reach),
// each with its configuration in the environment; nothing else of the project.
func testPrerequisiteClosure(t *testing.T, c *contract) {
	c.project("shop")
	for _, k := range []string{"a", "b", "c", "d", "up", "other"} {
		c.flag("shop", k)
	}
	require := func(flag, on string) {
		t.Helper()
		must(c.s.UpdateConfig(ctx, c.o, domain.ActionConfigUpdate, "shop", flag, "production", nil,
			func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
				cfg := st.Config
				cfg.Prerequisites = []domain.Prerequisite{{Flag: on, Variant: "on"}}
				return cfg, nil
			}))(t)
	}
	require("b", "c")  // b → c
	require("c", "d")  // c → d
	require("up", "a") // up → a: up depends on a
	var reached map[string]domain.FlagConfig
	must(c.s.UpdateConfig(ctx, c.o, domain.ActionConfigUpdate, "shop", "a", "production", []string{"b"},
		func(st domain.ConfigState, reach map[string]domain.FlagConfig) (domain.Config, error) {
			reached = reach
			cfg := st.Config
			cfg.Prerequisites = []domain.Prerequisite{{Flag: "b", Variant: "on"}}
			return cfg, nil
		}))(t)
	if got := sortedKeys(reached); !slices.Equal(got, []string{"a", "b", "c", "d", "up"}) {
		t.Fatalf("reached %v, want b, c, d (required), up (dependent) and a (up's prerequisite)", got)
	}
	if p := reached["c"].Config.Prerequisites; len(p) != 1 || p[0].Flag != "d" || reached["c"].Flag.Key != "c" || reached["c"].Config.Version != 2 {
		t.Fatalf("c as reached: %+v", reached["c"])
	}
	// Other environments' prerequisites are not followed.
	must(c.s.UpdateConfig(ctx, c.o, domain.ActionConfigUpdate, "shop", "d", "staging", []string{"other"},
		func(st domain.ConfigState, reach map[string]domain.FlagConfig) (domain.Config, error) {
			reached = reach
			return st.Config, nil
		}))(t)
	if got := sortedKeys(reached); !slices.Equal(got, []string{"other"}) {
		t.Fatalf("reached in staging %v, want other alone", got)
	}
}
