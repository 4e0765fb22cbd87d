// Package provider is the OpenFeature provider of the Switchyard Go SDK
// (github.com/switchyard/switchyard/sdk/go), for the OpenFeature Go SDK
// (github.com/open-feature/go-sdk v1): flags are evaluated in process from
// definitions kept current by the stream, with the evaluator's answers.
//
//	p := provider.New("http://localhost:8081", os.Getenv("SWITCHYARD_SDK_KEY"))
//	if err := openfeature.SetProviderAndWait(p); err != nil { … }
//	client := openfeature.NewClient("checkout")
//	on, _ := client.BooleanValue(ctx, "new-checkout", false, openfeature.NewEvaluationContext("user-42", attrs))
//
// The provider emits PROVIDER_READY, PROVIDER_CONFIGURATION_CHANGED (with the keys of
// the flags that changed), PROVIDER_STALE (cut off from the evaluator for longer than
// switchyard.WithStaleAfter; the last definitions are still served) and
// PROVIDER_ERROR (the SDK key was refused: fatal).
package provider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/switchyard/switchyard/pkg/eval"
	switchyard "github.com/switchyard/switchyard/sdk/go"
)

// Name is the provider's name in its metadata and events.
const Name = "Switchyard"

// Provider is an OpenFeature provider backed by a switchyard.Client.
type Provider struct {
	baseURL, sdkKey string
	opts            []switchyard.Option
	owned           bool // the provider creates the client, and closes it

	events chan openfeature.Event

	mu          sync.Mutex
	client      *switchyard.Client
	initialized bool
	unregister  []func()
}

var (
	_ openfeature.FeatureProvider          = (*Provider)(nil)
	_ openfeature.ContextAwareStateHandler = (*Provider)(nil)
	_ openfeature.EventHandler             = (*Provider)(nil)
)

// New returns a provider that creates its client in Init with switchyard.New(ctx,
// baseURL, sdkKey, opts...), and closes it in Shutdown.
func New(baseURL, sdkKey string, opts ...switchyard.Option) *Provider {
	return &Provider{baseURL: baseURL, sdkKey: sdkKey, opts: opts, owned: true, events: make(chan openfeature.Event, 64)}
}

// FromClient returns a provider over a client the application created and will close
// itself; Init waits until it is ready.
func FromClient(c *switchyard.Client) *Provider {
	return &Provider{client: c, events: make(chan openfeature.Event, 64)}
}

// Client returns the client the provider evaluates with; nil before Init for New's.
func (p *Provider) Client() *switchyard.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client
}

// Metadata names the provider.
func (p *Provider) Metadata() openfeature.Metadata { return openfeature.Metadata{Name: Name} }

// Hooks returns none.
func (p *Provider) Hooks() []openfeature.Hook { return nil }

// EventChannel carries the provider's events to the OpenFeature SDK.
func (p *Provider) EventChannel() <-chan openfeature.Event { return p.events }

// Init is InitWithContext without a deadline other than switchyard.WithStartTimeout.
func (p *Provider) Init(ec openfeature.EvaluationContext) error {
	return p.InitWithContext(context.Background(), ec)
}

// InitWithContext loads the definitions: it returns once they are held, or with an
// error when ctx ends (or WithStartTimeout passes) first. After such an error the
// client keeps trying, and PROVIDER_READY follows when the definitions arrive. A key
// the evaluator refuses, or settings that cannot work, are fatal.
//
// The OpenFeature Go SDK listens to a provider's events only once its initialization
// succeeded when it is registered with SetProviderAndWait: to start while the
// evaluator may be unreachable and hear PROVIDER_READY later, register it with
// SetProvider (asynchronous), or start from a bootstrap (switchyard.WithBootstrapFile).
func (p *Provider) InitWithContext(ctx context.Context, _ openfeature.EvaluationContext) error {
	c := p.Client()
	var err error
	if c == nil {
		c, err = switchyard.New(ctx, p.baseURL, p.sdkKey, p.opts...)
		if c == nil {
			return &openfeature.ProviderInitError{ErrorCode: openfeature.ProviderFatalCode, Message: err.Error()}
		}
	} else {
		err = c.WaitReady(ctx)
		if errors.Is(err, switchyard.ErrKeyRefused) || errors.Is(err, switchyard.ErrClosed) {
			return &openfeature.ProviderInitError{ErrorCode: openfeature.ProviderFatalCode, Message: err.Error()}
		}
	}
	unregister := []func(){c.OnStatus(p.statusChanged), c.OnChange(p.definitionsChanged)}
	p.mu.Lock()
	p.client = c
	p.unregister = unregister
	p.initialized = true
	// The client may have become ready, or been refused, since New returned: the
	// callbacks, registered first, ignored it (not initialized yet), and the answer
	// says it.
	st := c.Status()
	switch {
	case st.State == switchyard.StateError:
		p.mu.Unlock()
		_ = p.ShutdownWithContext(ctx)
		return &openfeature.ProviderInitError{ErrorCode: openfeature.ProviderFatalCode, Message: st.Err.Error()}
	case c.Ready():
		err = nil
	}
	p.mu.Unlock()
	return err
}

