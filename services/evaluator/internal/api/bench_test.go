package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
)

// BenchmarkHandler measures the full HTTP handler (middleware, key check, snapshot
// lookup, evaluation, JSON) in process, for an environment of 100 flags with a rule
// each: the network and the client are not in the figure.
func BenchmarkHandler(b *testing.B) {
	h := newHarness(b, newDB(b), testinfra.RedisURL(b), defaults())
	for i := range 100 {
		h.env.Flag(fixture.Bool(fmt.Sprintf("flag-%03d", i), fixture.On(domain.Rule{ID: "staff",
			Conditions: []domain.Condition{{Attribute: "email", Operator: domain.OpEndsWith, Values: []any{"@acme.com"}}},
			Serve:      domain.Serve{Variant: "off"}})))
	}
	cases := []struct {
		name, path, body string
	}{
		{"ofrep-single", "/ofrep/v1/evaluate/flags/flag-042", `{"context":{"targetingKey":"user-42","email":"a@example.com","plan":"pro"}}`},
		{"api-single", "/api/v1/evaluate", `{"context":{"key":"user-42","email":"a@example.com"},"flags":["flag-042"]}`},
		{"ofrep-bulk-100", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"user-42","email":"a@example.com","plan":"pro"}}`},
		{"api-bulk-100", "/api/v1/evaluate", `{"context":{"key":"user-42","email":"a@example.com"}}`},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			serve := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(c.body))
				req.Header.Set("Authorization", "Bearer "+h.env.Key)
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.handler.ServeHTTP(rec, req)
				return rec
			}
			if rec := serve(); rec.Code != 200 {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}
