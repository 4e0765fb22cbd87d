package postgres_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/pgsnapshot"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
	"github.com/switchyard/switchyard/services/evaluator/internal/keys"
	"github.com/switchyard/switchyard/services/evaluator/internal/postgres"
)

// TestReadReplica reads from a replica that lags behind the primary (a copy taken
// before the last change): snapshots come from the replica unless it has not seen the
// version announced, and keys it does not know yet are found on the primary.
func TestReadReplica(t *testing.T) {
	ctx := context.Background()
	primaryURL := testinfra.MigratedDB(t)
	env := fixture.New(t, primaryURL)
	old := env.Flag(fixture.Bool("f", fixture.On()))
	env.DB.SetMaxIdleConns(0) // the clone ends other connections; hold none
	replicaURL := testinfra.CloneDB(t, primaryURL)
	env.DB.SetMaxIdleConns(2)
	latest := env.SetConfig("f", fixture.Off())
	fresh := env.NewKey(nil)
	revoked := sha256.Sum256([]byte(env.Key))
	if _, err := env.DB.Exec(`UPDATE sdk_keys SET revoked_at = now() WHERE digest = $1`, revoked[:]); err != nil {
		t.Fatal(err)
	}

	s, err := postgres.Open(primaryURL, replicaURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, err := s.LoadSnapshot(ctx, env.ID, 0)
	if err != nil || snap.Version != old {
		t.Fatalf("read from the replica: version %d %v, want %d", snap.Version, err, old)
	}
	snap, err = s.LoadSnapshot(ctx, env.ID, latest)
	if err != nil || snap.Version != latest || snap.Flags[0].Config.Enabled != true || snap.Flags[0].Config.Default.Variant != "off" {
		t.Fatalf("behind the announced version, read the primary: %+v %v", snap, err)
	}
	d := sha256.Sum256([]byte(fresh))
	if k, err := s.LookupSDKKey(ctx, d[:]); err != nil || k.EnvironmentID != env.ID {
		t.Fatalf("a key the replica does not know yet: %+v %v", k, err)
	}
	k, err := s.LookupSDKKey(ctx, revoked[:])
	if err != nil || k.RevokedAt == nil {
		t.Fatalf("a key revoked after the replica's copy must be seen revoked: %+v %v", k, err)
	}
	if k, err := s.SDKKeyByID(ctx, k.ID); err != nil || k.RevokedAt == nil {
		t.Fatalf("by id too, a key revoked after the replica's copy must be seen revoked: %+v %v", k, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("ping: %v", err)
	}
}

// TestSDKKeyKinds: a key is read with its kind, by its digest (authentication) and by
// its id (the re-check of open streams), which notes no use. An id that is no key's is
// ErrUnknownKey.
func TestSDKKeyKinds(t *testing.T) {
	ctx := context.Background()
	url := testinfra.MigratedDB(t)
	env := fixture.New(t, url)
	s, err := postgres.Open(url, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := []struct {
		name  string
		extra map[string]string // columns the fixture sets
		kind  string
	}{
		{"made before kinds", nil, domain.SDKKeyServer},
		{"server", map[string]string{"kind": "'server'"}, domain.SDKKeyServer},
		{"client", map[string]string{"kind": "'client'"}, domain.SDKKeyClient},
		{"revoked client", map[string]string{"kind": "'client'", "revoked_at": "now()"}, domain.SDKKeyClient},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := sha256.Sum256([]byte(env.NewKey(c.extra)))
			var id string
			if err := env.DB.QueryRow(`SELECT id FROM sdk_keys WHERE digest = $1`, d[:]).Scan(&id); err != nil {
				t.Fatal(err)
			}
			byID, err := s.SDKKeyByID(ctx, id)
			if err != nil || byID.ID != id || byID.EnvironmentID != env.ID || byID.Kind != c.kind ||
				(byID.RevokedAt != nil) != (c.extra["revoked_at"] != "") {
				t.Fatalf("by id: %+v %v, want kind %s", byID, err, c.kind)
			}
			var used bool
			if err := env.DB.QueryRow(`SELECT last_used_at IS NOT NULL FROM sdk_keys WHERE id = $1`, id).Scan(&used); err != nil || used {
				t.Errorf("reading a key by id noted a use (%v)", err)
			}
			looked, err := s.LookupSDKKey(ctx, d[:])
			if err != nil || !reflect.DeepEqual(looked, byID) {
				t.Errorf("by digest: %+v %v, want %+v", looked, err, byID)
			}
		})
	}
	for _, id := range []string{"00000000-0000-0000-0000-000000000000", "not-a-uuid", "", "0000000000000000000000000000000000000"} {
		if k, err := s.SDKKeyByID(ctx, id); !errors.Is(err, postgres.ErrUnknownKey) || !errors.Is(err, keys.ErrUnknownKey) {
			t.Errorf("id %q: %+v %v, want ErrUnknownKey", id, k, err)
		}
	}
}

// TestErrors: the store answers in domain terms. An unknown key is ErrUnknownKey (the
// authenticator's keys.ErrUnknownKey), an unknown environment CodeNotFound, and a
// database that cannot be reached CodeUnavailable, whichever call meets it.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	url := testinfra.MigratedDB(t)
	s, err := postgres.Open(url, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	unknown := sha256.Sum256([]byte("sy_sdk_unknown"))
	if _, err := s.LookupSDKKey(ctx, unknown[:]); !errors.Is(err, postgres.ErrUnknownKey) || !errors.Is(err, keys.ErrUnknownKey) {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := s.LoadSnapshot(ctx, "00000000-0000-0000-0000-000000000000", 0); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("unknown environment: %v", err)
	}

	down, err := postgres.Open("postgres://switchyard@127.0.0.1:1/switchyard?sslmode=disable&connect_timeout=1", "", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	if _, err := down.LookupSDKKey(ctx, unknown[:]); domain.ErrorCode(err) != domain.CodeUnavailable || errors.Is(err, postgres.ErrUnknownKey) {
		t.Errorf("key lookup with the database down: %v", err)
	}
	if _, err := down.SDKKeyByID(ctx, "00000000-0000-0000-0000-000000000000"); domain.ErrorCode(err) != domain.CodeUnavailable || errors.Is(err, postgres.ErrUnknownKey) {
		t.Errorf("key re-check with the database down: %v", err)
	}
	if _, err := down.LoadSnapshot(ctx, "00000000-0000-0000-0000-000000000000", 0); domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Errorf("snapshot load with the database down: %v", err)
	}
	if err := down.Ping(ctx); domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Errorf("ping with the database down: %v", err)
	}
}

