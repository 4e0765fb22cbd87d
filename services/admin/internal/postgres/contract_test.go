package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/services/admin/internal/auth"
	"github.com/switchyard/switchyard/services/admin/internal/outbox"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

// Store is what the contract covers: every interface the consumers of the admin's
// storage declare, as they declare it.
type Store interface {
	service.Store
	auth.Store
	outbox.Store
}

var _ Store = (*postgres.Store)(nil)

// implementation is a store under test. evaluated records flag evaluations, as the
// evaluators do: the admin's storage only reads them.
type implementation struct {
	name string
	open func(t *testing.T) (s Store, evaluated func(t *testing.T, envID, flag string, minute time.Time, variant, reason string, n int))
}

// implementations are the stores the contract runs against, each test on a fresh one.
var implementations = []implementation{{name: "postgres", open: openPostgres}}

func openPostgres(t *testing.T) (Store, func(*testing.T, string, string, time.Time, string, string, int)) {
	t.Helper()
	s, err := postgres.Open(context.Background(), slog.New(slog.DiscardHandler), testinfra.MigratedDB(t), postgres.Options{MaxConns: 60})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, func(t *testing.T, envID, flag string, minute time.Time, variant, reason string, n int) {
		t.Helper()
		if _, err := s.SQL().Exec(`INSERT INTO flag_evaluations (environment_id, flag_key, minute, variant, reason, count)
			VALUES ($1, $2, $3, $4, $5, $6)`, envID, flag, minute, variant, reason, n); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SQL().Exec(`INSERT INTO flag_last_evaluated (environment_id, flag_key, at) VALUES ($1, $2, $3)
			ON CONFLICT (environment_id, flag_key) DO UPDATE SET at = greatest(flag_last_evaluated.at, EXCLUDED.at)`,
			envID, flag, minute); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStoreContract runs the contract against every implementation. The cases run one
// at a time: the concurrency cases want the database to themselves.
func TestStoreContract(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, c *contract)
	}{
		{"Projects", testProjects},
		{"Environments", testEnvironments},
		{"Flags", testFlags},
		{"KillIsGuardedAndIdempotent", testKill},
		{"Configs", testConfigs},
		{"PrerequisiteClosure", testPrerequisiteClosure},
		{"SDKKeys", testSDKKeys},
		{"UsersAndMembers", testUsersAndMembers},
		{"PasswordChangeRevokesTokens", testPasswordChange},
		{"Tokens", testTokens},
		{"AuditTrail", testAuditTrail},
		{"Evaluations", testEvaluations},
		{"EvaluationSeries", testEvaluationSeries},
		{"RevertRecordsTheEntry", testRevert},
		{"EnvironmentSnapshot", testEnvironmentSnapshot},
		{"AuditRowWithEveryChange", testAuditWithEveryChange},
		{"OutboxRowWithEveryInvalidatingChange", testOutboxWithEveryChange},
		{"RefusedChangeWritesNothing", testRefusedChangeWritesNothing},
		{"OutboxDelivery", testOutboxDelivery},
		{"ConcurrentConfigWritesOneVersionWins", testConcurrentConfigWrites},
		{"ConcurrentCreatesOfOneKey", testConcurrentCreates},
		{"ConcurrentWritesToDifferentFlags", testConcurrentWritesToDifferentFlags},
	}
	for _, impl := range implementations {
		t.Run(impl.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					s, evaluated := impl.open(t)
					tc.run(t, &contract{t: t, s: s, evaluated: evaluated,
						o: domain.Origin{Actor: domain.Actor{Type: domain.ActorSystem, ID: "contract", Name: "store contract"}, RequestID: "req-" + tc.name}})
				})
			}
		})
	}
}

// contract is one case's store, with helpers that fail the test on errors.
type contract struct {
	t         *testing.T
	s         Store
	o         domain.Origin // a superuser: the store does not authorize, its callers do
	evaluated func(t *testing.T, envID, flag string, minute time.Time, variant, reason string, n int)
}

var ctx = context.Background()

// must returns v, failing the test it is given on err: must(c.s.Project(ctx, k))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// code fails the test unless err carries the code.
func code(t *testing.T, err error, want domain.Code) {
	t.Helper()
	if got := domain.ErrorCode(err); got != want {
		t.Fatalf("error %v: code %q, want %q", err, got, want)
	}
}

// project creates a project with the default environments.
func (c *contract) project(key string) domain.Project {
	c.t.Helper()
	return must(c.s.CreateProject(ctx, c.o, domain.Project{Key: key, Name: key}, domain.DefaultEnvironments))(c.t)
}

// flag creates a boolean flag.
func (c *contract) flag(project, key string, tags ...string) domain.FlagDetail {
	c.t.Helper()
	if tags == nil {
		tags = []string{}
	}
	return must(c.s.CreateFlag(ctx, c.o, project, domain.Flag{Key: key, Name: key, Kind: domain.KindBoolean,
		Variants: domain.BooleanVariants(), Tags: tags, Salt: "salt-" + key}))(c.t)
}

// env returns an environment as stored.
func (c *contract) env(project, key string) domain.Environment {
	c.t.Helper()
	return must(c.s.Environment(ctx, project, key))(c.t)
}

// envs returns a project's environments by key.
func (c *contract) envs(project string) map[string]domain.Environment {
	c.t.Helper()
	out := map[string]domain.Environment{}
	for _, e := range must(c.s.AllEnvironments(ctx, project))(c.t) {
		out[e.Key] = e
	}
	return out
}

// trail returns the whole audit trail, newest first, optionally of one action.
func (c *contract) trail(action string) []domain.AuditEntry {
	c.t.Helper()
	var all []domain.AuditEntry
	page := domain.Keyset{Limit: domain.MaxPageLimit}
	for {
		items, next := must2(c.s.Audit(ctx, domain.AuditFilter{AllProjects: true, Action: action}, page))(c.t)
		all = append(all, items...)
		if next == "" {
			return all
		}
		page.After = next
	}
}

// must2 is must for calls of two results.
func must2[A, B any](a A, b B, err error) func(t *testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// pending delivers every due invalidation and returns the newest version of each
// environment: what the changes since the last call enqueued.
func (c *contract) pending() map[string]int64 {
	c.t.Helper()
	out := map[string]int64{}
	for {
		rep, err := c.s.DeliverOutbox(ctx, 500, func(_ context.Context, inv domain.Invalidation) error {
			out[inv.EnvironmentID] = max(out[inv.EnvironmentID], inv.Version)
			return nil
		})
		if err != nil {
			c.t.Fatal(err)
		}
		if rep.Failed != 0 {
			c.t.Fatalf("delivery failed: %+v", rep)
		}
		if rep.Delivered == 0 {
			return out
		}
	}
}

// invalidated checks that exactly the environments named were invalidated since the
// last call, each at its current version.
func (c *contract) invalidated(project string, keys ...string) {
	c.t.Helper()
	got := c.pending()
	want := map[string]int64{}
	envs := c.envs(project)
	for _, k := range keys {
		want[envs[k].ID] = envs[k].Version
	}
	if len(got) != len(want) {
		c.t.Fatalf("invalidations %v, want %v (%v)", got, want, keys)
	}
	for id, v := range want {
		if got[id] != v {
			c.t.Fatalf("invalidation of %s at %d, want %d (%v)", id, got[id], v, keys)
		}
	}
}

// keys lists the keys of the environments given.
func keys(envs []domain.Environment) []string {
	out := make([]string, len(envs))
	for i, e := range envs {
		out[i] = e.Key
	}
	return out
}

var errRefused = errors.New("refused by the caller")

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
