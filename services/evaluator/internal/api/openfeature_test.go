package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	ofrep "github.com/open-feature/go-sdk-contrib/providers/ofrep"
	"github.com/open-feature/go-sdk/openfeature"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
)

// TestOpenFeatureSDK drives the evaluator through the official OpenFeature Go SDK and
// its OFREP provider (v0.1.7): boolean, string, number and object flags, targeting,
// rollout, disabled, not found, and a bad key.
func TestOpenFeatureSDK(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	h.env.Flag(fixture.Bool("new-checkout", domain.Config{Enabled: true, Rules: []domain.Rule{staff},
		Default: domain.Serve{Variant: "off"}, OffVariant: "off"}))
	h.env.Flag(fixture.Bool("everyone", domain.Config{Enabled: true, OffVariant: "off",
		Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 100}}}}))
	disabled := fixture.On()
	disabled.Enabled = false
	h.env.Flag(fixture.Bool("disabled", disabled))
	h.env.Flag(domain.FlagConfig{
		Flag: domain.Flag{Key: "checkout/button-color", Kind: domain.KindString,
			Variants: []domain.Variant{{Key: "red", Value: "red"}, {Key: "green", Value: "green"}}},
		Config: domain.Config{Enabled: true, OffVariant: "red", Default: domain.Serve{Variant: "red"},
			Rules: []domain.Rule{{ID: "benelux", Conditions: []domain.Condition{{Attribute: "country", Operator: domain.OpIn, Values: []any{"NL", "BE"}}},
				Serve: domain.Serve{Variant: "green"}}}}})
	h.env.Flag(domain.FlagConfig{
		Flag: domain.Flag{Key: "max-items", Kind: domain.KindNumber,
			Variants: []domain.Variant{{Key: "few", Value: 10.0}, {Key: "many", Value: 250.0}, {Key: "ratio", Value: 0.75}}},
		Config: domain.Config{Enabled: true, OffVariant: "few", Default: domain.Serve{Variant: "many"},
			Rules: []domain.Rule{{ID: "beta", Conditions: []domain.Condition{{Attribute: "beta", Operator: domain.OpEq, Values: []any{true}}},
				Serve: domain.Serve{Variant: "ratio"}}}}})
	h.env.Flag(domain.FlagConfig{
		Flag: domain.Flag{Key: "limits", Kind: domain.KindJSON,
			Variants: []domain.Variant{{Key: "basic", Value: map[string]any{"rate": 10.0}}, {Key: "pro", Value: map[string]any{"rate": 1000.0, "burst": true}}}},
		Config: domain.Config{Enabled: true, OffVariant: "basic", Default: domain.Serve{Variant: "pro"}}})

	// The SDK's requests go through a transport that validates every answer against
	// the OpenAPI document, as the test client's do.
	checked := &testinfra.ValidatingTransport{T: t, Check: validate(t)}
	sdkClient := &http.Client{Transport: checked, Timeout: 5 * time.Second}
	if err := openfeature.SetNamedProviderAndWait("switchyard", ofrep.NewProvider(h.srv.URL, ofrep.WithBearerToken(h.env.Key), ofrep.WithClient(sdkClient))); err != nil {
		t.Fatal(err)
	}
	c := openfeature.NewClient("switchyard")
	ctx := context.Background()
	staffCtx := openfeature.NewEvaluationContext("user-1", map[string]any{"email": "a@acme.com", "country": "NL", "beta": true})
	other := openfeature.NewEvaluationContext("user-2", map[string]any{"email": "b@example.com", "country": "DE"})

	b, err := c.BooleanValueDetails(ctx, "new-checkout", false, staffCtx)
	if err != nil || !b.Value || b.Reason != openfeature.TargetingMatchReason || b.Variant != "on" {
		t.Errorf("targeting: %+v %v", b, err)
	}
	if b, _ := c.BooleanValueDetails(ctx, "new-checkout", true, other); b.Value || b.Reason != openfeature.DefaultReason {
		t.Errorf("default: %+v", b)
	}
	if b, _ := c.BooleanValueDetails(ctx, "everyone", false, other); !b.Value || b.Reason != openfeature.SplitReason {
		t.Errorf("rollout: %+v", b)
	}
	// For a disabled flag the SDK hands the caller its own default value, keeping our
	// reason and variant.
	if b, _ := c.BooleanValueDetails(ctx, "disabled", true, other); b.Reason != openfeature.DisabledReason || b.Variant != "off" {
		t.Errorf("disabled: %+v", b)
	}
	nf, err := c.BooleanValueDetails(ctx, "ghost", true, other)
	if err == nil || !nf.Value || nf.ErrorCode != openfeature.FlagNotFoundCode {
		t.Errorf("not found: %+v %v", nf, err)
	}
	if s, err := c.StringValueDetails(ctx, "checkout/button-color", "blue", staffCtx); err != nil || s.Value != "green" || s.Variant != "green" {
		t.Errorf("string: %+v %v", s, err)
	}
	if s, _ := c.StringValue(ctx, "checkout/button-color", "blue", other); s != "red" {
		t.Errorf("string default: %v", s)
	}
	if n, err := c.IntValue(ctx, "max-items", 1, other); err != nil || n != 250 {
		t.Errorf("int: %v %v", n, err)
	}
	if f, err := c.FloatValue(ctx, "max-items", 1, staffCtx); err != nil || f != 0.75 {
		t.Errorf("float: %v %v", f, err)
	}
	obj, err := c.ObjectValue(ctx, "limits", map[string]any{}, other)
	if m, ok := obj.(map[string]any); err != nil || !ok || m["rate"] != 1000.0 || m["burst"] != true {
		t.Errorf("object: %#v %v", obj, err)
	}
	// A type mismatch is the SDK's to report, with the default value.
	if v, err := c.BooleanValue(ctx, "checkout/button-color", true, other); err == nil || !v {
		t.Errorf("type mismatch: %v %v", v, err)
	}

	if err := openfeature.SetNamedProviderAndWait("bad-key", ofrep.NewProvider(h.srv.URL, ofrep.WithBearerToken("sy_sdk_wrong"), ofrep.WithClient(sdkClient))); err != nil {
		t.Fatal(err)
	}
	bad, err := openfeature.NewClient("bad-key").BooleanValueDetails(ctx, "new-checkout", true, staffCtx)
	if err == nil || !bad.Value || bad.ErrorCode != openfeature.GeneralCode {
		t.Errorf("bad key: %+v %v", bad, err)
	}
	if checked.Count() < 8 {
		t.Errorf("only %d of the SDK's answers went through the validator", checked.Count())
	}
}
