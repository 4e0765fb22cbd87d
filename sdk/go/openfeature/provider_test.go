package provider_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/switchyard/switchyard/pkg/domain"
	switchyard "github.com/switchyard/switchyard/sdk/go"
	"github.com/switchyard/switchyard/sdk/go/internal/fakeserver"
	provider "github.com/switchyard/switchyard/sdk/go/openfeature"
)

// TestMain fails the run when a goroutine of a Switchyard client outlives the tests:
// shutting a provider down must close the client it made.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(2 * time.Second)
		for {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			var leaked []string
			for _, g := range strings.Split(string(buf), "\n\n") {
				if strings.Contains(g, "switchyard/sdk/go.(") {
					leaked = append(leaked, g)
				}
			}
			if len(leaked) == 0 {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "goroutines of a client still running after every test:\n%s\n", strings.Join(leaked, "\n\n"))
				code = 1
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	os.Exit(code)
}

func boolFlag(key string, cfg domain.Config) domain.FlagConfig {
	return domain.FlagConfig{Flag: domain.Flag{Key: key, Kind: domain.KindBoolean, Variants: domain.BooleanVariants()}, Config: cfg}
}

func flags() []domain.FlagConfig {
	staff := domain.Rule{ID: "staff", Conditions: []domain.Condition{
		{Attribute: "email", Operator: domain.OpEndsWith, Values: []any{"@acme.com"}}}, Serve: domain.Serve{Variant: "on"}}
	return []domain.FlagConfig{
		boolFlag("new-checkout", domain.Config{Enabled: true, Rules: []domain.Rule{staff}, Default: domain.Serve{Variant: "off"}, OffVariant: "off"}),
		boolFlag("half", domain.Config{Enabled: true, OffVariant: "off",
			Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 50, "off": 50}}}}),
		boolFlag("disabled", domain.Config{OffVariant: "off", Default: domain.Serve{Variant: "on"}}),
		// A rule on an operator the engine does not know: the flag cannot be compiled.
		boolFlag("broken", domain.Config{Enabled: true, OffVariant: "off", Default: domain.Serve{Variant: "off"},
			Rules: []domain.Rule{{ID: "r", Conditions: []domain.Condition{{Attribute: "a", Operator: "resembles", Values: []any{"x"}}}, Serve: domain.Serve{Variant: "on"}}}}),
		{
			Flag: domain.Flag{Key: "button-color", Kind: domain.KindString,
				Variants: []domain.Variant{{Key: "red", Value: "red"}, {Key: "green", Value: "green"}}},
			Config: domain.Config{Enabled: true, OffVariant: "red", Default: domain.Serve{Variant: "red"},
				Rules: []domain.Rule{{ID: "benelux", Conditions: []domain.Condition{{Attribute: "country", Operator: domain.OpIn, Values: []any{"NL", "BE"}}},
					Serve: domain.Serve{Variant: "green"}}}},
		},
		{
			Flag: domain.Flag{Key: "max-items", Kind: domain.KindNumber,
				Variants: []domain.Variant{{Key: "few", Value: 10.0}, {Key: "many", Value: 250.0}, {Key: "ratio", Value: 0.75}}},
			Config: domain.Config{Enabled: true, OffVariant: "few", Default: domain.Serve{Variant: "many"},
				Rules: []domain.Rule{{ID: "beta", Conditions: []domain.Condition{{Attribute: "beta", Operator: domain.OpEq, Values: []any{true}}},
					Serve: domain.Serve{Variant: "ratio"}}}},
		},
		{
			Flag: domain.Flag{Key: "limits", Kind: domain.KindJSON,
				Variants: []domain.Variant{{Key: "basic", Value: map[string]any{"rate": 10.0}}, {Key: "pro", Value: map[string]any{"rate": 1000.0, "burst": true}}}},
			Config: domain.Config{Enabled: true, OffVariant: "basic", Default: domain.Serve{Variant: "pro"}},
		},
	}
}