// Shutdown is ShutdownWithContext without a deadline.
func (p *Provider) Shutdown() { _ = p.ShutdownWithContext(context.Background()) }

// ShutdownWithContext stops the events and, for a provider made with New, closes the
// client (sending the evaluation counts not yet reported).
func (p *Provider) ShutdownWithContext(ctx context.Context) error {
	p.mu.Lock()
	c, unregister := p.client, p.unregister
	p.unregister, p.initialized = nil, false
	if p.owned {
		p.client = nil
	}
	p.mu.Unlock()
	for _, f := range unregister {
		f()
	}
	if p.owned && c != nil {
		return c.Close(ctx)
	}
	return nil
}

// statusChanged turns the client's status into the provider's state events.
func (p *Provider) statusChanged(s switchyard.Status) {
	e := openfeature.Event{ProviderName: Name}
	e.EventMetadata = map[string]any{"version": s.Version}
	switch s.State {
	case switchyard.StateReady:
		e.EventType, e.Message = openfeature.ProviderReady, fmt.Sprintf("flag definitions version %d", s.Version)
	case switchyard.StateStale:
		e.EventType, e.Message = openfeature.ProviderStale, "cut off from the evaluator: serving the last definitions"
	case switchyard.StateError:
		e.EventType, e.ErrorCode = openfeature.ProviderError, openfeature.ProviderFatalCode
		e.Message = "the evaluator refused the SDK key"
	default:
		return
	}
	if s.Err != nil && s.State != switchyard.StateReady {
		e.Message += ": " + s.Err.Error()
	}
	p.mu.Lock()
	initialized := p.initialized
	p.mu.Unlock()
	if initialized {
		p.emit(e)
	}
}

func (p *Provider) definitionsChanged(ch switchyard.Change) {
	p.mu.Lock()
	initialized := p.initialized
	p.mu.Unlock()
	if !initialized {
		return
	}
	p.emit(openfeature.Event{ProviderName: Name, EventType: openfeature.ProviderConfigChange,
		ProviderEventDetails: openfeature.ProviderEventDetails{
			Message:       fmt.Sprintf("flag definitions version %d", ch.NewVersion),
			FlagChanges:   ch.Flags,
			EventMetadata: map[string]any{"version": ch.NewVersion, "previousVersion": ch.OldVersion},
		}})
}

// emit hands an event to the SDK, which reads the channel while the provider is
// registered. It never blocks, as it runs on the client's callback goroutine: when
// nobody reads (the provider is not registered) and the buffer is full, the event is
// dropped.
func (p *Provider) emit(e openfeature.Event) {
	select {
	case p.events <- e:
	default:
	}
}

// resolve evaluates a flag with the typed method eval, or answers an error detail
// when the provider has no client or the context is invalid.
func resolve[T any](p *Provider, flag string, def T, fc openfeature.FlattenedContext,
	eval func(c *switchyard.Client, ctx *switchyard.Context) (T, switchyard.Result),
) openfeature.GenericResolutionDetail[T] {
	c := p.Client()
	if c == nil {
		return openfeature.GenericResolutionDetail[T]{Value: def, ProviderResolutionDetail: openfeature.ProviderResolutionDetail{
			ResolutionError: openfeature.NewProviderNotReadyResolutionError("the provider is not initialized"),
			Reason:          openfeature.ErrorReason,
		}}
	}
	ctx, err := contextOf(fc)
	if err != nil {
		return openfeature.GenericResolutionDetail[T]{Value: def, ProviderResolutionDetail: openfeature.ProviderResolutionDetail{
			ResolutionError: openfeature.NewInvalidContextResolutionError("targetingKey must be a string"),
			Reason:          openfeature.ErrorReason,
		}}
	}
	v, r := eval(c, &ctx)
	return openfeature.GenericResolutionDetail[T]{Value: v, ProviderResolutionDetail: detail(c, r)}
}

