package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
)

// TestAfterCommit: the after-commit hook runs once after each committed change that
// enqueued invalidations, and never for other changes, refused ones or deliveries.
func TestAfterCommit(t *testing.T) {
	s, err := postgres.Open(context.Background(), slog.New(slog.DiscardHandler), testinfra.MigratedDB(t), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var kicks atomic.Int32
	s.AfterCommit(func() { kicks.Add(1) })
	c := &contract{t: t, s: s, o: domain.Origin{Actor: domain.Actor{Type: domain.ActorSystem, ID: "hook", Name: "hook test"}}}
	toggle := func(refuse bool) error {
		_, err := s.UpdateConfig(ctx, c.o, domain.ActionConfigToggle, "shop", "f", "production", nil,
			func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
				if refuse {
					return st.Config, errRefused
				}
				return st.Config, nil
			})
		return err
	}
	noChange := func(domain.FlagState) (*domain.Flag, error) { return nil, nil }
	for _, step := range []struct {
		name  string
		run   func() error
		kicks int32
	}{
		{"a project: nothing to invalidate", func() error { c.project("shop"); return nil }, 0},
		{"a flag: every environment", func() error { c.flag("shop", "f"); return nil }, 1},
		{"a refused configuration", func() error {
			if err := toggle(true); !errors.Is(err, errRefused) {
				return fmt.Errorf("refused: %v", err)
			}
			return nil
		}, 1},
		{"a configuration", func() error { return toggle(false) }, 2},
		{"a user", func() error { c.user("u@example.com"); return nil }, 2},
		{"a delivery round", func() error { c.pending(); return nil }, 2},
		{"an update that changes nothing", func() error {
			_, err := s.UpdateFlag(ctx, c.o, domain.ActionFlagKill, "shop", "f", nil, noChange)
			return err
		}, 2},
		{"an environment deleted", func() error { return s.DeleteEnvironment(ctx, c.o, "shop", "staging") }, 3},
	} {
		if err := step.run(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := kicks.Load(); got != step.kicks {
			t.Fatalf("after %s: %d kicks, want %d", step.name, got, step.kicks)
		}
	}
}