func snapshot(version int64, fcs ...domain.FlagConfig) domain.Snapshot {
	return domain.Snapshot{ProjectKey: "demo", EnvironmentID: "env-1", EnvironmentKey: "production", Version: version, Flags: fcs}
}

func fast(extra ...switchyard.Option) []switchyard.Option {
	return append([]switchyard.Option{
		switchyard.WithLogger(slog.New(slog.DiscardHandler)),
		switchyard.WithBackoff(5*time.Millisecond, 50*time.Millisecond),
		switchyard.WithFlushInterval(time.Hour),
		switchyard.WithStartTimeout(5 * time.Second),
	}, extra...)
}

// register sets p as the provider of a domain named after the test, and returns a
// client of that domain; the provider is shut down when the test ends.
func register(t *testing.T, p *provider.Provider) (*openfeature.Client, error) {
	t.Helper()
	err := openfeature.SetNamedProviderAndWait(t.Name(), p)
	t.Cleanup(func() {
		_ = openfeature.SetNamedProviderAndWait(t.Name(), openfeature.NoopProvider{})
		_ = p.ShutdownWithContext(context.Background())
	})
	return openfeature.NewClient(t.Name()), err
}

// events records the events of a client, by type.
func events(c *openfeature.Client, types ...openfeature.EventType) <-chan openfeature.EventDetails {
	ch := make(chan openfeature.EventDetails, 32)
	for _, et := range types {
		cb := func(d openfeature.EventDetails) {
			d.EventMetadata = map[string]any{"type": et}
			ch <- d
		}
		c.AddHandler(et, &cb)
	}
	return ch
}

func wait(t *testing.T, ch <-chan openfeature.EventDetails, want openfeature.EventType) openfeature.EventDetails {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case d := <-ch:
			if d.EventMetadata["type"] == want {
				return d
			}
		case <-deadline:
			t.Fatalf("no %s event", want)
		}
	}
}