// TestBackgroundLoad: a load marked as in the background (decoded on one goroutine)
// reads what a load on every processor reads, over several batches of rows.
func TestBackgroundLoad(t *testing.T) {
	ctx := context.Background()
	url := testinfra.MigratedDB(t)
	env := fixture.New(t, url)
	flags := make([]domain.FlagConfig, 2500)
	for i := range flags {
		flags[i] = fixture.Bool(fmt.Sprintf("flag-%04d", i), fixture.On(domain.Rule{ID: "r", Conditions: []domain.Condition{
			{Attribute: "plan", Operator: domain.OpIn, Values: []any{"pro", fmt.Sprint("p", i%7)}}}, Serve: domain.Serve{Variant: "off"}}))
	}
	env.Flags(flags...)
	s, err := postgres.Open(url, "", 4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fg, err := s.LoadSnapshot(ctx, env.ID, 0)
	if err != nil || len(fg.Flags) != len(flags) {
		t.Fatalf("foreground: %d flags, %v", len(fg.Flags), err)
	}
	bg, err := s.LoadSnapshot(pgsnapshot.Background(ctx), env.ID, 0)
	if err != nil || !reflect.DeepEqual(bg, fg) {
		t.Fatalf("a background load differs from a foreground one (%v)", err)
	}
}
