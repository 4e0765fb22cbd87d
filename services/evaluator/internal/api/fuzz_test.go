package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
	"github.com/switchyard/switchyard/services/evaluator/internal/api"
	"github.com/switchyard/switchyard/services/evaluator/internal/snapshots"
	"github.com/switchyard/switchyard/services/evaluator/internal/streams"
)

// memorySnapshots serves one compiled snapshot, with no store behind it.
type memorySnapshots struct{ snap *eval.Snapshot }

func (m memorySnapshots) Get(context.Context, string) (*eval.Snapshot, error) { return m.snap, nil }

func (m memorySnapshots) AtLeast(context.Context, string, int64) (*eval.Snapshot, error) {
	return m.snap, nil
}

func (m memorySnapshots) Definitions(context.Context, string, int64) (*snapshots.Definitions, error) {
	return nil, errors.New("no definitions in memory")
}

// fuzzSnapshot holds a flag of each kind of serve the engine has: a rule on an
// attribute, a rollout by key and by attribute, a prerequisite, a disabled flag.
func fuzzSnapshot() *eval.Snapshot {
	rollout := func(by string) domain.Config {
		return domain.Config{Enabled: true, OffVariant: "off",
			Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 50, "off": 50}, BucketBy: by}}}
	}
	semver := domain.Rule{ID: "new-app", Conditions: []domain.Condition{
		{Attribute: "app.version", Operator: domain.OpSemverGt, Values: []any{"2.0.0"}},
		{Attribute: "plan", Operator: domain.OpIn, Values: []any{"pro", "enterprise", 3}},
	}, Serve: domain.Serve{Variant: "on"}}
	dependent := fixture.On()
	dependent.Prerequisites = []domain.Prerequisite{{Flag: "new-checkout", Variant: "on"}}
	return eval.Compile(domain.Snapshot{EnvironmentID: "env-1", Version: 3, Flags: []domain.FlagConfig{
		fixture.Bool("new-checkout", fixture.On(staff, semver)),
		fixture.Bool("rollout", rollout("")),
		fixture.Bool("org/rollout", rollout("company.id")),
		fixture.Bool("dependent", dependent),
		fixture.Bool("disabled", domain.Config{OffVariant: "off", Default: domain.Serve{Variant: "on"}}),
	}})
}

// FuzzRequestDecoding feeds arbitrary request targets (a flag key with a query string)
// and bodies through the evaluator's real HTTP stack: the native and OFREP evaluate
// bodies, and the query string that becomes the context of GET /api/v1/evaluate/{flag}.
// Nothing may panic (the recover middleware would count it and answer 500), and every
// answer is a success or a client error with a well-formed body: never a 5xx.
func FuzzRequestDecoding(f *testing.F) {
	f.Add("new-checkout?key=u1&email=a@acme.com", []byte(`{"context":{"key":"u1","email":"a@acme.com"},"flags":["new-checkout","ghost"]}`))
	var panics panicCount
	h := api.New(slog.New(slog.DiscardHandler), api.Deps{Snapshots: memorySnapshots{fuzzSnapshot()}, Keys: fixedKeys{}, Counter: nopCounter{},
		Streams: streams.New(streams.Options{PerKey: 1, Max: 1}), Tokens: streams.NewTokens(nil, time.Minute)},
		api.Live{Heartbeat: time.Second}, api.Options{MaxBodyBytes: 64 << 10, Panics: &panics})
	f.Fuzz(func(t *testing.T, target string, body []byte) {
		type request struct {
			method, target string
			body           []byte
		}
		reqs := []request{
			{http.MethodPost, "/api/v1/evaluate", body},
			{http.MethodPost, "/ofrep/v1/evaluate/flags", body},
			{http.MethodPost, "/ofrep/v1/evaluate/flags/" + target, body},
			{http.MethodGet, "/api/v1/evaluate/" + target, nil},
		}
		for _, r := range reqs {
			u, err := url.ParseRequestURI(r.target)
			if err != nil {
				continue // net/http answers 400 before any handler runs
			}
			req := httptest.NewRequest(r.method, "/", bytes.NewReader(r.body))
			req.URL, req.RequestURI = u, u.RequestURI()
			req.Header.Set("Authorization", "Bearer sy_sdk_fuzz")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if panics.n > 0 {
				t.Fatalf("%s %q with %q panicked", r.method, r.target, r.body)
			}
			switch rec.Code {
			case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
			default:
				t.Fatalf("%s %q with %q: status %d: %s", r.method, r.target, r.body, rec.Code, rec.Body)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s %q with %q: %d with a body that is not JSON: %q", r.method, r.target, r.body, rec.Code, rec.Body)
			}
		}
	})
}
