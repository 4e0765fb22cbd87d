package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
)

// configWrites are the two ways a configuration write is made: at once (one read, one
// statement), and in a transaction holding the environment's lock, which a `matches`
// pattern needs (the environment's patterns are counted together).
var configWrites = []struct {
	name string
	rule domain.Rule
}{
	{"at once", domain.Rule{ID: "staff", Conditions: []domain.Condition{{Attribute: "email", Operator: domain.OpEndsWith, Values: []any{"@acme.com"}}},
		Serve: domain.Serve{Variant: "on"}}},
	{"locked", domain.Rule{ID: "staff", Conditions: []domain.Condition{{Attribute: "email", Operator: domain.OpMatches, Values: []any{"^.*@acme\\.com$"}}},
		Serve: domain.Serve{Variant: "on"}}},
}

// TestConfigWriteIsAtomic: a configuration write whose audit row or outbox row cannot
// be written leaves nothing behind (configuration, environment version, audit trail
// and outbox as they were), then succeeds with both once they can, each way a write is
// made.
func TestConfigWriteIsAtomic(t *testing.T) {
	s, _ := openPostgres(t)
	db := s.(*postgres.Store).SQL()
	c := &contract{t: t, s: s, o: domain.Origin{Actor: domain.Actor{Type: domain.ActorSystem, ID: "atomic", Name: "atomic test"}}}
	c.project("shop")
	c.flag("shop", "f")
	c.pending()
	if _, err := db.Exec(`CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'injected failure of %', TG_TABLE_NAME; END $$`); err != nil {
		t.Fatal(err)
	}
	for _, w := range configWrites {
		for _, table := range []string{"audit_log", "outbox"} {
			t.Run(w.name+"/"+table, func(t *testing.T) {
				before := c.env("shop", "production")
				cur := must(s.Config(ctx, "shop", "f", "production"))(t).Config
				audited := len(c.trail(domain.ActionConfigUpdate))
				write := func() error {
					_, err := s.UpdateConfig(ctx, c.o, domain.ActionConfigUpdate, "shop", "f", "production", nil,
						func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
							cfg := st.Config
							cfg.Enabled = !cfg.Enabled
							cfg.Rules = []domain.Rule{w.rule}
							return cfg, nil
						})
					return err
				}
				if _, err := db.Exec(`CREATE TRIGGER inject_failure BEFORE INSERT ON ` + table +
					` FOR EACH ROW EXECUTE FUNCTION inject_failure()`); err != nil {
					t.Fatal(err)
				}
				err := write()
				if _, err := db.Exec(`DROP TRIGGER inject_failure ON ` + table); err != nil {
					t.Fatal(err)
				}
				if err == nil {
					t.Fatalf("the write succeeded without its %s row", table)
				}
				after := must(s.Config(ctx, "shop", "f", "production"))(t).Config
				if after.Version != cur.Version || after.Enabled != cur.Enabled || len(after.Rules) != len(cur.Rules) {
					t.Errorf("the configuration changed without its %s row: %+v, was %+v", table, after, cur)
				}
				if v := c.env("shop", "production").Version; v != before.Version {
					t.Errorf("the environment moved to %d without the %s row", v, table)
				}
				if n := len(c.trail(domain.ActionConfigUpdate)); n != audited {
					t.Errorf("%d audit rows, was %d", n, audited)
				}
				if got := c.pending(); len(got) != 0 {
					t.Errorf("invalidations %v without the %s row", got, table)
				}

				ok(t, write())
				if n := len(c.trail(domain.ActionConfigUpdate)); n != audited+1 {
					t.Errorf("%d audit rows after a write, want %d", n, audited+1)
				}
				c.invalidated("shop", "production")
			})
		}
	}
}

// TestConfigWriteDecidesOnTheStateItWrites: a configuration write is decided (fn) on
// the state it reads; when that state changes before the write lands (the environment
// protected, the flag's variants changed, the configuration replaced), the write does
// not land on the changed state: it is decided again, on the state as it is now.
func TestConfigWriteDecidesOnTheStateItWrites(t *testing.T) {
	s, _ := openPostgres(t)
	db := s.(*postgres.Store).SQL()
	c := &contract{t: t, s: s, o: domain.Origin{Actor: domain.Actor{Type: domain.ActorSystem, ID: "race", Name: "race test"}}}
	c.project("shop")
	must(s.CreateFlag(ctx, c.o, "shop", domain.Flag{Key: "color", Name: "Color", Kind: domain.KindString, Tags: []string{}, Salt: "s",
		Variants: []domain.Variant{{Key: "red", Value: "red"}, {Key: "blue", Value: "blue"}}}))(t)
	// meanwhile runs a change of another client; it must not wait for the write.
	meanwhile := func(change func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if err := change(ctx); err != nil {
			t.Fatalf("the change meanwhile: %v", err)
		}
	}
	for _, tc := range []struct {
		name string
		// change runs after the write's first read; refuse decides on the state.
		change func(ctx context.Context) error
		refuse func(st domain.ConfigState) error
	}{
		{"the environment protected", func(ctx context.Context) error {
			_, err := db.ExecContext(ctx, `UPDATE environments SET protected = true
				WHERE key = 'staging' AND project_id = (SELECT id FROM projects WHERE key = 'shop')`)
			return err
		}, func(st domain.ConfigState) error {
			if st.Environment.Protected {
				return domain.Errorf(domain.CodeForbidden, "protected")
			}
			return nil
		}},
		{"the variant served removed", func(ctx context.Context) error {
			_, err := s.UpdateFlag(ctx, c.o, domain.ActionFlagUpdate, "shop", "color", nil, func(cur domain.FlagState) (*domain.Flag, error) {
				f := cur.Flag
				f.Variants = f.Variants[:1]
				return &f, nil
			})
			return err
		}, func(st domain.ConfigState) error {
			for _, v := range st.Flag.Variants {
				if v.Key == "blue" {
					return nil
				}
			}
			return domain.InvalidField("configuration", "default", "unknown variant blue")
		}},
		{"the configuration replaced", func(ctx context.Context) error {
			_, err := s.UpdateConfig(ctx, c.o, domain.ActionConfigToggle, "shop", "color", "staging", nil,
				func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
					cfg := st.Config
					cfg.Enabled = !cfg.Enabled
					return cfg, nil
				})
			return err
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := must(s.Config(ctx, "shop", "color", "staging"))(t).Config
			calls := 0
			_, err := s.UpdateConfig(ctx, c.o, domain.ActionConfigUpdate, "shop", "color", "staging", nil,
				func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
					calls++
					if calls == 1 {
						meanwhile(tc.change)
					}
					if tc.refuse != nil {
						if err := tc.refuse(st); err != nil {
							return st.Config, err
						}
					}
					if st.Config.Version != cur.Version {
						return st.Config, domain.Errorf(domain.CodeConflict, "version %d is not %d", cur.Version, st.Config.Version)
					}
					cfg := st.Config
					cfg.Default = domain.Serve{Variant: "blue"}
					return cfg, nil
				})
			if err == nil {
				t.Fatalf("the write landed on a state it was not decided on (%d calls)", calls)
			}
			if calls != 2 {
				t.Errorf("decided %d times, want twice: %v", calls, err)
			}
			got := must(s.Config(ctx, "shop", "color", "staging"))(t)
			if got.Config.Default.Variant == "blue" {
				t.Errorf("the refused configuration was stored: %+v", got.Config)
			}
			if n := len(c.trail(domain.ActionConfigUpdate)); n != 0 {
				t.Errorf("%d audit rows of a refused write", n)
			}
		})
	}
}