// TestEvaluations: every type through the OpenFeature client, with the evaluator's
// reasons and variants, and the error codes mapped.
func TestEvaluations(t *testing.T) {
	srv := fakeserver.New(t, snapshot(4, flags()...))
	c, err := register(t, provider.New(srv.URL, fakeserver.Key, fast()...))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	staff := openfeature.NewEvaluationContext("user-1", map[string]any{"email": "a@acme.com", "country": "NL", "beta": true})
	other := openfeature.NewEvaluationContext("user-2", map[string]any{"email": "b@example.com", "country": "DE"})
	anonymous := openfeature.NewEvaluationContext("", map[string]any{"country": "DE"})

	type answer struct {
		Value   any
		Reason  openfeature.Reason
		Variant string
		Code    openfeature.ErrorCode
	}
	of := func(v any, d openfeature.EvaluationDetails) answer {
		return answer{v, d.Reason, d.Variant, d.ErrorCode}
	}
	for _, tt := range []struct {
		name string
		eval func() answer
		want answer
	}{
		{"boolean targeting", func() answer {
			d, _ := c.BooleanValueDetails(ctx, "new-checkout", false, staff)
			return of(d.Value, d.EvaluationDetails)
		},
			answer{true, openfeature.TargetingMatchReason, "on", ""}},
		{"boolean default", func() answer {
			d, _ := c.BooleanValueDetails(ctx, "new-checkout", true, other)
			return of(d.Value, d.EvaluationDetails)
		},
			answer{false, openfeature.DefaultReason, "off", ""}},
		{"boolean disabled", func() answer {
			d, _ := c.BooleanValueDetails(ctx, "disabled", true, other)
			return of(d.Value, d.EvaluationDetails)
		},
			answer{false, openfeature.DisabledReason, "off", ""}},
		{"not found", func() answer {
			d, _ := c.BooleanValueDetails(ctx, "ghost", true, other)
			return of(d.Value, d.EvaluationDetails)
		},
			answer{true, openfeature.ErrorReason, "", openfeature.FlagNotFoundCode}},
		{"type mismatch", func() answer {
			d, _ := c.BooleanValueDetails(ctx, "button-color", true, other)
			return of(d.Value, d.EvaluationDetails)
		},
			answer{true, openfeature.ErrorReason, "red", openfeature.TypeMismatchCode}},
		{"split", func() answer {
			d, _ := c.BooleanValueDetails(ctx, "half", true, other)
			return of(nil, d.EvaluationDetails)
		},
			answer{nil, openfeature.SplitReason, "on", ""}},
		{"targeting key missing", func() answer {
			d, _ := c.BooleanValueDetails(ctx, "half", true, anonymous)
			return of(d.Value, d.EvaluationDetails)
		},
			answer{true, openfeature.ErrorReason, "off", openfeature.TargetingKeyMissingCode}},
		{"unparsable configuration", func() answer {
			d, _ := c.BooleanValueDetails(ctx, "broken", true, other)
			return of(d.Value, d.EvaluationDetails)
		},
			answer{true, openfeature.ErrorReason, "", openfeature.ParseErrorCode}},
		{"string", func() answer {
			d, _ := c.StringValueDetails(ctx, "button-color", "blue", staff)
			return of(d.Value, d.EvaluationDetails)
		},
			answer{"green", openfeature.TargetingMatchReason, "green", ""}},
		{"float", func() answer {
			d, _ := c.FloatValueDetails(ctx, "max-items", 1, staff)
			return of(d.Value, d.EvaluationDetails)
		},
			answer{0.75, openfeature.TargetingMatchReason, "ratio", ""}},
		{"int", func() answer {
			d, _ := c.IntValueDetails(ctx, "max-items", 1, other)
			return of(d.Value, d.EvaluationDetails)
		},
			answer{int64(250), openfeature.DefaultReason, "many", ""}},
		{"int of a fraction", func() answer {
			d, _ := c.IntValueDetails(ctx, "max-items", 1, staff)
			return of(d.Value, d.EvaluationDetails)
		},
			answer{int64(1), openfeature.ErrorReason, "ratio", openfeature.TypeMismatchCode}},
		{"object", func() answer {
			d, _ := c.ObjectValueDetails(ctx, "limits", nil, other)
			return of(d.Value, d.EvaluationDetails)
		},
			answer{map[string]any{"rate": 1000.0, "burst": true}, openfeature.DefaultReason, "pro", ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.eval(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	d, _ := c.BooleanValueDetails(ctx, "new-checkout", false, staff)
	if v, _ := d.FlagMetadata.GetInt("environmentVersion"); v != 4 {
		t.Errorf("metadata %v", d.FlagMetadata)
	}
	if r, _ := d.FlagMetadata.GetString("ruleId"); r != "staff" {
		t.Errorf("metadata %v", d.FlagMetadata)
	}
}

// TestEvents: ready, configuration changed with the keys of the flags changed, stale
// through an outage and ready again, and error when the key is revoked.
func TestEvents(t *testing.T) {
	base := snapshot(1, flags()...)
	srv := fakeserver.New(t, base)
	p := provider.New(srv.URL, fakeserver.Key, fast(switchyard.WithStaleAfter(60*time.Millisecond), switchyard.WithPollInterval(20*time.Millisecond))...)
	c, err := register(t, p)
	if err != nil {
		t.Fatal(err)
	}
	ch := events(c, openfeature.ProviderReady, openfeature.ProviderConfigChange, openfeature.ProviderStale, openfeature.ProviderError)
	wait(t, ch, openfeature.ProviderReady) // on registration, as the provider is ready
	if c.State() != openfeature.ReadyState {
		t.Fatalf("state %s", c.State())
	}

	next := snapshot(2, flags()...)
	next.Flags[0].Flag.Killed = true
	next.Flags = slices.DeleteFunc(next.Flags, func(f domain.FlagConfig) bool { return f.Flag.Key == "limits" })
	srv.Publish(next)
	if d := wait(t, ch, openfeature.ProviderConfigChange); !slices.Equal(d.FlagChanges, []string{"limits", "new-checkout"}) {
		t.Errorf("flag changes %v", d.FlagChanges)
	}
	if on, _ := c.BooleanValue(context.Background(), "new-checkout", true, openfeature.NewEvaluationContext("u", map[string]any{"email": "a@acme.com"})); on {
		t.Error("the change is not served")
	}

	srv.Stop()
	wait(t, ch, openfeature.ProviderStale)
	if c.State() != openfeature.StaleState {
		t.Errorf("state %s", c.State())
	}
	// Stale still answers from the definitions held.
	if v, err := c.StringValue(context.Background(), "button-color", "blue", openfeature.NewEvaluationContext("u", map[string]any{"country": "BE"})); v != "green" || err != nil {
		t.Errorf("stale answer %q %v", v, err)
	}
	srv.Start(t)
	wait(t, ch, openfeature.ProviderReady)

	srv.Refuse()
	d := wait(t, ch, openfeature.ProviderError)
	if d.Message == "" || c.State() != openfeature.FatalState {
		t.Errorf("error event %+v, state %s", d, c.State())
	}
}

// TestInitRefused: a refused key fails registration, fatally.
func TestInitRefused(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, flags()...))
	srv.Refuse()
	c, err := register(t, provider.New(srv.URL, fakeserver.Key, fast()...))
	var ie *openfeature.ProviderInitError
	if !errors.As(err, &ie) || ie.ErrorCode != openfeature.ProviderFatalCode || c.State() != openfeature.FatalState {
		t.Fatalf("registration: %v, state %s", err, c.State())
	}
}

// TestInitNotReadyThenReady: an evaluator that fails at start fails the provider's
// initialization; registered asynchronously, the provider keeps trying and reports
// ready when the definitions arrive.
func TestInitNotReadyThenReady(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, flags()...))
	srv.FailFlags(http.StatusServiceUnavailable)
	p := provider.New(srv.URL, fakeserver.Key, fast(switchyard.WithStartTimeout(50*time.Millisecond))...)
	c := openfeature.NewClient(t.Name())
	ch := events(c, openfeature.ProviderReady, openfeature.ProviderError)
	if err := openfeature.SetNamedProvider(t.Name(), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = openfeature.SetNamedProviderAndWait(t.Name(), openfeature.NoopProvider{})
		_ = p.ShutdownWithContext(context.Background())
	})
	d := wait(t, ch, openfeature.ProviderError)
	if c.State() != openfeature.ErrorState || !strings.Contains(d.Message, "503") {
		t.Fatalf("state %s, event %+v", c.State(), d)
	}
	srv.FailFlags(0)
	wait(t, ch, openfeature.ProviderReady)
	if on, err := c.BooleanValue(context.Background(), "new-checkout", false, openfeature.NewEvaluationContext("u", map[string]any{"email": "a@acme.com"})); !on || err != nil || c.State() != openfeature.ReadyState {
		t.Errorf("after ready: %v %v %s", on, err, c.State())
	}
}

// TestFromClient: a provider over the application's client leaves it open at
// shutdown.
func TestFromClient(t *testing.T) {
	srv := fakeserver.New(t, snapshot(1, flags()...))
	sc, err := switchyard.New(t.Context(), srv.URL, fakeserver.Key, fast()...)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close(context.Background())
	p := provider.FromClient(sc)
	c, err := register(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := c.StringValue(context.Background(), "button-color", "blue", openfeature.NewEvaluationContext("u", map[string]any{"country": "NL"})); v != "green" {
		t.Errorf("answer %q", v)
	}
	if err := p.ShutdownWithContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !sc.Ready() || sc.String("button-color", nil, "") != "red" {
		t.Error("the application's client was closed")
	}
	if p.Client() != sc {
		t.Error("Client")
	}
}
