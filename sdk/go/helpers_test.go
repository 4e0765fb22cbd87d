package switchyard

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/sdk/go/internal/fakeserver"
)

// TestMain fails the run when a goroutine of the client outlives the tests: every
// client is closed, and Close must end them all.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitGoroutines(2 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines of the client still running after every test:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// waitGoroutines waits until no goroutine runs code of this package, and returns the
// stacks of those that still do.
func waitGoroutines(d time.Duration) string {
	deadline := time.Now().Add(d)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "switchyard/sdk/go.(") && !strings.Contains(g, "_test.go") &&
				!strings.Contains(g, "switchyard/sdk/go.waitGoroutines") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fixture flags: one of each kind, targeting, a rollout, a disabled flag.
func fixtureFlags() []domain.FlagConfig {
	staff := domain.Rule{ID: "staff", Conditions: []domain.Condition{
		{Attribute: "email", Operator: domain.OpEndsWith, Values: []any{"@acme.com"}}}, Serve: domain.Serve{Variant: "on"}}
	return []domain.FlagConfig{
		boolFlag("new-checkout", domain.Config{Enabled: true, Rules: []domain.Rule{staff},
			Default: domain.Serve{Variant: "off"}, OffVariant: "off"}),
		boolFlag("everyone", domain.Config{Enabled: true, OffVariant: "off",
			Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 100}}}}),
		boolFlag("half", domain.Config{Enabled: true, OffVariant: "off",
			Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 50, "off": 50}}}}),
		boolFlag("disabled", domain.Config{Enabled: false, OffVariant: "off", Default: domain.Serve{Variant: "on"}}),
		{
			Flag: domain.Flag{Key: "button-color", Kind: domain.KindString,
				Variants: []domain.Variant{{Key: "red", Value: "red"}, {Key: "green", Value: "green"}}},
			Config: domain.Config{Enabled: true, OffVariant: "red", Default: domain.Serve{Variant: "red"},
				Rules: []domain.Rule{{ID: "benelux", Conditions: []domain.Condition{
					{Attribute: "country", Operator: domain.OpIn, Values: []any{"NL", "BE"}}}, Serve: domain.Serve{Variant: "green"}}}},
		},
		{
			Flag: domain.Flag{Key: "max-items", Kind: domain.KindNumber,
				Variants: []domain.Variant{{Key: "few", Value: 10.0}, {Key: "many", Value: 250.0}}},
			Config: domain.Config{Enabled: true, OffVariant: "few", Default: domain.Serve{Variant: "many"}},
		},
		{
			Flag: domain.Flag{Key: "limits", Kind: domain.KindJSON,
				Variants: []domain.Variant{{Key: "basic", Value: map[string]any{"rate": 10.0}}, {Key: "pro", Value: map[string]any{"rate": 1000.0, "burst": true}}}},
			Config: domain.Config{Enabled: true, OffVariant: "basic", Default: domain.Serve{Variant: "pro"}},
		},
	}
}

func boolFlag(key string, cfg domain.Config) domain.FlagConfig {
	return domain.FlagConfig{Flag: domain.Flag{Key: key, Kind: domain.KindBoolean, Variants: domain.BooleanVariants()}, Config: cfg}
}

func snapshot(version int64, flags ...domain.FlagConfig) domain.Snapshot {
	return domain.Snapshot{ProjectKey: "demo", EnvironmentID: "env-1", EnvironmentKey: "production", Version: version, Flags: flags}
}

// withFlag returns s at version with the flag of that key replaced (or added).
func withFlag(s domain.Snapshot, version int64, fc domain.FlagConfig) domain.Snapshot {
	out := s
	out.Version = version
	out.Flags = nil
	replaced := false
	for _, f := range s.Flags {
		if f.Flag.Key == fc.Flag.Key {
			f, replaced = fc, true
		}
		out.Flags = append(out.Flags, f)
	}
	if !replaced {
		out.Flags = append(out.Flags, fc)
	}
	return out
}

// fast are the options of test clients: quick retries, no periodic reports.
func fast(t testing.TB) []Option {
	return []Option{
		WithLogger(testLogger(t)),
		WithBackoff(5*time.Millisecond, 50*time.Millisecond),
		WithFlushInterval(time.Hour),
		WithStartTimeout(5 * time.Second),
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// start creates a client of srv that is closed when the test ends.
func start(t testing.TB, srv *fakeserver.Server, opts ...Option) *Client {
	t.Helper()
	c, err := New(t.Context(), srv.URL, fakeserver.Key, append(fast(t), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// eventually waits up to 5 s for cond.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recv waits up to 5 s for a value on ch.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