// contextOf reads the evaluation context as the evaluator's OFREP endpoint does: the
// targeting key from targetingKey (or key), every other member an attribute.
func contextOf(fc openfeature.FlattenedContext) (switchyard.Context, error) {
	return eval.ContextOf(fc, openfeature.TargetingKey, "key")
}

// detail maps a result to OpenFeature: reason and variant as they are, error codes to
// OpenFeature's, a flag whose configuration cannot be compiled to PARSE_ERROR, and
// the environment version and rule in the flag metadata.
func detail(c *switchyard.Client, r switchyard.Result) openfeature.ProviderResolutionDetail {
	d := openfeature.ProviderResolutionDetail{
		Reason:       openfeature.Reason(r.Reason),
		Variant:      r.Variant,
		FlagMetadata: openfeature.FlagMetadata{"environmentVersion": c.Version()},
	}
	if r.RuleID != "" {
		d.FlagMetadata["ruleId"] = r.RuleID
	}
	switch r.ErrorCode {
	case "":
		return d
	case switchyard.CodeFlagNotFound:
		d.ResolutionError = openfeature.NewFlagNotFoundResolutionError("flag " + r.Key + " does not exist in this environment")
	case switchyard.CodeTypeMismatch:
		d.ResolutionError = openfeature.NewTypeMismatchResolutionError(r.ErrorMessage)
	case switchyard.CodeTargetingKeyMissing:
		d.ResolutionError = openfeature.NewTargetingKeyMissingResolutionError(
			"this flag rolls out by percentage and needs a targeting key (or its bucketing attribute) in the context")
	case switchyard.CodeNotReady:
		d.ResolutionError = openfeature.NewProviderNotReadyResolutionError(r.ErrorMessage)
	default:
		msg := r.ErrorMessage
		if msg == "" {
			msg = eval.MessageBroken
		}
		if msg == eval.MessageBroken {
			d.ResolutionError = openfeature.NewParseErrorResolutionError(msg)
		} else {
			d.ResolutionError = openfeature.NewGeneralResolutionError(msg)
		}
	}
	d.Reason = openfeature.ErrorReason
	return d
}

// BooleanEvaluation answers a boolean flag.
func (p *Provider) BooleanEvaluation(_ context.Context, flag string, def bool, fc openfeature.FlattenedContext) openfeature.BoolResolutionDetail {
	return resolve(p, flag, def, fc, func(c *switchyard.Client, ctx *switchyard.Context) (bool, switchyard.Result) {
		return c.BoolDetail(flag, ctx, def)
	})
}

// StringEvaluation answers a string flag.
func (p *Provider) StringEvaluation(_ context.Context, flag string, def string, fc openfeature.FlattenedContext) openfeature.StringResolutionDetail {
	return resolve(p, flag, def, fc, func(c *switchyard.Client, ctx *switchyard.Context) (string, switchyard.Result) {
		return c.StringDetail(flag, ctx, def)
	})
}

// FloatEvaluation answers a number flag.
func (p *Provider) FloatEvaluation(_ context.Context, flag string, def float64, fc openfeature.FlattenedContext) openfeature.FloatResolutionDetail {
	return resolve(p, flag, def, fc, func(c *switchyard.Client, ctx *switchyard.Context) (float64, switchyard.Result) {
		return c.NumberDetail(flag, ctx, def)
	})
}

// MessageNotInteger is the error message of an integer asked of a number flag whose
// value is not one.
const MessageNotInteger = "the flag's value is not an integer"

// IntEvaluation answers a number flag whose value is an integer.
func (p *Provider) IntEvaluation(_ context.Context, flag string, def int64, fc openfeature.FlattenedContext) openfeature.IntResolutionDetail {
	return resolve(p, flag, def, fc, func(c *switchyard.Client, ctx *switchyard.Context) (int64, switchyard.Result) {
		v, r := c.NumberDetail(flag, ctx, float64(def))
		if r.ErrorCode != "" {
			return def, r
		}
		if v != math.Trunc(v) || v < math.MinInt64 || v >= math.MaxInt64 {
			r.Reason, r.ErrorCode, r.ErrorMessage = switchyard.ReasonError, switchyard.CodeTypeMismatch, MessageNotInteger
			return def, r
		}
		return int64(v), r
	})
}

// ObjectEvaluation answers a json flag. The value is shared: do not modify it.
func (p *Provider) ObjectEvaluation(_ context.Context, flag string, def any, fc openfeature.FlattenedContext) openfeature.InterfaceResolutionDetail {
	return resolve(p, flag, def, fc, func(c *switchyard.Client, ctx *switchyard.Context) (any, switchyard.Result) {
		return c.JSONDetail(flag, ctx, def)
	})
}
